/* TEST-ONLY shim for running card-ingest.exe under Debian 12's wine 8.0, never shipped.
 *
 * Rust's std (1.78+) gets random bytes from ProcessPrng in bcryptprimitives.dll, which real
 * Windows 10+ has and wine 8 lacks, so the .exe fails to load there. This DLL exports ProcessPrng
 * on top of RtlGenRandom (advapi32's SystemFunction036). .ci/packages builds it with mingw and puts
 * it beside the installed .exe inside the throw-away WINEPREFIX only.
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
