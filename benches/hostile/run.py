#!/usr/bin/env python3
"""Hostile load against pixgate (issue 13), bounded in count and time, loopback only.

Six scenarios, each against a fresh `pixgate serve` on 127.0.0.1 (and a fake
S3, fake_s3.py, beside it):

1. 5,000 silent TCP sockets + 1,000 sockets that send only the h2c preface,
   while /healthz is polled on fresh connections every 100 ms by a separate
   process: /healthz must answer in < 50 ms throughout, and every hostile
   socket must be closed by the server about server.header_read_timeout_ms
   after it connected.
2. Six sources trickling at 1 byte/s from the fake S3, plus one normal
   thumbnail: the normal one answers (200 or 503) within the request deadline
   + 1 s, every trickling one gets 504 at its deadline.
3. `resize,m_fixed,w_4096,h_4096,limit_0/blur,r_50,s_50` on a 400x267 JPEG:
   refused with 400 in < 100 ms.
4. `blur,r_50,s_50` on the 12 MP photo with request_timeout_ms = 1000, then
   the heaviest blur the cost model accepts: each answered within 2 s, and a
   following small request answers 200 in < 500 ms (the worker is free).
5. SIGTERM while blurs of the 12 MP photo run and queue on one worker: the
   process exits within server.shutdown_timeout_ms + 1 s.
6. 200 concurrent identical requests for one uncached (slow) S3 source,
   result cache on: only 200s and 503s, no more than admission.max_queued
   waiting.

Writes a markdown table to benches/hostile/RESULTS.md (with the date, the
machine and the configuration) and exits 1 if a target is missed, 2 if the
harness itself could not run (build failure, pixgate not starting...).

Usage: python3 benches/hostile/run.py [--no-build] [--bin PATH] [--keep] [--only 1,6]
Standard library only; Python 3.11.
"""

import argparse
import asyncio
import datetime
import errno
import json
import math
import os
import platform
import re
import resource
import select
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.realpath(os.environ.get("PIXGATE_CORPUS", os.path.join(REPO, "..", "shared", "corpus", "photos")))
RESULTS = os.path.join(HERE, "RESULTS.md")

H2C_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SMALL = "concert-400x267.jpg"
BIG = "phone-4032x3024.jpg"

# Hostile socket counts (scenario 1) and concurrent requests (scenario 6).
SILENT = 5000
H2C = 1000
BURST = 200
CONNECT_TIMEOUT_S = 5.0
# The whole run (after the build) is cut off past this many seconds.
BUDGET_S = 280

# What every scenario runs with, then each scenario's overrides.
BASE = {
    "server": {
        "header_read_timeout_ms": 2000,
        "max_connections": 4096,
        "shutdown_timeout_ms": 2000,
    },
    "admission": {
        "max_concurrent": 2,
        "max_queued": 16,
        "request_timeout_ms": 3000,
    },
    "upstream": {
        "connect_timeout_ms": 3000,
        "read_timeout_ms": 30000,
    },
}
OVERRIDES = {
    "1": {},
    "2": {},
    "3": {"admission": {"max_concurrent": 1, "request_timeout_ms": 30000}},
    "4": {"admission": {"max_concurrent": 1, "request_timeout_ms": 1000}},
    "5": {"admission": {"max_concurrent": 1, "request_timeout_ms": 30000}},
    "6": {"admission": {"request_timeout_ms": 10000}},
}
SLOW_DELAY_MS = 1500  # fake S3: silence before answering slow/<file> (scenario 6)

CHILDREN = []  # every Popen this script started, for the cleanup


# ---------------------------------------------------------------- utilities

def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def kill_children() -> None:
    for p in CHILDREN:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except Exception:
                pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def merge(base: dict, over: dict) -> dict:
    out = {k: dict(v) for k, v in base.items()}
    for section, values in over.items():
        out.setdefault(section, {}).update(values)
    return out


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v)  # a TOML basic string for what we write


def percentile(values, p: float):
    if not values:
        return None
    s = sorted(values)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)]


def ms(v) -> str:
    return "–" if v is None else f"{v:,.0f} ms" if v >= 10 else f"{v:.1f} ms"


def counts(items) -> str:
    c = {}
    for i in items:
        c[i] = c.get(i, 0) + 1
    return ", ".join(f"{k}×{n}" for k, n in sorted(c.items(), key=lambda kv: str(kv[0])))


def fmt_gauge(v) -> str:
    return "?" if v is None else f"{v:.0f}"


def error_code(body: bytes) -> tuple:
    """(Code, Message) of an OSS XML error body."""
    code = re.search(rb"<Code>([^<]{1,64})</Code>", body)
    msg = re.search(rb"<Message>([^<]{1,400})</Message>", body)
    return (code.group(1).decode() if code else None,
            msg.group(1).decode("utf-8", "replace") if msg else None)


def outcome(r: dict) -> str:
    """200, 503/ServiceUnavailable, or the transport error."""
    if r["status"] is None:
        return r["error"] or "no answer"
    return f"{r['status']}/{r['code']}" if r["code"] else str(r["status"])


