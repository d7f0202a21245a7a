"""A local receiver for the outbound events: checks each signature and prints the event (standard library only).

    python3 scripts/receive_webhooks.py --port 8001 --secret "$OUTBOX_SIGNING_SECRET"

Answers 204 to a correctly signed event, 401 otherwise; an event id seen before is printed as a repeat.
"""

import argparse
import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300


def signature_ok(body, header, secret):
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp = fields.get("t", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


def handler_for(secret, seen):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not signature_ok(body, self.headers.get("X-TutorAdmin-Signature", ""), secret):
                print(f"refused (bad signature) on {self.path}", flush=True)
                self.send_response(401)
                self.end_headers()
                return
            event = json.loads(body)
            repeat = " (repeat)" if event["id"] in seen else ""
            seen.add(event["id"])
            print(f"#{event['id']} {event['type']} on {self.path}{repeat}", flush=True)
            print(json.dumps(event["data"], ensure_ascii=False, indent=2), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--secret", required=True, help="OUTBOX_SIGNING_SECRET of the application")
    options = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", options.port), handler_for(options.secret, set()))
    print(f"Listening on http://127.0.0.1:{options.port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
