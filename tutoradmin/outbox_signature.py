"""The signature of outbound events: what the worker adds to each POST and what a receiver checks.

X-TutorAdmin-Signature: t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the signing secret>.
"""

import hashlib
import hmac
import time
from datetime import datetime

SIGNATURE_HEADER = "X-TutorAdmin-Signature"
#: How far from the receiver's clock a signature's timestamp may be before it is refused.
SIGNATURE_TOLERANCE = 300


def _key(secret):
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(body, secret, timestamp):
    """The X-TutorAdmin-Signature value for `body` (bytes) sent at `timestamp` (Unix seconds)."""
    t = int(timestamp)
    digest = hmac.new(_key(secret), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(body, header, secret, tolerance=SIGNATURE_TOLERANCE, now=None):
    """Whether `header` signs `body` with `secret` within `tolerance` seconds of `now` (what a receiver checks)."""
    if not isinstance(header, str) or not isinstance(body, bytes):
        return False
    timestamp, signatures = None, []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value.isascii():
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if now is None:
        now = time.time()
    elif isinstance(now, datetime):
        now = now.timestamp()
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(body, secret, timestamp).partition(",v1=")[2]
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