# ------------------------------------------------------------ HTTP clients

async def http_request(port: int, path: str, timeout: float, method: str = "GET") -> dict:
    """One request on a fresh connection (Connection: close), fully bounded."""
    t0 = time.monotonic()
    out = {"status": None, "ms": None, "error": None, "code": None, "message": None, "sent": None, "end": None}
    writer = None

    async def go():
        nonlocal writer
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     f"User-Agent: pixgate-hostile\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        out["sent"] = time.monotonic()
        return await reader.read()

    try:
        data = await asyncio.wait_for(go(), timeout)
        if data.startswith(b"HTTP/"):
            out["status"] = int(data.split(b" ", 2)[1])
            if out["status"] >= 400:
                out["code"], out["message"] = error_code(data[:8192])
        else:
            out["error"] = "closed without a response" if not data else "garbled response"
    except asyncio.TimeoutError:
        out["error"] = f"no answer in {timeout:.0f} s"
    except (ConnectionError, OSError) as e:
        out["error"] = type(e).__name__
    finally:
        out["end"] = time.monotonic()
        out["ms"] = (out["end"] - t0) * 1000
        if writer is not None:
            writer.close()
    return out


def blocking_get(port: int, path: str, timeout: float) -> tuple:
    """(status or None, error or None) of one request on a fresh connection."""
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, "timeout"
                s.settimeout(left)
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        if not data.startswith(b"HTTP/"):
            return None, "closed without a response"
        return int(data.split(b" ", 2)[1]), None
    except socket.timeout:
        return None, "timeout"
    except OSError as e:
        return None, type(e).__name__


def poll_main(port: int, interval: float, max_s: float) -> None:
    """`run.py _poll PORT INTERVAL MAX_S`: /healthz on a fresh connection every
    INTERVAL s until stdin closes (or MAX_S), then one JSON list on stdout of
    [monotonic start, latency ms, status, error]."""
    out = []
    end = time.monotonic() + max_s
    while time.monotonic() < end:
        t0 = time.monotonic()
        status, err = blocking_get(port, "/healthz", timeout=2.0)
        out.append([t0, (time.monotonic() - t0) * 1000, status, err])
        wait = max(0.0, interval - (time.monotonic() - t0))
        ready, _, _ = select.select([0], [], [], wait)
        if ready and not os.read(0, 1):
            break
    print(json.dumps(out))


class Poller:
    def __init__(self, port: int, interval: float = 0.1, max_s: float = 90):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "_poll", str(port), str(interval), str(max_s)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        CHILDREN.append(self.proc)

    def stop(self) -> list:
        try:
            out, _ = self.proc.communicate(timeout=10)  # closes stdin: the poller stops
            return json.loads(out or b"[]")
        except (subprocess.TimeoutExpired, ValueError):
            self.proc.kill()
            return []


async def metric(port: int, names) -> dict:
    """Current values of some pixgate_* gauges from /metrics ({} when unreadable)."""
    loop = asyncio.get_running_loop()
    try:
        r = await asyncio.wait_for(loop.run_in_executor(None, fetch_text, port, "/metrics"), 3)
    except asyncio.TimeoutError:
        return {}
    found = {}
    for line in (r or "").splitlines():
        for n in names:
            if line.startswith(f"pixgate_{n} ") or line.startswith(f"pixgate_{n}{{"):
                try:
                    found[n] = float(line.rsplit(" ", 1)[1])
                except ValueError:
                    pass
    return found


def fetch_text(port: int, path: str, timeout: float = 2.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")
    except OSError:
        return None


# -------------------------------------------------------- the processes

class FakeS3:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_s3.py"), "--root", CORPUS,
                                      "--slow-delay-ms", str(SLOW_DELAY_MS), "--lifetime", str(BUDGET_S + 60)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        CHILDREN.append(self.proc)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            raise RuntimeError("the fake S3 did not start")
        self.port = int(line.split()[1])

    def stats(self) -> dict:
        text = fetch_text(self.port, "/__stats")
        try:
            return json.loads(text) if text else {}
        except ValueError:
            return {}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Pixgate:
    def __init__(self, binary: str, workdir: str, name: str, config: dict, s3_port: int):
        self.port = free_port()
        self.config = config
        self.path = os.path.join(workdir, f"pixgate-{name}.toml")
        self.log_path = os.path.join(workdir, f"pixgate-{name}.log")
        lines = []
        for section, values in config.items():
            lines.append(f"[{section}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
            lines.append("")
        lines += [
            "[[buckets]]", 'name = "local"', f'origin = "file://{CORPUS}"', "",
            "[[buckets]]", 'name = "fakes3"', 'origin = "s3://fakebucket"',
            f'endpoint = "http://127.0.0.1:{s3_port}"', "path_style = true",
            'access_key_id = "AKIDHOSTILEBENCH0000"', 'secret_access_key = "hostile-bench-dummy-secret"', "",
        ]
        with open(self.path, "w") as f:
            f.write("\n".join(lines))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIXGATE") and not k.startswith("AWS_")}
        env["PIXGATE_LOG"] = "info"
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary, "serve", "--config", self.path, "--listen", f"127.0.0.1:{self.port}"],
                                     stdout=self.logf, stderr=subprocess.STDOUT, env=env, preexec_fn=raise_nofile)
        CHILDREN.append(self.proc)

    async def ready(self, timeout: float = 15.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                break
            r = await http_request(self.port, "/healthz", timeout=1.0)
            if r["status"] == 200:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"pixgate did not start (exit {self.proc.poll()}): {self.log_tail()}")

    def log_tail(self, n: int = 600) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def peak_rss_mib(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) // 1024
        except OSError:
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.logf.close()


