"""The app under gunicorn for the HTTP benchmarks, a browser-like HTTP client, and wrk runs with their summary."""

import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import time as clock
from contextlib import contextmanager
from pathlib import Path

from _common import ROOT

WRK_SUMMARY = re.compile(r"^BANC (?P<fields>.*)$", re.MULTILINE)


@contextmanager
def gunicorn(url, port, workers=2, threads=8):
    """Serve app.py with gunicorn on 127.0.0.1:`port` until the block ends; the log is printed if it fails.

    gthread workers keep idle keep-alive connections in their poller: a visitor reading the page
    does not hold a worker, as a buffering proxy in front of sync workers would ensure.
    """
    log = Path(tempfile.mkstemp(prefix="tutoradmin-banc-gunicorn-", suffix=".log")[1])
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="banc-d-essai", LOG_LEVEL="WARNING")
    env.pop("TUTORADMIN_ENV", None)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "5",
        "--bind",
        f"127.0.0.1:{port}",
        "app:app",
    ]
    with log.open("w") as output:
        # A session of its own: at the end, its workers go with it.
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_up(server, port, log)
        yield server
    finally:
        # Quick shutdown: nothing is left to answer, the graceful one would wait for idle connections.
        server.send_signal(signal.SIGQUIT)
        try:
            server.wait(timeout=3)
        except subprocess.TimeoutExpired:
            # Threads waiting for the first bytes of a connection wrk left behind hold it up to 5 s.
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.unlink(missing_ok=True)


def _wait_until_up(server, port, log):
    deadline = clock.monotonic() + 60
    while clock.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            status, _body = HttpClient(port).request("GET", "/sante")
            if status == 200:
                return
        except OSError:
            pass
        clock.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer on port {port}:\n{log.read_text()[-3000:]}")


class HttpClient:
    """One visitor over HTTP: its cookies, a new connection per request (so both workers serve it)."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value
            return response.status, text
        finally:
            conn.close()


def wrk(port, script, args, connections, seconds):
    """Run wrk with the Lua `script`; returns the dict its done() prints (latencies in ms)."""
    threads = min(2, connections)
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=10s",
        f"--script={script}",
        f"http://127.0.0.1:{port}",
        "--",
        *[str(a) for a in args],
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    except FileNotFoundError as exc:
        raise SystemExit("wrk is missing: apt-get install -y wrk") from exc
    match = WRK_SUMMARY.search(done.stdout)
    if match is None:
        raise SystemExit(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    fields = dict(part.split("=", 1) for part in match.group("fields").split())
    return {name: float(value) for name, value in fields.items()}
