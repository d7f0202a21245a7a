"""A local stand-in for the automation platform's webhooks: a real HTTP server that checks signatures.

It verifies each request with `outbox_signature.verify` (401 when the signature is wrong), answers as the test
scripts it (500s, a sleep past the client's timeout, 410 for some event types), and records every event
it accepted: how many times each id arrived, in which order, on which path. It never talks to the network.
"""

import contextlib
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tutoradmin import outbox_signature

SECRET = "whsec-test-outbox"


class Receiver:
    """What the server answers and what it saw; the test reads and scripts it."""

    def __init__(self, secret=SECRET):
        self.secret = secret
        self.url = None
        self.lock = threading.Lock()
        #: Answers for the next requests, in order: an HTTP status, or ("sleep", seconds) then 200.
        self.script = []
        #: Event types answered 410 Gone.
        self.gone_types = set()
        #: Event ids answered 500 for as long as they are in the set.
        self.failing_ids = set()
        #: Seconds each accepted request takes (to let concurrent workers overlap).
        self.delay = 0
        self.accepted = Counter()
        self.order = []
        self.paths = {}
        self.bodies = {}
        self.headers = {}
        #: Every request, accepted or not: (event id header, HTTP status answered).
        self.requests = []

    def fail_next(self, count, status=500):
        self.script.extend([status] * count)

    def sleep_next(self, seconds):
        self.script.append(("sleep", seconds))

    @property
    def duplicates(self):
        return sum(count - 1 for count in self.accepted.values())

    def answer(self, path, headers, body):
        """The status for one request, and what it records."""
        if not outbox_signature.verify(body, headers.get(outbox_signature.SIGNATURE_HEADER), self.secret):
            return self._log(headers, 401)
        event = json.loads(body)
        with self.lock:
            action = self.script.pop(0) if self.script else 200
        if isinstance(action, tuple):
            # The sender gives up first: as if this receiver had crashed mid-request, nothing is recorded.
            self._log(headers, 504)
            time.sleep(action[1])
            return 504
        if action != 200:
            return self._log(headers, action)
        if event["type"] in self.gone_types:
            return self._log(headers, 410)
        if event["id"] in self.failing_ids:
            return self._log(headers, 500)
        time.sleep(self.delay)
        with self.lock:
            self.accepted[event["id"]] += 1
            if self.accepted[event["id"]] == 1:
                self.order.append(event["id"])
                self.paths[event["id"]] = path
                self.bodies[event["id"]] = event
                self.headers[event["id"]] = dict(headers)
        return self._log(headers, 200)

    def _log(self, headers, status):
        with self.lock:
            self.requests.append((headers.get("X-TutorAdmin-Event-Id"), status))
        return status


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.receiver.answer(self.path, self.headers, body)
        with contextlib.suppress(OSError):  # the sender may have stopped waiting
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def running_receiver(secret=SECRET):
    """A receiver served on 127.0.0.1 (a free port) in a thread, for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.receiver = Receiver(secret)
    server.receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def webhook_receiver():
    """A fresh receiver for one test: `webhook_receiver.url`, its script, and what it recorded."""
    with running_receiver() as receiver:
        yield receiver