# ------------------------------------------------------------- scenarios

class Report:
    def __init__(self):
        self.harness_errors = 0
        self.rows = []     # (id, scenario, target, measured, verdict)
        self.details = []  # markdown lines

    def row(self, rid: str, scenario: str, target: str, measured: str, ok):
        verdict = "N/A" if ok is None else ("PASS" if ok else "FAIL")
        measured = " ".join(measured.replace("|", "\\|").split())  # one table cell
        self.rows.append((rid, scenario, target, measured, verdict))
        log(f"{rid} {verdict}: {measured}")

    def note(self, line: str):
        self.details.append(line)


def server_side_peers(port: int) -> set:
    """Client ports of the server's TCP sockets on `port` (any state but
    LISTEN), from /proc/net/tcp."""
    peers = set()
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                parts = line.split()
                local, remote, state = parts[1], parts[2], parts[3]
                if int(local.split(":")[1], 16) == port and state != "0A":
                    peers.add(int(remote.split(":")[1], 16))
    except (OSError, IndexError, ValueError):
        pass
    return peers


def tcp_ext() -> dict:
    """The kernel's TcpExt counters (/proc/net/netstat)."""
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:") and values.startswith("TcpExt:"):
            return {n: int(v) for n, v in zip(names.split()[1:], values.split()[1:])}
    return {}


def listen_backlog(port: int):
    """The listener's accept-queue size, as `ss -ltn` reports it (Send-Q)."""
    if not shutil.which("ss"):
        return None
    try:
        out = subprocess.run(["ss", "-ltnH", f"( sport = :{port} )"], capture_output=True, text=True, timeout=5).stdout.split()
        return int(out[2]) if len(out) > 2 else None
    except (subprocess.SubprocessError, ValueError, OSError):
        return None


def hostile_sockets(port: int, kinds: list, t_stop: float) -> list:
    """Opens one socket per entry of `kinds` ("silent": connect and send
    nothing; "h2c": send the HTTP/2 preface and nothing else) with
    non-blocking connects, and records, in one epoll loop (so the times are
    not skewed by a busy event loop), when each connected and when the server
    closed it (EOF or RST). Everything still open at `t_stop` is closed."""
    sel = selectors.DefaultSelector()
    addr = ("127.0.0.1", port)
    recs, connecting = [], {}

    def settle(sock, rec, how, now):
        rec["how"] = how
        if how in ("EOF", "RST"):
            rec["close_ms"] = (now - rec["t_conn"]) * 1000
        sel.unregister(sock)
        sock.close()

    def service(timeout: float) -> None:
        for key, _ in sel.select(timeout):
            sock, rec = key.fileobj, key.data
            now = time.monotonic()
            if rec["t_conn"] is None:
                connecting.pop(sock.fileno(), None)
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    rec["error"] = f"connect {errno.errorcode.get(err, err)}"
                    sel.unregister(sock)
                    sock.close()
                    continue
                rec["t_conn"], rec["connected"] = now, True
                rec["lport"] = sock.getsockname()[1]
                if rec["kind"] == "h2c":
                    try:
                        sock.send(H2C_PREFACE)
                    except OSError:
                        settle(sock, rec, "RST", now)
                        continue
                sel.modify(sock, selectors.EVENT_READ, rec)
                continue
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                settle(sock, rec, "RST", now)
                continue
            except OSError as e:
                settle(sock, rec, f"error {type(e).__name__}", now)
                continue
            if data:
                rec["bytes"] += len(data)
            else:
                settle(sock, rec, "EOF", now)
        now = time.monotonic()
        for fd, (sock, rec) in list(connecting.items()):
            if now - rec["t_start"] > CONNECT_TIMEOUT_S:
                rec["error"] = "connect timeout"
                del connecting[fd]
                sel.unregister(sock)
                sock.close()

    for i, kind in enumerate(kinds):
        rec = {"kind": kind, "connected": False, "how": None, "close_ms": None, "bytes": 0, "error": None,
               "t_start": time.monotonic(), "t_conn": None, "lport": None}
        recs.append(rec)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            rec["error"] = f"connect {errno.errorcode.get(err, err)}"
            s.close()
        else:
            sel.register(s, selectors.EVENT_WRITE, rec)
            connecting[s.fileno()] = (s, rec)
        if i % 64 == 63:
            service(0)
    while sel.get_map() and time.monotonic() < t_stop:
        service(min(0.05, max(0.0, t_stop - time.monotonic())))
    held = server_side_peers(port) if sel.get_map() else set()
    for key in list(sel.get_map().values()):
        rec = key.data
        if rec["t_conn"] is None:
            rec["error"] = "connect timeout"
        else:
            # Open on our side; does the server have it at all? A handshake
            # completed with a SYN cookie while the accept queue was full is
            # dropped by the server, and a client that never sends never learns.
            rec["how"] = "still open" if rec["lport"] in held else "phantom"
        sel.unregister(key.fileobj)
        key.fileobj.close()
    sel.close()
    return recs


