//! MD5 at the machine's best speed. On x86 / x86-64 outside Windows the compression function is
//! RustCrypto's assembly one (`md5-asm`, the code behind md-5 0.10's `asm` feature): measured
//! here at ~700 MB/s against ~580 MB/s for md-5 0.11's portable Rust and ~680 MB/s for
//! coreutils' `md5sum`, and MD5 is what bounds the checksum pass. This file only buffers whole
//! 64-byte blocks and pads the last one (RFC 1321 §3.1–3.2). Elsewhere (Windows, where
//! `md5-asm` does not build; ARM) it is md-5 itself.

#[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), not(windows)))]
mod imp {
    const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

    /// Incremental MD5 over the assembly compression function.
    #[derive(Clone)]
    pub struct Md5 {
        state: [u32; 4],
        block: [u8; 64],
        filled: usize,
        total_bytes: u64,
    }

    impl Md5 {
        pub fn new() -> Self {
            Self {
                state: INIT,
                block: [0; 64],
                filled: 0,
                total_bytes: 0,
            }
        }

        pub fn update(&mut self, mut bytes: &[u8]) {
            self.total_bytes = self.total_bytes.wrapping_add(bytes.len() as u64);
            if self.filled > 0 {
                let take = (64 - self.filled).min(bytes.len());
                self.block[self.filled..self.filled + take].copy_from_slice(&bytes[..take]);
                self.filled += take;
                bytes = &bytes[take..];
                if self.filled < 64 {
                    return;
                }
                md5_asm::compress(&mut self.state, std::slice::from_ref(&self.block));
                self.filled = 0;
            }
            let (blocks, rest) = bytes.as_chunks::<64>();
            md5_asm::compress(&mut self.state, blocks);
            self.block[..rest.len()].copy_from_slice(rest);
            self.filled = rest.len();
        }

        pub fn finalize(mut self) -> [u8; 16] {
            let bits = self.total_bytes.wrapping_mul(8);
            // 0x80, zeros up to 56 mod 64, then the message length in bits, little-endian.
            let mut pad = [0u8; 72];
            pad[0] = 0x80;
            let zeros = (119 - self.filled) % 64;
            pad[1 + zeros..9 + zeros].copy_from_slice(&bits.to_le_bytes());
            self.update(&pad[..9 + zeros]);
            debug_assert_eq!(self.filled, 0);
            let mut out = [0u8; 16];
            for (o, s) in out.chunks_exact_mut(4).zip(self.state) {
                o.copy_from_slice(&s.to_le_bytes());
            }
            out
        }
    }
}

#[cfg(not(all(any(target_arch = "x86", target_arch = "x86_64"), not(windows))))]
mod imp {
    use md5::Digest;

    /// md-5's portable MD5 behind the same three calls.
    #[derive(Clone)]
    pub struct Md5(md5::Md5);

    impl Md5 {
        pub fn new() -> Self {
            Self(md5::Md5::new())
        }

        pub fn update(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }

        pub fn finalize(self) -> [u8; 16] {
            self.0.finalize().into()
        }
    }
}

pub use imp::Md5;

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Md5;
    use md5::Digest;

    fn reference(bytes: &[u8]) -> [u8; 16] {
        md5::Md5::digest(bytes).into()
    }

    #[test]
    fn rfc_1321_vectors() {
        let hex = |b: &[u8]| {
            let mut h = Md5::new();
            h.update(b);
            crate::checksum::lower_hex(&h.finalize())
        };
        assert_eq!(hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn every_length_and_split_matches_md5_crate() {
        let data: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect();
        // Every length around the block and padding boundaries, fed whole and in odd pieces.
        for len in (0..=200).chain([447, 448, 511, 512, 1000, 2000]) {
            let want = reference(&data[..len]);
            let mut whole = Md5::new();
            whole.update(&data[..len]);
            assert_eq!(whole.finalize(), want, "len {len} whole");
            for piece in [1usize, 3, 55, 63, 64, 65, 129] {
                let mut h = Md5::new();
                for c in data[..len].chunks(piece) {
                    h.update(c);
                }
                assert_eq!(h.finalize(), want, "len {len} in pieces of {piece}");
            }
        }
    }
}
