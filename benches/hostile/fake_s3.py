#!/usr/bin/env python3
"""A misbehaving fake S3 for benches/hostile/run.py (standard library only).

An asyncio HTTP/1.1 server on 127.0.0.1 that ignores authentication (SigV4
headers are accepted unread) and answers path-style requests
`GET|HEAD /<bucket>/<key>` for any bucket name:

- `trickle/<anything>`: `200` with `Content-Length: 65536`, then the body one
  byte per second (the first bytes of a real JPEG), until the client goes
  away or `--trickle-max` seconds have passed (then the connection is cut).
- `slow/<file>`: the corpus file `<file>`, after `--slow-delay-ms` of
  silence before the status line.
- anything else: the corpus file `<key>` under `--root`, with `ETag`,
  `Last-Modified`, `Content-Length`; `If-None-Match` answers `304`, a single
  `Range: bytes=…` answers `206`; a missing key is `404 NoSuchKey`.
- `HEAD /<bucket>` (the readiness probe's HeadBucket) is `200`.
- `GET /__stats` (no bucket) returns JSON: requests per key and how long each
  trickled response lasted before its client hung up.

Usage: fake_s3.py --root DIR [--port 0] — prints `PORT <n>` on stdout once
listening. Every connection is bounded: 30 s of idle keep-alive at most,
64 KiB of request head at most.
"""

import argparse
import asyncio
import email.utils
import hashlib
import json
import os
import sys
import time
import urllib.parse

TRICKLE_LENGTH = 65536
IDLE_TIMEOUT_S = 30.0
MAX_HEAD = 65536

STATS = {"requests": {}, "trickles": []}


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def response_head(status: int, reason: str, headers: list) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines.append(f"Date: {http_date(time.time())}")
    lines.append("Server: fake-s3")
    lines.append("x-amz-request-id: FAKE0000000000000000")
    for name, value in headers:
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def error_xml(code: str, message: str, key: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<Key>{key}</Key><RequestId>FAKE</RequestId></Error>"
    ).encode()