async def scenario_sockets(px: Pixgate, rep: Report) -> None:
    header_ms = px.config["server"]["header_read_timeout_ms"]
    poller = Poller(px.port)
    await asyncio.sleep(0.5)  # a few polls before the sockets arrive
    t_start = time.monotonic()
    # Observation stops this long after the first connect (or when every socket is settled).
    t_stop = t_start + CONNECT_TIMEOUT_S + header_ms / 1000 + 3.0
    kinds = ["h2c" if i % 6 == 5 else "silent" for i in range(SILENT + H2C)]
    backlog = listen_backlog(px.port)
    kernel_before = tcp_ext()
    recs = await asyncio.to_thread(hostile_sockets, px.port, kinds, t_stop)
    kernel = {k: v - kernel_before.get(k, 0) for k, v in tcp_ext().items()
              if k in ("ListenOverflows", "ListenDrops", "SyncookiesSent", "SyncookiesRecv", "SyncookiesFailed")}
    t_done = time.monotonic()
    opened = max((r["t_conn"] or r["t_start"] for r in recs), default=t_start) - t_start
    await asyncio.sleep(0.5)  # a few polls after
    polls = poller.stop()
    during = [p for p in polls if t_start <= p[0] <= t_done]
    lat = [p[1] for p in during if p[2] == 200]
    failed = [p for p in during if p[2] != 200]
    worst = max((p[1] for p in during), default=None)
    healthz_ok = bool(during) and not failed and worst is not None and worst < 50
    rep.row("1a", "/healthz while 5,000 silent + 1,000 h2c-preface sockets are open",
            "every poll 200, max < 50 ms",
            f"{len(during)} polls, {len(failed)} failed; p50 {ms(percentile(lat, 50))}, p99 {ms(percentile(lat, 99))}, "
            f"max {ms(worst)}", healthz_ok)
    rep.note(f"- 1: the {SILENT + H2C:,} sockets were connected within {opened * 1000:,.0f} ms (interleaved, one h2c in six); "
             f"observation ended at {t_done - t_start:.1f} s (cap {t_stop - t_start:.1f} s); "
             f"pixgate peak RSS {px.peak_rss_mib()} MiB; listen backlog {backlog if backlog is not None else '?'}; "
             f"kernel counters during the burst: {', '.join(f'{k} {v:,}' for k, v in kernel.items()) or 'unavailable'}. "
             "Close times run from the client's connect to the server's FIN/RST; a handshake the kernel finished "
             "late (SYN-ACK retransmitted while the accept queue was full) starts the server's clock later.")
    slow = [p for p in during if p[2] == 200 and p[1] >= 50]
    if slow:
        rep.note(f"- 1a: {len(slow)} slow poll(s): " + ", ".join(f"{ms(p[1])} at {p[0] - t_start:.2f} s" for p in slow[:5])
                 + ". About 1 s (or 3 s) is a SYN retransmitted by the client's kernel: the listen queue was full "
                 "(see ListenOverflows/ListenDrops above).")
    if failed:
        rep.note(f"- 1a: failed polls: {counts(p[3] or p[2] for p in failed)}; "
                 f"first at {failed[0][0] - t_start:.1f} s, last at {failed[-1][0] - t_start:.1f} s.")
    limit = header_ms + 1000
    for rid, kind, total in (("1b", "silent", SILENT), ("1c", "h2c", H2C)):
        mine = [r for r in recs if r["kind"] == kind]
        conn = [r for r in mine if r["connected"]]
        closed = [r["close_ms"] for r in conn if r["close_ms"] is not None]
        still = [r for r in conn if r["how"] == "still open"]
        phantom = [r for r in conn if r["how"] == "phantom"]
        # Every connection the server holds is closed in time; phantoms (see
        # the notes) are counted apart: the server holds nothing for them.
        ok = len(conn) == total and len(closed) + len(phantom) == total and max(closed, default=math.inf) <= limit
        what = "silent sockets" if kind == "silent" else "h2c-preface-only sockets"
        measured = (f"connected {len(conn):,}/{total:,}; closed by the server {len(closed):,} "
                    f"({counts(r['how'] for r in conn if r['close_ms'] is not None) or 'none'}); still open {len(still):,}"
                    + (f", phantom {len(phantom):,}" if phantom else "") + "; "
                    f"closed after min {ms(min(closed, default=None))}, median {ms(statistics.median(closed) if closed else None)}, "
                    f"max {ms(max(closed, default=None))}")
        rep.row(rid, f"{total:,} {what} closed by the server",
                f"all closed ≤ header_read_timeout_ms + 1 s = {limit:,} ms", measured, ok)
        errors = [r["error"] for r in mine if r["error"]]
        if errors:
            rep.note(f"- {rid}: connect failures: {counts(errors)}.")
        if phantom:
            rep.note(f"- {rid}: {len(phantom):,} sockets connected on the client's side but unknown to the server at the end "
                     f"(not in /proc/net/tcp): their handshakes were answered with SYN cookies while the accept queue "
                     f"(listen backlog {backlog if backlog is not None else '?'}) was full, and the kernel dropped the final ACK, "
                     "so pixgate never had them; a client that never sends is never told. They hold nothing in pixgate; "
                     "a larger listen backlog would avoid them.")
        early = [c for c in closed if c < header_ms - 100]
        if early:
            rep.note(f"- {rid}: {len(early):,} closed more than 100 ms before the header timeout "
                     f"(the connection cap closing the oldest idle ones for newcomers).")
        got = [r["bytes"] for r in conn if r["bytes"]]
        if got:
            rep.note(f"- {rid}: {len(got):,} sockets received bytes before the close (SETTINGS/GOAWAY frames or a 408), "
                     f"{sum(got):,} bytes in all.")


