"""Serving benchmark: requests/s and latency of the public pages under 32 concurrent connections.

    python bench/serve.py [--duration 10] [--connections 32] [--workers 3]

In one run, on loopback, against a throwaway SQLite database with the demo loaded (production
settings, DEBUG off):

(a) static: the article's HTML saved as a file and served by nginx (python's http.server when
    nginx is not installed) — the limit;
(b) stock: a plain Wagtail `Page` with Wagtail's own minimal template, gunicorn, no cache — the
    baseline;
(c) our article page and the September 2024 archive month, gunicorn, no cache;
(d) the same two with the page cache on (evidencepress/core/page_cache.py, file cache).

The load generator is wrk (http://github.com/wg/wrk) when installed, with a fixed duration; else
a Python keep-alive client with one thread per connection (noted in the results). Targets
(issue 6): (c) ≥ 0.5 × (b) requests/s; (d) ≥ 0.05 × (a) requests/s with p99 < 20 ms.
Writes bench/results/serve.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def environment(var_dir: Path, *, page_cache: bool) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="evidencepress.settings.production",
        EVIDENCEPRESS_VAR_DIR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir / 'db.sqlite3'}",
        DJANGO_SECRET_KEY="bench-only-not-secret-" + "x" * 40,
        ALLOWED_HOSTS=f"{HOST},localhost",
        SECURE_SSL_REDIRECT="false",
        SUMMARIES_ENCRYPTION_KEYS=os.environ.get(
            "SUMMARIES_ENCRYPTION_KEYS", Fernet.generate_key().decode()
        ),
        EVIDENCEPRESS_PAGE_CACHE="1" if page_cache else "0",
        PYTHONPATH=str(ROOT),
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


# Run inside the benchmark database (manage.py shell): a stock Wagtail page beside the demo,
# then print the paths to measure as JSON.
PREPARE = """
import json
from wagtail.models import Page, Site
from evidencepress.articles.models import ArchiveIndexPage, ArticlePage
home = Site.objects.get(is_default_site=True).root_page
stock = Page.objects.child_of(home).filter(slug="bench-stock-page").first()
if stock is None:
    stock = home.add_child(instance=Page(title="A stock Wagtail page", slug="bench-stock-page"))
    stock.save_revision().publish()
live = ArticlePage.objects.live().public().order_by("date")
article = live.filter(slug__icontains="imiquimod").first()
article = article or live.first()
archive = ArchiveIndexPage.objects.live().public().first()
if article is None or archive is None:
    raise SystemExit("the demo has no article or archive page: is load_demo complete?")
month = archive.reverse_subpage("month_route", args=(2024, 9))
print(json.dumps({"stock": stock.url, "article": article.url, "month": archive.url + month}))
"""


def wait_for(port: int, path: str = "/", timeout: float = 120.0, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    detail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise SystemExit(f"nothing answered on port {port} within {timeout:.0f} s\n{detail}")


def fetch(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def start(
    command: list[str], env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    output = log.open("ab") if log else subprocess.DEVNULL
    return subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=output,
        stderr=output,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def static_server(directory: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx:
        conf = directory.parent / "nginx.conf"
        conf.write_text(
            f"""
