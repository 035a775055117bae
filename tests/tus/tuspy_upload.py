"""Upload an image to Limelight with tuspy, halfway then resumed, and check the
asset it became. Reads LIMELIGHT_URL and LIMELIGHT_TOKEN; exits non-zero on any
mismatch."""

import hashlib
import io
import json
import os
import struct
import sys
import urllib.request
import zlib

from tusclient import client


def png(width, height):
    """A PNG of distinct pixels, written by hand."""
    rows = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in (x * 7 % 256, y * 13 % 256, (x * y) % 256))
        for y in range(height)
    )

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )


def get(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def main():
    base, token = os.environ["LIMELIGHT_URL"], os.environ["LIMELIGHT_TOKEN"]
    data = png(120, 80)
    tus = client.TusClient(f"{base}/api/v1/uploads", headers={"Authorization": f"Bearer {token}"})
    first = tus.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=1024,
        metadata={"name": "tuspy picture", "filename": "picture.png", "filetype": "image/png"},
    )
    first.upload(stop_at=len(data) // 2)
    url = first.url
    # A new client, as after a restart, resumes from the server's offset.
    resumed = tus.uploader(file_stream=io.BytesIO(data), url=url, chunk_size=1024)
    start = resumed.offset
    if not len(data) // 2 <= start < len(data):
        sys.exit(f"the server's offset {start} is not where the first client stopped")
    resumed.upload()
    upload = get(url if url.startswith("http") else base + url, token)
    if upload["offset"] != len(data) or not upload["asset"]:
        sys.exit(f"the upload did not complete: {upload}")
    asset = get(f"{base}/api/v1/assets/{upload['asset']}", token)
    version = asset["versions"][0]
    expected = hashlib.sha256(data).hexdigest()
    if version["sha256"] != expected or (version["width"], version["height"]) != (120, 80):
        sys.exit(f"the asset does not match the file: {asset}")
    print(f"tuspy uploaded {len(data)} bytes in 1 KiB chunks, resumed at {start}; sha256 {expected}")


if __name__ == "__main__":
    main()