async def scenario_trickle(px: Pixgate, s3: FakeS3, rep: Report) -> None:
    deadline = px.config["admission"]["request_timeout_ms"]
    ready = await http_request(px.port, "/readyz", timeout=5)
    rep.note(f"- 2: `/readyz` with the fake S3 bucket configured: {outcome(ready)}.")
    timeout = deadline / 1000 + 10
    trickles = [asyncio.create_task(http_request(px.port, f"/fakes3/trickle/t{i}.jpg?x-oss-process=image/resize,w_100", timeout))
                for i in range(6)]
    await asyncio.sleep(0.2)
    normal = await http_request(px.port, f"/fakes3/{SMALL}?x-oss-process=image/resize,w_120", timeout)
    results = await asyncio.gather(*trickles)
    lo, hi = deadline - 50, deadline + 1000
    ok = all(r["status"] == 504 and lo <= r["ms"] <= hi for r in results)
    rep.row("2a", "6 sources trickling 1 byte/s from the fake S3 (`resize,w_100`, 6 distinct keys)",
            f"each 504 at the deadline ({deadline:,}–{hi:,} ms)", "; ".join(f"{outcome(r)} {ms(r['ms'])}" for r in results), ok)
    ok = normal["status"] in (200, 503) and normal["ms"] <= deadline + 1000
    rep.row("2b", "a normal thumbnail from the same fake S3, sent 200 ms later",
            f"200 or 503 within deadline + 1 s ({deadline + 1000:,} ms)", f"{outcome(normal)} in {ms(normal['ms'])}", ok)
    seen = set()
    for r in results + [normal]:
        if r["message"] and outcome(r) not in seen:
            seen.add(outcome(r))
            rep.note(f"- 2: {outcome(r)} says: “{r['message']}”")
    await asyncio.sleep(2.5)  # the fake S3 notices a hung-up client at its next byte
    tr = [t for t in s3.stats().get("trickles", []) if t["key"].startswith("trickle/t")]
    if tr:
        rep.note(f"- 2: upstream side (fake S3): {len(tr)} trickling GETs; "
                 + ", ".join(f"{t['key']}: {t['bytes']} B sent, {t['ended']} after {t['lasted_s']} s" if t["lasted_s"] is not None
                             else f"{t['key']}: {t['bytes']} B sent, still trickling" for t in tr) + ".")


COSTLY = "resize,m_fixed,w_4096,h_4096,limit_0/blur,r_50,s_50"
BLUR = "blur,r_50,s_50"
# The heaviest blurs of the 12 MP photo today's cost model accepts (its
# estimate under the built-in 1,000 ms work limit; r_23 and up are refused):
# about 0.4-0.7 s of pixel work each here. Ten of them queued on one worker
# take several seconds to drain, so a shutdown has to cut them.
HEAVY = [f"blur,r_{r},s_{r}" for r in range(22, 12, -1)]


async def scenario_refuse(px: Pixgate, rep: Report) -> None:
    path = f"/local/{SMALL}?x-oss-process=image/{COSTLY}"
    tries = [await http_request(px.port, path, timeout=10) for _ in range(3)]
    worst = max(t["ms"] for t in tries)
    ok = all(t["status"] == 400 for t in tries) and worst < 100
    rep.row("3", f"`{COSTLY}` on {SMALL} (3 tries, request_timeout_ms = {px.config['admission']['request_timeout_ms']:,})",
            "400 in < 100 ms", f"{counts(outcome(t) for t in tries)}; max {ms(worst)}", ok)
    if tries[0]["message"]:
        rep.note(f"- 3: {outcome(tries[0])} says: “{tries[0]['message']}”")