class FakeS3:
    def __init__(self, root: str, slow_delay_s: float, trickle_max_s: float, seed_file: str):
        self.root = os.path.realpath(root)
        self.slow_delay_s = slow_delay_s
        self.trickle_max_s = trickle_max_s
        seed = os.path.join(self.root, seed_file)
        try:
            with open(seed, "rb") as f:
                self.trickle_bytes = f.read(TRICKLE_LENGTH)
        except OSError:
            self.trickle_bytes = b""
        if len(self.trickle_bytes) < TRICKLE_LENGTH:
            self.trickle_bytes += b"\0" * (TRICKLE_LENGTH - len(self.trickle_bytes))
        self._files = {}

    def load(self, key: str):
        """(bytes, etag, mtime) of a corpus file, or None."""
        if key in self._files:
            return self._files[key]
        path = os.path.realpath(os.path.join(self.root, key))
        if not path.startswith(self.root + os.sep) or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            data = f.read()
        entry = (data, '"' + hashlib.md5(data).hexdigest() + '"', os.stat(path).st_mtime)
        self._files[key] = entry
        return entry

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT_S)
                except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, _version = lines[0].split(" ", 2)
                except ValueError:
                    return
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await asyncio.wait_for(reader.readexactly(length), IDLE_TIMEOUT_S)
                keep = await self.respond(method, target, headers, writer)
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            return
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def respond(self, method: str, target: str, headers: dict, writer) -> bool:
        """Writes one response; False when the connection must close after it."""
        path = urllib.parse.urlsplit(target).path
        if path == "/__stats":
            body = json.dumps(STATS).encode()
            writer.write(response_head(200, "OK", [("Content-Type", "application/json"), ("Content-Length", len(body))]) + body)
            await writer.drain()
            return True
        parts = path.lstrip("/").split("/", 1)
        key = urllib.parse.unquote(parts[1]) if len(parts) == 2 else ""
        head_only = method == "HEAD"
        if method not in ("GET", "HEAD"):
            body = error_xml("MethodNotAllowed", "Only GET and HEAD.", key)
            writer.write(response_head(405, "Method Not Allowed", [("Content-Type", "application/xml"), ("Content-Length", len(body))]) + body)
            await writer.drain()
            return True
        if not key:
            # HeadBucket / ListObjects: the bucket exists.
            writer.write(response_head(200, "OK", [("Content-Length", 0)]))
            await writer.drain()
            return True
        STATS["requests"][f"{method} {key}"] = STATS["requests"].get(f"{method} {key}", 0) + 1
        if key.startswith("trickle/"):
            return await self.trickle(key, head_only, writer)
        if key.startswith("slow/"):
            await asyncio.sleep(self.slow_delay_s)
            key = key[len("slow/"):]
        entry = self.load(key)
        if entry is None:
            body = error_xml("NoSuchKey", "The specified key does not exist.", key)
            writer.write(response_head(404, "Not Found", [("Content-Type", "application/xml"), ("Content-Length", len(body))]) + (b"" if head_only else body))
            await writer.drain()
            return True
        data, etag, mtime = entry
        common = [("ETag", etag), ("Last-Modified", http_date(mtime)), ("Accept-Ranges", "bytes"), ("Content-Type", "image/jpeg")]
        inm = headers.get("if-none-match")
        if inm and (inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]):
            writer.write(response_head(304, "Not Modified", common))
            await writer.drain()
            return True
        status, reason, body, extra = 200, "OK", data, []
        rng = headers.get("range", "")
        if rng.startswith("bytes=") and "," not in rng:
            first, _, last = rng[len("bytes="):].partition("-")
            size = len(data)
            try:
                if first == "":
                    start, end = max(0, size - int(last)), size - 1
                else:
                    start = int(first)
                    end = min(int(last), size - 1) if last else size - 1
            except ValueError:
                start, end = 0, size - 1
            if start >= size or start > end:
                body = error_xml("InvalidRange", "The requested range is not satisfiable", key)
                writer.write(response_head(416, "Range Not Satisfiable", [("Content-Range", f"bytes */{size}"), ("Content-Length", len(body))]) + (b"" if head_only else body))
                await writer.drain()
                return True
            status, reason, body = 206, "Partial Content", data[start:end + 1]
            extra = [("Content-Range", f"bytes {start}-{end}/{size}")]
        writer.write(response_head(status, reason, common + extra + [("Content-Length", len(body))]) + (b"" if head_only else body))
        await writer.drain()
        return True

    async def trickle(self, key: str, head_only: bool, writer) -> bool:
        head = response_head(200, "OK", [
            ("ETag", '"trickle-' + hashlib.md5(key.encode()).hexdigest() + '"'),
            ("Last-Modified", http_date(0)),
            ("Content-Type", "image/jpeg"),
            ("Content-Length", TRICKLE_LENGTH),
        ])
        writer.write(head)
        await writer.drain()
        if head_only:
            return True
        started = time.monotonic()
        sent = 0
        record = {"key": key, "bytes": 0, "lasted_s": None, "ended": "cut"}
        STATS["trickles"].append(record)
        try:
            while time.monotonic() - started < self.trickle_max_s:
                writer.write(self.trickle_bytes[sent:sent + 1])
                await writer.drain()
                sent += 1
                record["bytes"] = sent
                await asyncio.sleep(1.0)
                if writer.is_closing() or writer.transport.get_extra_info("socket") is None:
                    record["ended"] = "client closed"
                    break
        except (ConnectionError, OSError):
            record["ended"] = "client closed"
        record["lasted_s"] = round(time.monotonic() - started, 2)
        return False  # the body is unfinished: the connection cannot be reused


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", required=True, help="corpus directory served as every bucket")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--slow-delay-ms", type=int, default=1500)
    ap.add_argument("--trickle-max", type=float, default=120.0, help="seconds a trickle lasts at most")
    ap.add_argument("--trickle-seed", default="concert-400x267.jpg", help="corpus file whose bytes are trickled")
    ap.add_argument("--lifetime", type=float, default=600.0, help="exit after this many seconds regardless")
    args = ap.parse_args()
    fake = FakeS3(args.root, args.slow_delay_ms / 1000.0, args.trickle_max, args.trickle_seed)
    server = await asyncio.start_server(fake.handle, "127.0.0.1", args.port, limit=MAX_HEAD, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        try:
            await asyncio.wait_for(server.serve_forever(), args.lifetime)
        except asyncio.TimeoutError:
            pass


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