worker_processes auto;
pid {directory.parent / "nginx.pid"};
error_log {directory.parent / "nginx-error.log"};
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ text/html html; text/css css; }}
    default_type application/octet-stream;
    client_body_temp_path {directory.parent / "nginx-tmp"};
    server {{
        listen {HOST}:{port};
        root {directory};
        index index.html;
    }}
}}
""",
            encoding="utf-8",
        )
        (directory.parent / "nginx-tmp").mkdir(exist_ok=True)
        return start([nginx, "-c", str(conf), "-g", "daemon off;"]), "nginx"
    return (
        start([PYTHON, "-m", "http.server", str(port), "--bind", HOST, "-d", str(directory)]),
        "python http.server",
    )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(url: str, connections: int, duration: int) -> dict[str, Any]:
    threads = min(2, connections)
    done = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "30s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    )
    out = done.stdout
    if "Latency Distribution" not in out:
        raise SystemExit(f"wrk measured nothing for {url}:\n{out}\n{done.stderr}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s*(50|99)%\s+(\S+)\s*$", out, re.M))
    if set(latency) != {"50", "99"}:
        raise SystemExit(f"unreadable wrk output for {url}:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "requests_per_s": round(rps, 1),
        "p50_ms": round(_ms(latency["50"]), 3),
        "p99_ms": round(_ms(latency["99"]), 3),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def run_python_load(url: str, connections: int, duration: int) -> dict[str, Any]:
    """One thread per connection, HTTP/1.1 keep-alive, for `duration` seconds."""
    match = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    assert match
    host, port, path = match.group(1), int(match.group(2)), match.group(3)
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [0] * connections
    deadline = time.monotonic() + duration

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures[index] += 1
            except OSError:
                failures[index] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                continue
            latencies[index].append((time.perf_counter() - started) * 1000)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    merged = sorted(value for values in latencies for value in values)
    if not merged:
        raise SystemExit(f"no request to {url} succeeded")
    return {
        "requests_per_s": round(len(merged) / elapsed, 1),
        "p50_ms": round(statistics.median(merged), 3),
        "p99_ms": round(merged[min(len(merged) - 1, int(len(merged) * 0.99))], 3),
        "non_2xx": sum(failures),
        "socket_errors": "",
    }


def measure(port: int, path: str, connections: int, duration: int) -> dict[str, Any]:
    # Warm up: imports, template loading, the first cache fill.
    for _ in range(20):
        status, _, _ = fetch(port, path)
        if status != 200:
            raise SystemExit(f"{path} returned {status}")
    url = f"http://{HOST}:{port}{path}"
    if shutil.which("wrk"):
        return run_wrk(url, connections, duration)
    return run_python_load(url, connections, duration)


def gunicorn(
    env: dict[str, str], port: int, workers: int, worker_class: str, threads: int, log: Path
) -> subprocess.Popen[bytes]:
    return start(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "evidencepress.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--keep-alive",
            "10",
            "--log-level",
            "warning",
        ],
        env,
        log,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="Seconds per measurement.")
    parser.add_argument("--connections", type=int, default=32, help="Concurrent connections.")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn worker processes (default: gunicorn's advice, 2 × CPUs + 1).",
    )
    parser.add_argument(
        "--worker-class",
        default="sync",
        choices=["sync", "gthread"],
        help="gunicorn worker class (default sync, gunicorn's default for use behind a proxy).",
    )
    parser.add_argument("--threads", type=int, default=1, help="Threads per gthread worker.")
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    tool = "wrk" if shutil.which("wrk") else "python threads (keep-alive http.client)"
    with tempfile.TemporaryDirectory(prefix="evidencepress-bench-serve-") as tmp:
        var_dir = Path(tmp) / "var"
        var_dir.mkdir()
        env = environment(var_dir, page_cache=False)
        print("preparing the database (migrate, load_demo, collectstatic)…", flush=True)
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo")
        manage(env, "collectstatic", "--noinput")
        paths = json.loads(manage(env, "shell", "-c", PREPARE).strip().splitlines()[-1])

        results: dict[str, Any] = {}
        port = free_port()
        log = Path(tmp) / "gunicorn.log"
        server = gunicorn(env, port, args.workers, args.worker_class, args.threads, log)
        try:
            wait_for(port, paths["article"], log=log)
            status, _, article_html = fetch(port, paths["article"])
            if status != 200:
                raise SystemExit(f"{paths['article']} returned {status}")
            for name, key in (
                ("b_stock_wagtail_page", "stock"),
                ("c_article_no_cache", "article"),
                ("c_archive_month_no_cache", "month"),
            ):
                print(f"measuring {name} ({paths[key]})…", flush=True)
                measured = measure(port, paths[key], args.connections, args.duration)
                results[name] = {"path": paths[key], **measured}
        finally:
            stop(server)

        cached_env = environment(var_dir, page_cache=True)
        port = free_port()
        server = gunicorn(cached_env, port, args.workers, args.worker_class, args.threads, log)
        try:
            wait_for(port, paths["article"], log=log)
            _, headers, _ = fetch(port, paths["article"])
            _, headers, _ = fetch(port, paths["article"])
            if headers.get("x-page-cache") != "hit":
                raise SystemExit("the page cache did not serve the article on the second request")
            for name, key in (
                ("d_article_page_cache", "article"),
                ("d_archive_month_page_cache", "month"),
            ):
                print(f"measuring {name}…", flush=True)
                measured = measure(port, paths[key], args.connections, args.duration)
                results[name] = {"path": paths[key], **measured}
        finally:
            stop(server)

        site = Path(tmp) / "static-site"
        site.mkdir()
        (site / "index.html").write_bytes(article_html)
        for directory in (Path(tmp), site):
            directory.chmod(0o755)
        (site / "index.html").chmod(0o644)
        port = free_port()
        server, server_name = static_server(site, port)
        try:
            wait_for(port)
            print(f"measuring a_static_file ({server_name})…", flush=True)
            results["a_static_file"] = {
                "path": "/index.html",
                "server": server_name,
                **measure(port, "/index.html", args.connections, args.duration),
            }
        finally:
            stop(server)

    a = results["a_static_file"]["requests_per_s"]
    b = results["b_stock_wagtail_page"]["requests_per_s"]
    ratios = {
        "c_article_over_b": round(results["c_article_no_cache"]["requests_per_s"] / b, 3),
        "c_month_over_b": round(results["c_archive_month_no_cache"]["requests_per_s"] / b, 3),
        "d_article_over_a": round(results["d_article_page_cache"]["requests_per_s"] / a, 4),
        "d_month_over_a": round(results["d_archive_month_page_cache"]["requests_per_s"] / a, 4),
        "d_article_over_b": round(results["d_article_page_cache"]["requests_per_s"] / b, 1),
    }
    d_p99 = max(
        results["d_article_page_cache"]["p99_ms"], results["d_archive_month_page_cache"]["p99_ms"]
    )
    targets = {
        "c_at_least_half_of_b": min(ratios["c_article_over_b"], ratios["c_month_over_b"]) >= 0.5,
        "d_at_least_5_percent_of_a": min(ratios["d_article_over_a"], ratios["d_month_over_a"])
        >= 0.05,
        "d_p99_under_20_ms": d_p99 < 20.0,
    }
    report = {
        "benchmark": "serve",
        "load_generator": tool,
        "connections": args.connections,
        "duration_s_each": args.duration,
        "gunicorn": f"{args.workers} workers, {args.worker_class}"
        + (f", {args.threads} threads each" if args.worker_class == "gthread" else ""),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "results": results,
        "ratios": ratios,
        "targets_met": targets,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "note": "Load generator and servers share the same machine; on a busy or small machine "
        "the static server is limited by the load generator, so (a) is a lower bound.",
    }
    out = RESULTS / "serve.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"ratios": ratios, "targets_met": targets}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