async def blur_then_small(px: Pixgate, rep: Report, ids: tuple, step: str, what: str) -> None:
    deadline = px.config["admission"]["request_timeout_ms"]
    job = await http_request(px.port, f"/local/{BIG}?x-oss-process=image/{step}", timeout=15)
    busy = await metric(px.port, ["workers_busy"])
    small = await http_request(px.port, f"/local/{SMALL}?x-oss-process=image/resize,w_{90 + len(ids[0])}", timeout=10)
    rep.row(ids[0], f"`{step}` on {BIG}{what} (request_timeout_ms = {deadline:,})",
            "answered (any status) within 2,000 ms", f"{outcome(job)} in {ms(job['ms'])}",
            job["status"] is not None and job["ms"] <= 2000)
    rep.row(ids[1], "then a small thumbnail (1 worker)", "200 in < 500 ms",
            f"{outcome(small)} in {ms(small['ms'])}; pixgate_workers_busy just before: {fmt_gauge(busy.get('workers_busy'))}",
            small["status"] == 200 and small["ms"] < 500)
    if job["message"]:
        rep.note(f"- {ids[0]}: {outcome(job)} says: “{job['message']}”")


async def scenario_blur(px: Pixgate, rep: Report) -> None:
    costly = await http_request(px.port, f"/local/{SMALL}?x-oss-process=image/{COSTLY}", timeout=10)
    rep.note(f"- 4: scenario 3's request under this 1 s deadline: {outcome(costly)} in {ms(costly['ms'])}"
             + (f" (“{costly['message']}”)" if costly["message"] else "") + ".")
    await blur_then_small(px, rep, ("4a", "4b"), BLUR, "")
    await blur_then_small(px, rep, ("4c", "4d"), HEAVY[0], ", the heaviest blur the cost model accepts")


async def scenario_sigterm(px: Pixgate, rep: Report) -> None:
    grace = px.config["server"]["shutdown_timeout_ms"]
    jobs = [asyncio.create_task(http_request(px.port, f"/local/{BIG}?x-oss-process=image/{step}", timeout=40))
            for step in [BLUR] + HEAVY]
    busy = False
    end = time.monotonic() + 3
    while time.monotonic() < end and not all(j.done() for j in jobs):
        m = await metric(px.port, ["workers_busy"])
        if m.get("workers_busy", 0) >= 1:
            busy = True
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # well inside the pixel work
    in_flight = sum(not j.done() for j in jobs)
    t_sig = time.monotonic()
    px.proc.send_signal(signal.SIGTERM)
    exited = None
    while time.monotonic() - t_sig < grace / 1000 + 6:
        if px.proc.poll() is not None:
            exited = (time.monotonic() - t_sig) * 1000
            break
        await asyncio.sleep(0.01)
    if exited is None:
        px.proc.kill()
        px.proc.wait(timeout=5)
    done, pending = await asyncio.wait(jobs, timeout=5)
    for p in pending:
        p.cancel()
    results = [j.result() if j in done else {"status": None, "error": "no answer", "code": None} for j in jobs]
    limit = grace + 1000
    if exited is not None:
        measured = f"exited {ms(exited)} after SIGTERM (exit code {px.proc.returncode})"
    else:
        measured = f"still running {grace / 1000 + 6:.0f} s after SIGTERM (killed)"
    measured += f"; {in_flight} of {len(jobs)} requests in flight at SIGTERM, they got: {counts(outcome(r) for r in results)}"
    if not busy:
        measured += " — /metrics never showed a busy worker before SIGTERM"
    rep.row("5", f"SIGTERM during 12 MP blurs: `{BLUR}` + {len(HEAVY)} × `blur,r_13..22` on 1 worker "
            f"(shutdown_timeout_ms = {grace:,})", f"exit within {limit:,} ms", measured,
            None if not in_flight else (exited is not None and exited <= limit))
    rep.note(f"- 5: the {len(HEAVY)} accepted blurs run one after another on the single worker "
             f"(a 200 above is one that finished during the drain); draining them all would take several seconds.")


