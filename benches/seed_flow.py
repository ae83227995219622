#!/usr/bin/env python3
"""The reference of the bench's API line: iconik's seed flow (TUT-MAG: storages, then per clip
asset, ORIGINAL format, file set, one file record per member file) done one call after another
with plain HTTP (urllib), as a small script would.

The bodies come from a card-ingest transcript of the same card (`--transcript`), so both sides
register exactly the same objects; ids are remapped to the ones this run receives. Look-ups,
searches and everything else in the transcript are left out: they are not part of the seed flow.

usage: seed_flow.py TRANSCRIPT BASE_URL   (ICONIK_APP_ID / ICONIK_AUTH_TOKEN in the environment)
"""
import json
import os
import re
import sys
import urllib.error
import urllib.request

transcript, base = sys.argv[1], sys.argv[2].rstrip("/")
headers = {
    "App-ID": os.environ["ICONIK_APP_ID"],
    "Auth-Token": os.environ["ICONIK_AUTH_TOKEN"],
    "Content-Type": "application/json",
}
calls = 0


def call(method, path, body=None):
    global calls
    calls += 1
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path} -> {e.code}: {e.read()[:600]!r}\nbody: {json.dumps(body)[:600]}")


# Parse the transcript: "# N. ... → 201, id X" then the curl line, then an optional heredoc.
text = open(transcript, encoding="utf-8").read()
blocks = []
lines = text.splitlines()
i = 0
while i < len(lines):
    line = lines[i]
    m = re.match(r"curl .* -X (\w+) '([^']+)'", line)
    if m:
        comment = next((lines[j] for j in range(i - 1, max(i - 4, -1), -1) if lines[j].startswith("# ")), "")
        old_id = re.search(r"→ 20\d, id ([0-9a-f-]{36})", comment)
        body = None
        if line.rstrip().endswith("<<'JSON'"):
            end = lines.index("JSON", i + 1)
            body = json.loads("\n".join(lines[i + 1:end]))
            i = end
        path = re.sub(r"^https?://[^/]+", "", m.group(2))
        blocks.append((m.group(1), path, body, old_id.group(1) if old_id else None))
    i += 1

CREATES = [
    ("asset", re.compile(r"^/API/assets/v1/assets/$")),
    ("format", re.compile(r"^/API/files/v1/assets/[^/]+/formats/$")),
    ("file_set", re.compile(r"^/API/files/v1/assets/[^/]+/file_sets/$")),
    ("file", re.compile(r"^/API/files/v1/assets/[^/]+/files/$")),
]

ids = {}  # old id -> new id
storages = call("GET", "/API/files/v1/storages/?page=1&per_page=100")["objects"]
files_storage = next(s["id"] for s in storages if s.get("purpose") == "FILES")
# Per asset (clips run interleaved in the transcript): its version and its format's components.
versions = {}
components = {}


def remap(value):
    if isinstance(value, str):
        for old, new in ids.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [remap(v) for v in value]
    if isinstance(value, dict):
        return {k: remap(v) for k, v in value.items()}
    return value


for method, path, body, old in blocks:
    kind = next((k for k, rx in CREATES if method == "POST" and rx.match(path)), None)
    if kind is None:
        continue
    body = remap(body or {})
    path = remap(path)
    asset = path.split("/")[5] if kind != "asset" else None
    if "storage_id" in body:
        body["storage_id"] = files_storage
    if kind == "format" and "version_id" in body:
        body["version_id"] = versions[asset]
    if kind == "file_set" and "component_ids" in body:
        body["component_ids"] = components[asset][: len(body["component_ids"])]
    resp = call(method, path, body)
    if old:
        ids[old] = resp["id"]
    if kind == "asset":
        versions[resp["id"]] = (resp.get("versions") or [{}])[0].get("id")
    if kind == "format":
        components[asset] = [c["id"] for c in resp.get("components", [])]

print(f"seed flow: {calls} calls")
