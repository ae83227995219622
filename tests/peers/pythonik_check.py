#!/usr/bin/env python3
"""Independent client check: nsa-pythonik (import name `pythonik`) registers an asset, an
ORIGINAL format, a file set and a file against a card-ingest sandbox through its own models,
then creates a proxy, starts its GCS resumable session with pythonik's own
`get_upload_id_for_proxy` (which needs `X-GUploader-UploadID`), uploads the bytes in one PUT
and closes the proxy.

Usage: pythonik_check.py BASE_URL APP_ID TOKEN

Prints one JSON line with the ids it created (the Rust test compares them with
/sandbox/state). Exits non-zero with a message on the first failure.

Setup (CI does this): python3 -m venv target/peers-venv &&
target/peers-venv/bin/pip install nsa-pythonik
"""

import json
import sys


PROXY_BYTES = bytes(range(256)) * 1000
PROXY_SIZE = len(PROXY_BYTES)


def fail(message):
    print(f"pythonik_check: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def expect(resp, what, status):
    """pythonik returns Response(response=requests.Response, data=model or None)."""
    code = resp.response.status_code
    if code != status:
        fail(f"{what}: HTTP {code} (expected {status}): {resp.response.text}")
    if resp.data is None:
        fail(f"{what}: pythonik could not parse the response: {resp.response.text}")
    return resp.data


def main(argv):
    if len(argv) != 4:
        fail("usage: pythonik_check.py BASE_URL APP_ID TOKEN")
    base_url, app_id, token = argv[1], argv[2], argv[3]
    try:
        from pythonik.client import PythonikClient
        from pythonik.models.assets.assets import AssetCreate
        from pythonik.models.files.file import FileCreate, FileSetCreate
        from pythonik.models.files.format import Component, FormatCreate
        from pythonik.models.files.proxy import Proxy
        import requests
    except ImportError as err:
        fail(f"cannot import pythonik ({err}); install it with: pip install nsa-pythonik")

    client = PythonikClient(app_id=app_id, auth_token=token, timeout=10, base_url=base_url)

    storages = expect(client.files().get_storages(), "list storages", 200)
    files_storage = next((s for s in storages.objects if s.purpose == "FILES"), None)
    if files_storage is None:
        fail("no FILES storage listed")

    # AssetCreate's date fields default to datetime.now(); mode="json" makes them strings.
    asset_model = AssetCreate(title="pythonik peer clip", type="ASSET", status="ACTIVE",
                              is_online=True, external_id="pythonik-peer-1")
    asset_body = asset_model.model_dump(mode="json", exclude_defaults=True)
    asset = expect(client.assets().create(asset_body), "create asset", 201)
    if not asset.id or asset.title != "pythonik peer clip":
        fail(f"asset response lacks id/title: {asset}")
    version_id = asset.versions[0].id if asset.versions else None

    fmt_model = FormatCreate(
        name="ORIGINAL",
        metadata=[{"format": "MPEG-4"}],
        components=[
            Component(name="VIDEO", type="VIDEO", metadata={"width": "1920", "height": "1080"}),
            Component(name="AUDIO", type="AUDIO", metadata={"channels": "2"}),
        ],
    )
    fmt = expect(client.files().create_asset_format(asset.id, fmt_model), "create format", 201)
    component_ids = [c.id for c in fmt.components]
    if len(component_ids) != 2 or not all(component_ids):
        fail(f"format components lack server-made ids: {fmt.components}")

    fs_model = FileSetCreate(format_id=fmt.id, name="GX010001.MP4", storage_id=files_storage.id,
                             base_dir="cards/GOPRO/DCIM/100GOPRO", component_ids=component_ids)
    file_set = expect(client.files().create_asset_file_sets(asset.id, fs_model),
                      "create file set", 201)

    file_model = FileCreate(file_set_id=file_set.id, format_id=fmt.id, storage_id=files_storage.id,
                            name="GX010001.MP4", original_name="GX010001.MP4", size=123456,
                            type="FILE", directory_path="cards/GOPRO/DCIM/100GOPRO",
                            status="CLOSED", checksum="0123456789abcdef0123456789abcdef")
    file = expect(client.files().create_asset_file(asset.id, file_model), "create file", 201)
    if file.file_set_id != file_set.id or file.size != 123456:
        fail(f"file response not linked: {file}")

    proxy_model = Proxy(name="GX010001_proxy.mp4", filename="GX010001_proxy.mp4", format="mp4",
                        codec="h264", frame_rate="25", size=PROXY_SIZE)
    proxy = expect(client.files().create_asset_proxy(asset.id, proxy_model), "create proxy", 201)
    if proxy.storage_method != "GCS" or not proxy.upload_url:
        fail(f"proxy has no GCS upload_url: {proxy}")
    started = client.files().get_upload_id_for_proxy(asset.id, proxy.id)
    if started.response.status_code not in (200, 201) or not started.data:
        fail(f"GCS session start: HTTP {started.response.status_code}: {started.response.text}")
    upload_id = started.data
    # SYN's variant (iconik-api.md §8.1): the signed URL plus &upload_id= is the session URI.
    put = requests.put(f"{proxy.upload_url}&upload_id={upload_id}", data=PROXY_BYTES,
                       headers={"Content-Type": "application/octet-stream"}, timeout=10)
    if put.status_code not in (200, 201):
        fail(f"proxy upload: HTTP {put.status_code}: {put.text}")
    closed = expect(client.files().update_asset_proxy(asset.id, proxy.id, Proxy(status="CLOSED")),
                    "close proxy", 200)
    if closed.status != "CLOSED":
        fail(f"proxy not CLOSED: {closed}")

    again = expect(client.assets().get(asset.id), "get asset", 200)
    if again.id != asset.id:
        fail("asset read back with another id")

    print(json.dumps({
        "asset_id": asset.id,
        "version_id": version_id,
        "format_id": fmt.id,
        "component_ids": component_ids,
        "file_set_id": file_set.id,
        "file_id": file.id,
        "storage_id": files_storage.id,
        "proxy_id": proxy.id,
        "upload_id": upload_id,
        "proxy_bytes": len(PROXY_BYTES),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