async def scenario_burst(px: Pixgate, s3: FakeS3, rep: Report) -> None:
    adm = px.config["admission"]
    workers, queued = adm["max_concurrent"], adm["max_queued"]
    admitted_cap = workers + adm.get("prefetch", workers)
    deadline = adm["request_timeout_ms"]
    path = f"/fakes3/slow/{BIG}?x-oss-process=image/resize,w_400"
    samples = []  # (time, {gauge: value})
    stop = asyncio.Event()

    async def sample():
        while not stop.is_set():
            t = time.monotonic()
            samples.append((t, await metric(px.port, ["workers_queued", "admitted_requests", "workers_busy", "in_flight_requests"])))
            try:
                await asyncio.wait_for(stop.wait(), 0.025)
            except asyncio.TimeoutError:
                pass

    sampler = asyncio.create_task(sample())
    t0 = time.monotonic()
    results = await asyncio.gather(*(http_request(px.port, path, timeout=deadline / 1000 + 5) for _ in range(BURST)))
    stop.set()
    await asyncio.wait_for(sampler, 5)
    statuses = [r["status"] for r in results]
    n200 = statuses.count(200)
    rep.row("6a", f"{BURST} concurrent identical `resize,w_400` of one uncached 12 MP S3 source "
                  f"(upstream answers after {SLOW_DELAY_MS:,} ms; result cache on)",
            "only 200 and 503, all answered", counts(outcome(r) for r in results), all(s in (200, 503) for s in statuses))
    # Waiting = every request but the one doing the work; the gauge is read
    # until the first 200 (afterwards, finished requests still sending their
    # bytes would count).
    first_answer = min((r["end"] for r in results if r["status"] == 200), default=math.inf)
    before = [v for t, v in samples if t < first_answer]
    q = max((v["workers_queued"] for v in before if "workers_queued" in v), default=None)
    adm_peak = max((v["admitted_requests"] for v in before if "admitted_requests" in v), default=None)
    waited = max(0, n200 - 1)
    ok = waited <= queued and (q is None or q <= queued)
    rep.row("6b", "… how many waited",
            f"≤ max_queued = {queued}: ≤ {queued + 1} answered 200 (one does the work, the others wait for its result), "
            f"peak pixgate_workers_queued ≤ {queued}",
            f"{n200} answered 200 ({waited} waited); before the first 200, peak pixgate_workers_queued {fmt_gauge(q)}, "
            f"pixgate_admitted_requests {fmt_gauge(adm_peak)} ({len(before)} samples)", ok)
    by = {}
    for r in results:
        by.setdefault(outcome(r), []).append(r["ms"])
    lat = "; ".join(f"{k}: p50 {ms(percentile(v, 50))}, max {ms(max(v))}" for k, v in sorted(by.items()))
    worst = max(r["ms"] for r in results)
    rep.row("6c", "… latency", f"all within request_timeout_ms + 1 s ({deadline + 1000:,} ms)", lat, worst <= deadline + 1000)
    sent_last = max((r["sent"] for r in results if r["sent"]), default=t0)
    gets = {k: v for k, v in s3.stats().get("requests", {}).items() if k.endswith(f"slow/{BIG}")}
    rep.note(f"- 6: all {BURST} requests were sent within {(sent_last - t0) * 1000:,.0f} ms"
             + (f", the first 200 came at {(first_answer - t0) * 1000:,.0f} ms" if first_answer < math.inf else "")
             + f"; upstream requests for the source: {gets or 'none'}. "
             f"max_concurrent + prefetch + max_queued = {admitted_cap + queued}.")
    busy = next((r for r in results if r["status"] == 503 and r["message"]), None)
    if busy:
        rep.note(f"- 6: 503 says: “{busy['message']}”")


# ------------------------------------------------------------------ main

def build(args) -> str:
    if args.bin:
        return args.bin
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "pixgate-target")
    binary = os.path.join(target, "release", "pixgate")
    if not args.no_build:
        env = dict(os.environ, CARGO_TARGET_DIR=target)
        env.setdefault("CARGO_INCREMENTAL", "0")
        log("building: cargo build --release -p pixgate --locked")
        r = subprocess.run(["cargo", "build", "--release", "-p", "pixgate", "--locked"], cwd=REPO, env=env,
                           timeout=args.build_timeout)
        if r.returncode != 0:
            print(f"run.py: the build failed (exit {r.returncode})", file=sys.stderr)
            sys.exit(2)
    if not os.access(binary, os.X_OK):
        print(f"run.py: no binary at {binary}", file=sys.stderr)
        sys.exit(2)
    return binary


def describe_build(binary: str) -> str:
    def git(*a):
        try:
            return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:
            return ""
    head = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--", "crates", "Cargo.toml", "Cargo.lock")
    built = datetime.datetime.fromtimestamp(os.stat(binary).st_mtime, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"commit `{head}`" + (" plus uncommitted changes under crates/" if dirty else "") + f", release binary built {built}"


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}){', ' + model if model else ''}; Linux {platform.release()}; Python {platform.python_version()}"


def render(rep: Report, started: datetime.datetime, elapsed: float, build_info: str, configs: dict) -> str:
    lines = [
        "# Hostile load (issue 13)",
        "",
        "Generated by `python3 benches/hostile/run.py` (loopback only; a fresh `pixgate serve` per scenario, "
        "`fake_s3.py` as the misbehaving S3).",
        "",
        f"- date: {started.strftime('%Y-%m-%d %H:%M UTC')}; run time {elapsed:.0f} s (build excluded)",
        f"- machine: {machine()}",
        f"- pixgate: {build_info}",
        "",
        "## Configuration",
        "",
        "Every scenario: two buckets, `local` (`file://` on the corpus photos) and `fakes3` (`s3://fakebucket`, "
        "`endpoint = \"http://127.0.0.1:<fake S3>\"`, `path_style = true`, dummy credentials); caches at their defaults "
        "(result cache on). Other keys:",
        "",
        "| scenario | " + " | ".join(k for k in flat_keys(configs)) + " |",
        "|---|" + "---|" * len(flat_keys(configs)),
    ]
    for name, cfg in configs.items():
        flat = {f"{s}.{k}": v for s, vals in cfg.items() for k, v in vals.items()}
        lines.append(f"| {name} | " + " | ".join(f"{flat.get(k, ''):,}" if isinstance(flat.get(k), int) else str(flat.get(k, ""))
                                               for k in flat_keys(configs)) + " |")
    lines += ["", "`admission.prefetch` unset (= `max_concurrent`).", "", "## Results", "",
              "| # | scenario | target | measured | result |", "|---|---|---|---|---|"]
    for rid, scen, target, measured, verdict in rep.rows:
        lines.append(f"| {rid} | {scen} | {target} | {measured} | **{verdict}** |")
    lines += ["", "## Notes", ""] + rep.details + [""]
    return "\n".join(lines)


