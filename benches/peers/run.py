#!/usr/bin/env python3
"""pixgate against its peers, side by side, on this machine.

Every contestant reads the same images from the same origin on loopback and
is loaded by wrk with the same
connections and duration. Each (contestant, workload) pair gets a fresh
server process, so peak RSS (VmHWM, summed over the server's processes) is
that workload's own. Widths vary per request so that no two concurrent
requests share a URL: request coalescing cannot pass for throughput.

    benches/peers/install.sh            # once: oximg, sharp, thumbor, wrk, nginx
    benches/peers/run.py [--duration 15] [--connections 4] [--out FILE]
                         [--origin nginx|s3] [--only a,b-avif]
    benches/peers/run.py --cheap-paths [--duration 10] [--pairs 3]
    benches/peers/run.py --flame DIR [--only a]   # perf + inferno flamegraphs

Origins (--origin): `nginx` (default) is Debian's nginx-light, 2 workers,
serving the files from disk (sendfile, open-file cache): the cheapest static
origin, so the origin's CPU is not what is compared; `s3` is s3s-fs
(benches/src/bin/s3-origin.rs, TCP_NODELAY, no cache in front). pixgate
reads either as an S3 bucket (path style; nginx ignores the signature).

--cheap-paths measures, beside nginx (2 workers) serving the same bytes from
disk in the same run: pixgate answering a cached result (~13 kB, wrk -c32,
one URL, result cache on) and pixgate serving the 2.9 MB original from its
local-directory origin (wrk -c8), in req/s and bytes/s; and, for reference,
examples/bare_hyper.rs (hyper answering the same bytes and headers from
memory, nothing else) against nginx: the floor the HTTP stack sets.

Workloads (SPEC'd by the performance issue):
  a       phone-4032x3024.jpg -> ~400 px wide JPEG q80 (widths 392..408)
  a'      the same photo stored as progressive JPEG
  b-*     imgproxy's "fit 512x512, same format" on JPEG, PNG and WebP
          sources (boxes 504..520)
  b-avif  fit 512x512 from the 1080p JPEG to AVIF quality 80 (boxes 504..520)
  c       varied widths (100..1000) of the 12 MP photo
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CORPUS = Path(os.environ.get("PIXGATE_CORPUS", REPO.parent / "shared" / "corpus"))
PEERS = Path(os.environ.get("PEERS", Path.home() / ".cache" / "pixgate-peers"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixgate-target"))

SOURCES = {
    "phone.jpg": "photos/phone-4032x3024.jpg",
    "phone-progressive.jpg": "photos/phone-4032x3024-progressive.jpg",
    "flowers.jpg": "photos/flowers-1920x1080.jpg",
    "gradients.png": "formats/gradients-rgb8.png",
    "photo.webp": "formats/4.webp",
}

# (name, source key, "width", "box" or "avif" (a box, output AVIF), low, high)
WORKLOADS = [
    ("a", "phone.jpg", "width", 392, 408),
    ("a'", "phone-progressive.jpg", "width", 392, 408),
    ("b-jpeg", "flowers.jpg", "box", 504, 520),
    ("b-png", "gradients.png", "box", 504, 520),
    ("b-webp", "photo.webp", "box", 504, 520),
    ("b-avif", "flowers.jpg", "avif", 504, 520),
    ("c", "phone.jpg", "width", 100, 1000),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ok(url, timeout=90):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                if r.status == 200 and r.read():
                    return
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.3)
    raise RuntimeError(f"{url} never answered 200 ({last})")


def descendants(pid):
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def peak_rss_mib(pid):
    total = 0
    for p in descendants(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def wrk(port, template, lo, hi, connections, duration):
    cmd = [
        "wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s",
        "-s", str(HERE / "vary.lua"), f"http://127.0.0.1:{port}", "--", template, str(lo), str(hi), "2",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    def latency(pct):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*timeout (\d+)", out)
    return {
        "rps": rps,
        "p50": latency(50),
        "p99": latency(99),
        "non2xx": int(bad.group(1)) if bad else 0,
        "timeouts": int(errors.group(1)) if errors else 0,
    }


def transfer_bytes_per_s(out):
    m = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[m.group(2)]


def start_nginx(port, root, work):
    """Debian's nginx-light, 2 workers, serving `root` from disk on loopback."""
    prefix = Path(work) / f"nginx-{port}"
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    # Running as root, workers would drop to `nobody`: keep them root so the
    # private temp directory stays readable (ignored when not root).
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(
        f"{user}worker_processes 2;\ndaemon off;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log error;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        "  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  tcp_nodelay on;\n"
        "  keepalive_requests 1000000;\n"
        "  open_file_cache max=1000 inactive=60s;\n"
        "  types { image/jpeg jpg; image/png png; image/webp webp; }\n"
        "  default_type application/octet-stream;\n"
        f"  client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n"
        f"  fastcgi_temp_path {prefix}/fastcgi;\n  uwsgi_temp_path {prefix}/uwsgi;\n"
        f"  scgi_temp_path {prefix}/scgi;\n"
        f"  server {{ listen 127.0.0.1:{port}; root {root}; }}\n"
        "}\n"
    )
    return subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(conf)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def start_origin(kind, port, work):
    if kind == "nginx":
        return start_nginx(port, work / "s3", work)
    return subprocess.Popen(
        [str(TARGET / "release" / "s3-origin"), str(port), str(work / "s3")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def pixgate_proc(config_text, port, env):
    config = Path(env["WORK"]) / f"pixgate-{port}.toml"
    config.write_text(config_text)
    return subprocess.Popen(
        [str(TARGET / "release" / "pixgate"), "serve", "--config", str(config)],
        env={**env, "PIXGATE_LOG": "error"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wrk_fixed(url, connections, duration):
    """wrk on one URL: req/s and bytes/s."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "bps": transfer_bytes_per_s(out), "non2xx": int(bad.group(1)) if bad else 0}


def cheap_paths(args, work, env):
    """pixgate's cheap paths beside nginx (2 workers) serving the same bytes."""
    web = work / "s3"
    photos = web / "photos"
    photos.mkdir(parents=True)
    shutil.copyfile(CORPUS / SOURCES["phone.jpg"], photos / "phone.jpg")
    nport, pport = free_port(), free_port()
    nginx = start_nginx(nport, web, work)
    result_path = "/photos/phone.jpg?x-oss-process=image/resize,w_260/quality,Q_75"
    px = pixgate_proc(
        f'[server]\nlisten = "127.0.0.1:{pport}"\n'
        f"[cache]\nresult_bytes = {64 << 20}\nsource_bytes = 0\n"
        f'[[buckets]]\nname = "photos"\norigin = "file://{photos}"\n',
        pport, env,
    )
    lines = []
    bare = None
    try:
        wait_ok(f"http://127.0.0.1:{pport}{result_path}")
        # The cached result's own bytes, for nginx to serve from disk.
        with urllib.request.urlopen(f"http://127.0.0.1:{pport}{result_path}") as r:
            result = r.read()
        (web / "result.jpg").write_bytes(result)
        # The floor the HTTP stack sets: a bare hyper server answering the
        # same bytes and headers from memory (examples/bare_hyper.rs).
        bare_bin = TARGET / "release" / "examples" / "bare_hyper"
        if bare_bin.exists():
            bport = free_port()
            bare = subprocess.Popen([str(bare_bin), str(web / "result.jpg"), str(bport)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            wait_ok(f"http://127.0.0.1:{bport}/")
        # The same bytes as an original in both servers' directories.
        (photos / "result.jpg").write_bytes(result)
        wait_ok(f"http://127.0.0.1:{nport}/result.jpg")
        rows = [
            (f"cached result ({len(result)} B), -c32", 32,
             f"http://127.0.0.1:{pport}{result_path}", f"http://127.0.0.1:{nport}/result.jpg"),
            (f"small original ({len(result)} B) from disk, -c32 (no target)", 32,
             f"http://127.0.0.1:{pport}/photos/result.jpg", f"http://127.0.0.1:{nport}/photos/result.jpg"),
            ("original 2.9 MB from disk, -c8", 8,
             f"http://127.0.0.1:{pport}/photos/phone.jpg", f"http://127.0.0.1:{nport}/photos/phone.jpg"),
        ]
        lines += ["| path | pixgate req/s | nginx req/s | pixgate MB/s | nginx MB/s | pixgate / nginx "
                  "(best of each) | per-pair ratios | errors |",
                  "|---|---|---|---|---|---|---|---|"]
        print(lines[0] + "\n" + lines[1], flush=True)
        for label, conns, mine, theirs in rows:
            # Alternating: pixgate, nginx, pixgate, nginx, ...; the best run of
            # each side kept, and every pair's own ratio shown beside it.
            p_runs, n_runs = [], []
            for _ in range(args.pairs):
                if args.warmup:
                    wrk_fixed(mine, conns, args.warmup)
                p_runs.append(wrk_fixed(mine, conns, args.duration))
                n_runs.append(wrk_fixed(theirs, conns, args.duration))
            p = max(p_runs, key=lambda r: r["rps"])
            n = max(n_runs, key=lambda r: r["rps"])
            errors = sum(r["non2xx"] for r in p_runs + n_runs)
            pairs = " ".join(f"{a['rps'] / b['rps']:.2f}" for a, b in zip(p_runs, n_runs))
            row = (f"| {label} | {p['rps']:.0f} | {n['rps']:.0f} | {p['bps'] / 1e6:.0f} | "
                   f"{n['bps'] / 1e6:.0f} | {p['rps'] / n['rps']:.2f}× | {pairs} | {errors} |")
            print(row, flush=True)
            lines.append(row)
        if bare:
            # Alternating with pixgate's hit as above; nginx's best kept from
            # its own runs here too.
            b_runs, n_runs = [], []
            for _ in range(args.pairs):
                if args.warmup:
                    wrk_fixed(f"http://127.0.0.1:{bport}/", 32, args.warmup)
                b_runs.append(wrk_fixed(f"http://127.0.0.1:{bport}/", 32, args.duration))
                n_runs.append(wrk_fixed(f"http://127.0.0.1:{nport}/result.jpg", 32, args.duration))
            b = max(b_runs, key=lambda r: r["rps"])
            n = max(n_runs, key=lambda r: r["rps"])
            pairs = " ".join(f"{x['rps'] / y['rps']:.2f}" for x, y in zip(b_runs, n_runs))
            row = (f"| (reference) bare hyper, same bytes from memory, -c32 | {b['rps']:.0f} | "
                   f"{n['rps']:.0f} | {b['bps'] / 1e6:.0f} | {n['bps'] / 1e6:.0f} | "
                   f"{b['rps'] / n['rps']:.2f}× | {pairs} | "
                   f"{sum(r['non2xx'] for r in b_runs + n_runs)} |")
            print(row, flush=True)
            lines.append(row)
        lines += ["", f"{datetime.date.today()}, {platform.node()}, {os.cpu_count()} CPUs, "
                  f"wrk -t2 -d{args.duration}s after {args.warmup}s warm-up, {args.pairs} alternating runs each, "
                  "best kept; nginx-light 2 workers (sendfile, open_file_cache)"]
    finally:
        stop(px)
        stop(nginx)
        if bare:
            stop(bare)
    return lines


class Contestant:
    name = ""

    def available(self):
        return True

    def start(self, port, s3port, env):
        raise NotImplementedError

    def template(self, key, kind, s3port):
        raise NotImplementedError


class Pixgate(Contestant):
    def __init__(self, source_cache=False):
        self.source_cache = source_cache
        self.name = "pixgate" + (" (source cache on)" if source_cache else "")

    def start(self, port, s3port, env):
        return pixgate_proc(
            f'[server]\nlisten = "127.0.0.1:{port}"\n'
            f"[cache]\nresult_bytes = 0\nsource_bytes = {128 << 20 if self.source_cache else 0}\n"
            f'[[buckets]]\nname = "bench"\norigin = "s3://bench"\n'
            f'endpoint = "http://127.0.0.1:{s3port}"\npath_style = true\n',
            port, env,
        )

    def template(self, key, kind, s3port):
        quality = "" if key.endswith(".png") else "/quality,Q_80"
        size = "w_{w}" if kind == "width" else "m_lfit,w_{w},h_{w}"
        fmt = "/format,avif" if kind == "avif" else ""
        return f"/bench/{key}?x-oss-process=image/resize,{size}{fmt}{quality}"


class Sharp(Contestant):
    name = "sharp"

    def available(self):
        return (PEERS / "node" / "node_modules" / "sharp").is_dir()

    def start(self, port, s3port, env):
        return subprocess.Popen(
            ["node", str(HERE / "sharp-server.js")],
            env={**env, "PORT": str(port), "UPSTREAM": f"http://127.0.0.1:{s3port}/bench",
                 "NODE_PATH": str(PEERS / "node" / "node_modules")},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def template(self, key, kind, s3port):
        return (f"/{key}?w={{w}}" + ("" if kind == "width" else "&h={w}")
                + ("&f=avif" if kind == "avif" else ""))


class Thumbor(Contestant):
    name = "thumbor"

    def available(self):
        return (PEERS / "venv" / "bin" / "thumbor").exists()

    def start(self, port, s3port, env):
        conf = Path(env["WORK"]) / "thumbor.conf"
        conf.write_text(
            "LOADER = 'thumbor.loaders.http_loader'\n"
            "STORAGE = 'thumbor.storages.no_storage'\n"
            "RESULT_STORAGE = None\n"
            "ALLOW_UNSAFE_URL = True\n"
            "QUALITY = 80\n"
            "WEBP_QUALITY = 80\n"
            "AUTO_WEBP = False\n"
            "RESPECT_ORIENTATION = True\n"
            "MAX_WIDTH = 0\nMAX_HEIGHT = 0\n"
        )
        cores = os.cpu_count() or 2
        return subprocess.Popen(
            [str(PEERS / "venv" / "bin" / "thumbor"), "-p", str(port), "-i", "127.0.0.1",
             "-c", str(conf), "-l", "error", "--processes", str(cores)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def template(self, key, kind, s3port):
        source = f"127.0.0.1:{s3port}/bench/{key}"
        if kind == "avif":
            # thumbor's AVIF needs pillow-avif-plugin: not a like-for-like leg.
            return None
        if kind == "width":
            return f"/unsafe/{{w}}x0/{source}"
        return f"/unsafe/fit-in/{{w}}x{{w}}/{source}"


class Oximg(Contestant):
    name = "oximg"

    def available(self):
        return (PEERS / "bin" / "oximg").exists()

    def start(self, port, s3port, env):
        return subprocess.Popen(
            [str(PEERS / "bin" / "oximg")],
            env={**env, "PORT": str(port), "OXIMG_BIND": "127.0.0.1",
                 "OXIMG_SOURCE_BASE_URL": f"http://127.0.0.1:{s3port}/bench",
                 "QUALITY": "80", "OXIMG_WEBP_QUALITY": "80"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def template(self, key, kind, s3port):
        if kind == "avif":
            # `@avif` picks the output format, when oximg was built with
            # `--features avif` (install.sh leaves a marker; it needs dav1d >= 1.3).
            if not (PEERS / "oximg-avif").exists():
                return None
            return f"/resize/{{w}}/{{w}}/{key}@avif"
        return f"/resize/{{w}}/0/{key}" if kind == "width" else f"/resize/{{w}}/{{w}}/{key}"


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def huffman_floor():
    """Decode-at-1/8 time of (a)'s source, from the criterion bench."""
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "pixgate-benches", "--bench", "thumbnail", "--",
         "12mp-baseline/decode-1/8"],
        cwd=REPO, capture_output=True, text=True,
    ).stdout
    m = re.search(r"time:\s+\[[\d.]+ \w+ ([\d.]+) (ms|µs)", out)
    if not m:
        return None
    return float(m.group(1)) * (0.001 if m.group(2) == "µs" else 1.0)


def run_one(contestant, workload, s3port, env, connections, duration, warmup, sampler=None):
    """One measured wrk run on a fresh server; `sampler(pid, seconds)`, if
    given, starts a process that watches the server for the measured run."""
    name, key, kind, lo, hi = workload
    template = contestant.template(key, kind, s3port)
    if template is None:
        return None
    port = free_port()
    proc = contestant.start(port, s3port, env)
    try:
        wait_ok(f"http://127.0.0.1:{port}" + template.replace("{w}", str(lo)))
        if warmup:
            wrk(port, template, lo, hi, connections, warmup)
        watcher = sampler(proc.pid, duration) if sampler else None
        result = wrk(port, template, lo, hi, connections, duration)
        if watcher:
            watcher.wait()
        result["rss"] = peak_rss_mib(proc.pid)
        return result
    finally:
        stop(proc)


def inferno(tool):
    """inferno's `tool`, from install.sh's prefix or else the PATH."""
    local = PEERS / "bin" / f"inferno-{tool}"
    return str(local) if local.exists() else f"inferno-{tool}"


def flame(workload, s3port, env, connections, duration, warmup, out_dir):
    """pixgate (caches off) under wrk while `perf` samples it: a flamegraph
    (inferno) per workload and the functions with the most samples."""
    name = workload[0]
    slug = name.replace("'", "-prime")
    data = Path(env["WORK"]) / f"perf-{slug}.data"

    def perf(pid, seconds):
        return subprocess.Popen(
            ["perf", "record", "-q", "-F", "199", "--call-graph", "dwarf,32768", "-p", str(pid),
             "-o", str(data), "--", "sleep", str(seconds)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    result = run_one(Pixgate(), workload, s3port, env, connections, duration, warmup, perf)
    script = subprocess.run(["perf", "script", "-i", str(data)], capture_output=True, text=True).stdout
    folded = subprocess.run([inferno("collapse-perf")], input=script, capture_output=True,
                            text=True, check=True).stdout
    out_dir.mkdir(parents=True, exist_ok=True)
    svg = out_dir / f"{slug}.svg"
    with open(svg, "w") as f:
        subprocess.run([inferno("flamegraph"), "--title", f"pixgate, workload {name} "
                        f"({result['rps']:.1f} req/s, caches off)"],
                       input=folded, stdout=f, text=True, check=True)
    # Self time per function: the leaf of each folded stack.
    leaves, total = {}, 0
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rsplit(";", 1)[-1]
        leaves[leaf] = leaves.get(leaf, 0) + int(count)
        total += int(count)
    top = sorted(leaves.items(), key=lambda kv: -kv[1])[:8]
    cells = ", ".join(f"{fn[:60]} {100 * n / max(total, 1):.0f} %" for fn, n in top)
    return f"| {name} | {result['rps']:.1f} | [{svg.name}]({svg.name}) | {cells} |"


def fmt_row(workload, contestant, r):
    return (f"| {workload} | {contestant} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p99']:.0f} | "
            f"{r['non2xx'] + r['timeouts']} | {r['rss']:.0f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=15, help="seconds measured per run")
    ap.add_argument("--warmup", type=int, default=3, help="seconds of load before measuring")
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--only", help="comma-separated workload names")
    ap.add_argument("--out", help="also write the tables to this file")
    ap.add_argument("--origin", choices=["nginx", "s3"], default="nginx",
                    help="the static origin every contestant reads from")
    ap.add_argument("--cheap-paths", action="store_true",
                    help="measure cached-result hits and originals against nginx instead")
    ap.add_argument("--pairs", type=int, default=3,
                    help="--cheap-paths: alternating runs per side (default 3)")
    ap.add_argument("--flame", metavar="DIR",
                    help="profile pixgate (caches off) per workload instead: perf + inferno "
                         "flamegraphs into DIR (cargo install inferno)")
    ap.add_argument("--no-build", action="store_true", help="use the release binaries as they are (and skip the Huffman-floor bench)")
    args = ap.parse_args()

    if not args.no_build:
        subprocess.run(
            ["cargo", "build", "-q", "--release", "-p", "pixgate", "-p", "pixgate-benches", "--bin",
             "pixgate", "--bin", "s3-origin", "--example", "bare_hyper"],
            cwd=REPO, check=True,
        )
    work = Path(tempfile.mkdtemp(prefix="pixgate-peers-"))
    # nginx's workers read the files too.
    os.chmod(work, 0o755)
    # No AWS_* credentials anywhere: the origin runs without auth for every contestant.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["WORK"] = str(work)
    if args.cheap_paths:
        try:
            text = "\n".join(cheap_paths(args, work, env))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(text)
        if args.out:
            Path(args.out).write_text(text + "\n")
        return
    bucket = work / "s3" / "bench"
    bucket.mkdir(parents=True)
    for key, rel in SOURCES.items():
        shutil.copyfile(CORPUS / rel, bucket / key)
    s3port = free_port()
    s3 = start_origin(args.origin, s3port, work)
    lines = []
    try:
        wait_ok(f"http://127.0.0.1:{s3port}/bench/phone.jpg")
        workloads = [w for w in WORKLOADS if not args.only or w[0] in args.only.split(",")]
        if args.flame:
            lines += ["| workload | req/s (while sampled) | flamegraph | most self time |",
                      "|---|---|---|---|"]
            print("\n".join(lines), flush=True)
            for w in workloads:
                row = flame(w, s3port, env, args.connections, args.duration, args.warmup,
                            Path(args.flame))
                print(row, flush=True)
                lines.append(row)
            lines += ["", f"{datetime.date.today()}, {platform.node()}, {os.cpu_count()} CPUs, "
                      f"wrk -t2 -c{args.connections} -d{args.duration}s, perf -F 199 dwarf"]
            if args.out:
                Path(args.out).write_text("\n".join(lines) + "\n")
            return
        contestants = [Pixgate(source_cache=True), Pixgate(), Sharp(), Thumbor(), Oximg()]
        results = {}
        workloads = [w for w in WORKLOADS if not args.only or w[0] in args.only.split(",")]
        header = [
            "| workload | contestant | req/s | p50 ms | p99 ms | errors | peak RSS MiB |",
            "|---|---|---|---|---|---|---|",
        ]
        print("\n".join(header), flush=True)
        lines += header
        for w in workloads:
            for c in contestants:
                if not c.available():
                    row = f"| {w[0]} | {c.name} | not installed | | | | |"
                else:
                    r = run_one(c, w, s3port, env, args.connections, args.duration, args.warmup)
                    if r is None:
                        row = f"| {w[0]} | {c.name} | not comparable | | | | |"
                    else:
                        results[(w[0], c.name)] = r
                        row = fmt_row(w[0], c.name, r)
                print(row, flush=True)
                lines.append(row)
        for wname, c, conns in [("a", Pixgate(), 16)]:
            w = next((x for x in WORKLOADS if x[0] == wname and x in workloads), None)
            if w is None:
                continue
            r = run_one(c, w, s3port, env, conns, args.duration, args.warmup)
            label = c.name + (f", {conns} connections" if conns != args.connections else "")
            row = fmt_row(w[0], label, r)
            print(row, flush=True)
            lines.append(row)

        lines += ["", "Throughput ratios (pixgate's req/s over the peer's):", "",
                  "| workload | pixgate | / sharp | / thumbor | / oximg |", "|---|---|---|---|---|"]
        for w in workloads:
            for mine_name in ("pixgate", "pixgate (source cache on)"):
                mine = results.get((w[0], mine_name))
                cells = []
                for peer in ("sharp", "thumbor", "oximg"):
                    theirs = results.get((w[0], peer))
                    ok = mine and theirs and theirs["rps"]
                    cells.append(f"{mine['rps'] / theirs['rps']:.2f}×" if ok else "–")
                lines.append(f"| {w[0]} | {mine_name} | " + " | ".join(cells) + " |")

        # The criterion bench builds unless binaries are to be used as they are.
        floor = None if args.no_build else huffman_floor()
        if floor and ("a", "pixgate") in results:
            cores = os.cpu_count() or 2
            ceiling = cores * 1000.0 / floor
            lines += ["", f"Huffman floor for (a): decoding the source at 1/8 takes {floor:.1f} ms "
                      f"(criterion, one core), so {cores} cores cannot exceed {ceiling:.0f} req/s."]
            for name in ("pixgate (source cache on)", "pixgate"):
                if ("a", name) in results:
                    got = results[("a", name)]["rps"]
                    lines.append(f"{name} reached {got:.1f} req/s = {100 * got / ceiling:.0f} % of it.")
        lines += ["", f"{datetime.date.today()}, {platform.node()}, {os.cpu_count()} CPUs, "
                  f"wrk -t2 -c{args.connections} -d{args.duration}s after {args.warmup}s warm-up, "
                  f"origin {args.origin}"]
    finally:
        stop(s3)
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