def flat_keys(configs: dict) -> list:
    keys = []
    for cfg in configs.values():
        for s, vals in cfg.items():
            for k in vals:
                if f"{s}.{k}" not in keys:
                    keys.append(f"{s}.{k}")
    return keys


async def run_all(binary: str, workdir: str, rep: Report, configs: dict, only) -> None:
    s3 = FakeS3()
    plan = [
        ("1", lambda px: scenario_sockets(px, rep), 60, ["1a", "1b", "1c"]),
        ("2", lambda px: scenario_trickle(px, s3, rep), 40, ["2a", "2b"]),
        ("3", lambda px: scenario_refuse(px, rep), 30, ["3"]),
        ("4", lambda px: scenario_blur(px, rep), 60, ["4a", "4b", "4c", "4d"]),
        ("5", lambda px: scenario_sigterm(px, rep), 40, ["5"]),
        ("6", lambda px: scenario_burst(px, s3, rep), 60, ["6a", "6b", "6c"]),
    ]
    try:
        for name, fn, cap, ids in plan:
            if only and name not in only:
                continue
            log(f"scenario {name}")
            px = Pixgate(binary, workdir, name, configs[name], s3.port)
            try:
                await px.ready()
                await asyncio.wait_for(fn(px), cap)
            except Exception as e:  # noqa: BLE001 - one broken scenario must not stop the others
                if isinstance(e, asyncio.TimeoutError):
                    why = f"scenario cut off after {cap} s"
                elif isinstance(e, RuntimeError):
                    why = str(e)
                else:
                    rep.harness_errors += 1
                    why = f"harness error {type(e).__name__}: {e}"
                log(f"scenario {name}: {why}")
                done = {r[0] for r in rep.rows}
                for rid in ids:
                    if rid not in done:
                        rep.row(rid, f"scenario {name}", "–", f"harness: {why}", False)
            finally:
                px.stop()
    finally:
        s3.stop()


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "_poll":
        poll_main(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
        return 0
    ap = argparse.ArgumentParser(description="Hostile load against pixgate (issue 13).")
    ap.add_argument("--no-build", action="store_true", help="use the existing release binary")
    ap.add_argument("--bin", help="pixgate binary to run (implies --no-build)")
    ap.add_argument("--build-timeout", type=float, default=3600)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (configs, pixgate logs)")
    ap.add_argument("--only", help="comma-separated scenarios to run, e.g. 1,6 (RESULTS.md is then left alone)")
    args = ap.parse_args()
    raise_nofile()
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < SILENT + H2C + 512:
        print(f"run.py: RLIMIT_NOFILE is {soft}; {SILENT + H2C + 512} descriptors are needed", file=sys.stderr)
        return 2
    if not os.path.isfile(os.path.join(CORPUS, BIG)):
        print(f"run.py: no {BIG} in {CORPUS} (set PIXGATE_CORPUS)", file=sys.stderr)
        return 2
    binary = build(args)
    build_info = describe_build(binary)
    configs = {name: merge(BASE, over) for name, over in OVERRIDES.items()}
    rep = Report()
    workdir = tempfile.mkdtemp(prefix="pixgate-hostile-")
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()

    def watchdog():
        print(f"run.py: the run exceeded {BUDGET_S} s; giving up", file=sys.stderr, flush=True)
        kill_children()
        os._exit(2)

    timer = threading.Timer(BUDGET_S, watchdog)
    timer.daemon = True
    timer.start()
    try:
        asyncio.run(run_all(binary, workdir, rep, configs, set(args.only.split(",")) if args.only else None))
    except RuntimeError as e:  # the fake S3 did not start
        print(f"run.py: {e}", file=sys.stderr)
        return 2
    finally:
        timer.cancel()
        kill_children()
        if args.keep:
            log(f"configs and logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - t0
    if args.only:
        configs = {k: v for k, v in configs.items() if k in args.only.split(",")}
        print(render(rep, started, elapsed, build_info, configs))
    else:
        text = render(rep, started, elapsed, build_info, configs)
        with open(RESULTS, "w") as f:
            f.write(text)
        print(text)
    failed = [r for r in rep.rows if r[4] == "FAIL"]
    log(f"{len(rep.rows) - len(failed)}/{len(rep.rows)} targets met or n/a; {elapsed:.0f} s"
        + ("" if args.only else f"; written to {os.path.relpath(RESULTS, REPO)}"))
    return 2 if rep.harness_errors else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
