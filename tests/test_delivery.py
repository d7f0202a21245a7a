"""Outbox delivery (SPEC §11): signed posts, backoff for at least 24 h, per-family URLs, order, each event once."""

import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
import sentry_sdk
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutoradmin import create_app, delivery, outbox, outbox_signature
from tutoradmin.config import PROJECT_ROOT
from tutoradmin.delivery import BACKOFF, JITTER, LEASE
from tutoradmin.models import EVENT_FAMILY_NAMES, OutboxEvent, OutboxEventType, OutboxStatus

from .races import race
from .webhook_receiver import SECRET, running_receiver

SIGNUP = OutboxEventType.SIGNUP
BOOKING = OutboxEventType.BOOKING_CREATED
CANCELLED = OutboxEventType.BOOKING_CANCELLED
TICKET = OutboxEventType.TICKET_CREATED


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def fast_timeout(monkeypatch):
    """The receiver's slow answers need not keep the suite waiting ten seconds."""
    monkeypatch.setattr(delivery, "TIMEOUT", 0.5)


def settings(default=None, secret=SECRET, **families):
    urls = {"*": default, **dict.fromkeys(EVENT_FAMILY_NAMES)}
    urls.update(families)
    return {"OUTBOX_WEBHOOK_URLS": urls, "OUTBOX_SIGNING_SECRET": secret}


def emit(db, event_type, now, payload=None, ordering_key=None):
    event = outbox.emit(event_type, payload or {"n": 1}, f"test:{uuid.uuid4()}", now, ordering_key=ordering_key)
    db.session.commit()
    return event.id


def state(db, event_id):
    db.session.expire_all()
    return db.session.get(OutboxEvent, event_id)


class LowestJitter:
    """A random source that always draws the shortest wait."""

    def uniform(self, low, high):
        return low


# --- Signature -------------------------------------------------------------------------------------------


def test_a_signed_body_verifies_and_a_tampered_or_stale_one_does_not():
    body = json.dumps({"id": 1, "type": "signup", "data": {"prénom": "Zoé"}}).encode()
    now = 1_800_000_000
    header = outbox_signature.sign(body, "s3cret", now)

    assert header.startswith(f"t={now},v1=") and len(header.partition("v1=")[2]) == 64
    assert outbox_signature.verify(body, header, "s3cret", now=now + 299)
    assert outbox_signature.verify(body, f"{header},v1=0000", "s3cret", now=now)  # several signatures: any may match
    assert not outbox_signature.verify(body + b" ", header, "s3cret", now=now)
    assert not outbox_signature.verify(body.replace(b"1", b"2"), header, "s3cret", now=now)
    assert not outbox_signature.verify(body, header, "another-secret", now=now)
    assert not outbox_signature.verify(body, header, "s3cret", now=now + 301)
    assert not outbox_signature.verify(body, header, "s3cret", now=now - 301)
    forged_time = header.replace(f"t={now}", f"t={now + 60}")
    assert not outbox_signature.verify(body, forged_time, "s3cret", now=now + 60)
    for junk in (None, "", "t=abc,v1=00", f"v1={header.partition('v1=')[2]}", f"t={now}", "t=²,v1=é"):
        assert not outbox_signature.verify(body, junk, "s3cret", now=now)


def test_the_documented_standalone_verification_agrees_with_the_sender():
    text = (PROJECT_ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    section = text.split("\n## Receiving and verifying\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)\n```", section, re.DOTALL).group(1)
    namespace = {}
    exec(code, namespace)
    verify = namespace["verify"]
    body = '{"id":7,"type":"signup","data":{"prénom":"Zoé"}}'.encode()

    assert len(code.splitlines()) <= 12
    assert verify(body, outbox_signature.sign(body, SECRET, time.time()), SECRET)
    assert not verify(body + b" ", outbox_signature.sign(body, SECRET, time.time()), SECRET)
    assert not verify(body, outbox_signature.sign(body, "another-secret", time.time()), SECRET)
    assert not verify(body, outbox_signature.sign(body, SECRET, time.time() - 301), SECRET)
    assert not verify(body, "t=²,v1=é", SECRET)


# --- Delivery --------------------------------------------------------------------------------------------


def test_an_event_answered_2xx_is_delivered_once_with_its_signed_body(db, receiver, now):
    event_id = emit(db, SIGNUP, now, {"prénom": "Zoé", "courriel": "zoe@example.com"})

    counts = delivery.deliver_due(now, settings(receiver.url + "/hook"))
    again = delivery.deliver_due(now + timedelta(days=2), settings(receiver.url + "/hook"))

    assert (counts.delivered, counts.retried, counts.failed, counts.stopped) == (1, 0, 0, 0)
    assert again.total == 0
    assert receiver.accepted == {event_id: 1}
    assert receiver.bodies[event_id] == {
        "id": event_id,
        "type": "signup",
        "created_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "data": {"prénom": "Zoé", "courriel": "zoe@example.com"},
    }
    headers = receiver.headers[event_id]
    assert headers["X-TutorAdmin-Event-Id"] == str(event_id)
    assert headers["X-TutorAdmin-Event-Type"] == "signup"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "TutorAdmin-outbox"
    event = state(db, event_id)
    assert event.status == OutboxStatus.DELIVERED
    assert event.attempts == 1
    assert now <= event.delivered_at < now + timedelta(seconds=5)
    assert event.claim_token is None and event.claimed_until is None


def test_the_body_is_compact_utf8_json_signed_as_sent(db, now):
    event_id = emit(db, SIGNUP, now, {"prénom": "Zoé"})
    sent = []

    delivery.deliver_due(now, settings("https://hook.example/x"), send=lambda *request: sent.append(request) or 204)

    [(url, body, headers)] = sent
    assert url == "https://hook.example/x"
    assert "Zoé".encode() in body and b", " not in body and b": " not in body
    assert json.loads(body)["id"] == event_id
    assert outbox_signature.verify(body, headers["X-TutorAdmin-Signature"], SECRET)


def test_failures_then_a_timeout_then_success_follow_the_backoff_schedule(db, receiver, now, fast_timeout, caplog):
    event_id = emit(db, BOOKING, now, {"séance": 12})
    receiver.fail_next(3)
    receiver.sleep_next(1.0)
    config = settings(receiver.url)
    rng = random.Random(20261129)
    clock = now
    errors = []

    for step in range(4):
        counts = delivery.deliver_due(clock, config, rng=rng)
        event = state(db, event_id)
        assert counts.retried == 1 and event.status == OutboxStatus.PENDING
        assert event.attempts == step + 1
        assert event.claim_token is None
        delay = event.next_attempt_at - clock
        assert BACKOFF[step] * (1 - JITTER) <= delay <= BACKOFF[step] * (1 + JITTER) + timedelta(seconds=5)
        errors.append(event.last_error)
        # Not a moment before it is due.
        before = len(receiver.requests)
        assert delivery.deliver_due(event.next_attempt_at - timedelta(seconds=1), config, rng=rng).total == 0
        assert len(receiver.requests) == before
        clock = event.next_attempt_at

    counts = delivery.deliver_due(clock, config, rng=rng)

    event = state(db, event_id)
    assert counts.delivered == 1
    assert event.status == OutboxStatus.DELIVERED and event.attempts == 5
    assert errors[:3] == ["HTTP 500 : réponse inattendue du destinataire."] * 3
    assert "ReadTimeout" in errors[3] and SECRET not in "".join(errors)
    assert [status for _, status in receiver.requests] == [500, 500, 500, 504, 200]
    assert receiver.accepted == {event_id: 1}
    warnings = [r for r in caplog.records if r.name == "tutoradmin.delivery" and r.levelno == logging.WARNING]
    assert len(warnings) == 4 and all(f"{event_id} (booking.created)" in r.getMessage() for r in warnings)


def test_the_schedule_retries_for_at_least_24_hours_even_at_its_shortest():
    assert sum(BACKOFF, timedelta()) * (1 - JITTER) >= timedelta(hours=24)


def test_an_event_retried_for_24_hours_fails_for_good(db, receiver, now, caplog):
    event_id = emit(db, TICKET, now)
    receiver.failing_ids.add(event_id)
    config = settings(receiver.url)
    clock = now
    while state(db, event_id).status == OutboxStatus.PENDING:
        delivery.deliver_due(clock, config, rng=LowestJitter())
        clock = state(db, event_id).next_attempt_at
        assert clock - now < timedelta(days=3), "still retrying after three days"

    event = state(db, event_id)
    assert event.status == OutboxStatus.FAILED
    assert event.attempts == len(BACKOFF) + 1
    assert event.last_attempt_at - event.created_at >= timedelta(hours=24)
    assert event.last_error == "HTTP 500 : réponse inattendue du destinataire."
    assert len(receiver.requests) == len(BACKOFF) + 1
    # Failed is final: later passes leave it alone.
    assert delivery.deliver_due(now + timedelta(days=10), config).total == 0
    assert len(receiver.requests) == len(BACKOFF) + 1
    errors = [r for r in caplog.records if r.name == "tutoradmin.delivery" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and f"{event_id} (ticket.created)" in errors[0].getMessage()


def test_an_event_answered_410_is_stopped_and_never_retried(db, receiver, now):
    receiver.gone_types.add("booking.cancelled")
    gone = emit(db, CANCELLED, now)
    kept = emit(db, BOOKING, now)

    counts = delivery.deliver_due(now, settings(receiver.url))
    later = delivery.deliver_due(now + timedelta(days=3), settings(receiver.url))

    assert (counts.delivered, counts.stopped, counts.retried) == (1, 1, 0)
    assert later.total == 0
    assert state(db, gone).status == OutboxStatus.STOPPED and state(db, gone).attempts == 1
    assert "410" in state(db, gone).last_error
    assert receiver.requests.count((str(gone), 410)) == 1 and len(receiver.requests) == 2
    assert receiver.accepted == {kept: 1}


def test_a_family_url_overrides_the_default_one(db, receiver, now):
    signup = emit(db, SIGNUP, now)
    ticket = emit(db, TICKET, now)

    delivery.deliver_due(now, settings(receiver.url + "/tout", ACCOUNT=receiver.url + "/comptes"))

    assert receiver.paths == {signup: "/comptes", ticket: "/tout"}


def test_an_event_without_a_url_stays_pending_untouched(db, receiver, now):
    signup = emit(db, SIGNUP, now)
    booking = emit(db, BOOKING, now)
    before = state(db, booking).next_attempt_at

    counts = delivery.deliver_due(now + timedelta(days=2), settings(None, ACCOUNT=receiver.url))
    nothing = delivery.deliver_due(now + timedelta(days=2), settings(None))

    assert counts.delivered == 1 and nothing.total == 0
    assert receiver.accepted == {signup: 1}
    event = state(db, booking)
    assert (event.status, event.attempts, event.last_error) == (OutboxStatus.PENDING, 0, None)
    assert event.next_attempt_at == before and event.claim_token is None and event.last_attempt_at is None


# --- Order -----------------------------------------------------------------------------------------------


def test_a_failing_event_holds_back_the_later_events_of_its_ordering_key(db, receiver, now):
    first = emit(db, BOOKING, now, ordering_key="eleve:1")
    second = emit(db, CANCELLED, now, ordering_key="eleve:1")
    other_key = emit(db, BOOKING, now, ordering_key="eleve:2")
    no_key = emit(db, TICKET, now)
    receiver.failing_ids.add(first)
    config = settings(receiver.url)

    counts = delivery.deliver_due(now, config)

    assert (counts.delivered, counts.retried) == (2, 1)
    assert receiver.order == [other_key, no_key]
    waiting = state(db, second)
    assert (waiting.status, waiting.attempts, waiting.claim_token) == (OutboxStatus.PENDING, 0, None)
    retry_at = state(db, first).next_attempt_at
    # `second` is due, but waits as long as `first` does.
    assert delivery.deliver_due(retry_at - timedelta(seconds=1), config).total == 0

    receiver.failing_ids.clear()
    counts = delivery.deliver_due(retry_at, config)

    assert counts.delivered == 2
    assert receiver.order == [other_key, no_key, first, second]
    assert state(db, second).attempts == 1


def test_stopped_and_failed_events_do_not_hold_back_their_key(db, receiver, now):
    receiver.gone_types.add("booking.cancelled")
    stopped = emit(db, CANCELLED, now, ordering_key="eleve:3")
    failed = emit(db, TICKET, now - timedelta(days=3), ordering_key="eleve:3")
    db.session.execute(
        OutboxEvent.__table__.update()
        .where(OutboxEvent.id == failed)
        .values(status="failed", attempts=len(BACKOFF) + 1, last_error="HTTP 500")
    )
    db.session.commit()
    later = emit(db, BOOKING, now, ordering_key="eleve:3")

    counts = delivery.deliver_due(now, settings(receiver.url))

    assert (counts.stopped, counts.delivered) == (1, 1)
    assert state(db, stopped).status == OutboxStatus.STOPPED
    assert receiver.order == [later]


def test_an_earlier_event_without_a_url_does_not_hold_back_its_key(db, receiver, now):
    emit(db, SIGNUP, now, ordering_key="eleve:4")
    booking = emit(db, BOOKING, now, ordering_key="eleve:4")

    delivery.deliver_due(now, settings(None, BOOKING=receiver.url))

    assert receiver.order == [booking]


# --- Claims ----------------------------------------------------------------------------------------------


def test_a_crashed_workers_claim_is_not_resent_until_its_lease_passes(db, receiver, now):
    event_id = emit(db, SIGNUP, now)
    config = settings(receiver.url)
    [claim] = delivery.claim_batch(db.session, now, config["OUTBOX_WEBHOOK_URLS"])  # then the worker dies

    assert state(db, event_id).claimed_until == now + LEASE
    assert delivery.deliver_due(now + LEASE - timedelta(seconds=1), config).total == 0
    assert receiver.requests == []

    counts = delivery.deliver_due(now + LEASE + timedelta(seconds=1), config)

    assert counts.delivered == 1 and receiver.accepted == {event_id: 1}
    event = state(db, event_id)
    assert event.attempts == 1 and event.claim_token is None and claim.token != event.claim_token


def test_a_stale_worker_cannot_overwrite_the_result_of_a_newer_claim(db, receiver, now):
    event_id = emit(db, SIGNUP, now)
    urls = settings(receiver.url)["OUTBOX_WEBHOOK_URLS"]
    [stale] = delivery.claim_batch(db.session, now, urls)
    later = now + LEASE + timedelta(seconds=1)
    [fresh] = delivery.claim_batch(db.session, later, urls)
    assert fresh.token != stale.token

    # The stale worker's post finally fails: its claim is gone, so nothing of it is written.
    lost = delivery.deliver(db.session, stale, later, SECRET, send=lambda *request: 500)
    delivered = delivery.deliver(db.session, fresh, later, SECRET)
    too_late = delivery.record(db.session, stale, {"status": "failed", "last_error": "périmé"})

    assert lost is None and delivered == OutboxStatus.DELIVERED and too_late is False
    event = state(db, event_id)
    assert (event.status, event.attempts, event.last_error) == (OutboxStatus.DELIVERED, 1, None)
    assert receiver.accepted == {event_id: 1}


def test_two_workers_deliver_each_of_40_events_exactly_once(db, pg_engine, quiet, receiver, now):
    ids = [emit(db, BOOKING, now, {"n": n}, ordering_key=f"eleve:{n % 4}" if n % 2 else None) for n in range(40)]
    receiver.delay = 0.01
    config = settings(receiver.url)
    quiet()
    sessions = [Session(pg_engine), Session(pg_engine)]
    try:
        results = race([lambda s=s: delivery.deliver_due(now, config, session=s, batch_size=4) for s in sessions])
    finally:
        for session in sessions:
            session.close()

    assert all(isinstance(result, delivery.DeliveryCounts) for result in results), results
    assert sum(result.delivered for result in results) == 40
    assert all(result.delivered > 0 for result in results), "one worker did everything: no race happened"
    assert receiver.accepted == dict.fromkeys(ids, 1) and receiver.duplicates == 0
    for key in range(1, 4, 2):
        of_key = [i for n, i in enumerate(ids) if n % 2 and n % 4 == key]
        assert [i for i in receiver.order if i in of_key] == of_key
    rows = db.session.execute(select(OutboxEvent.status, OutboxEvent.attempts, OutboxEvent.claim_token)).all()
    assert set(rows) == {(OutboxStatus.DELIVERED.value, 1, None)}


# --- Worker and command ----------------------------------------------------------------------------------


def test_a_stopped_worker_finishes_the_event_in_hand_and_hands_back_the_rest(db, receiver, now):
    ids = [emit(db, SIGNUP, now, {"n": n}) for n in range(3)]
    stop = delivery.StopFlag()

    def send_then_stop(url, body, headers):
        status = delivery.post(url, body, headers)
        stop.request()  # as SIGTERM would, in the middle of the batch
        return status

    counts = delivery.deliver_due(now, settings(receiver.url), send=send_then_stop, should_stop=stop)

    assert counts.delivered == 1 and receiver.accepted == {ids[0]: 1}
    for event_id in ids[1:]:
        event = state(db, event_id)
        assert (event.status, event.attempts, event.claim_token) == (OutboxStatus.PENDING, 0, None)


def test_the_worker_pauses_when_nothing_is_due_and_stops_on_request(db, receiver, now):
    event_id = emit(db, SIGNUP, now)
    pauses = []

    class Flag(delivery.StopFlag):
        def sleep(self, seconds):
            pauses.append(seconds)
            self.request()

    counts = delivery.run_worker(settings(receiver.url), Flag(), clock=lambda: now, idle_seconds=3)

    assert counts.delivered == 1 and receiver.accepted == {event_id: 1}
    assert pauses == [3]


def test_deliver_outbox_command_prints_the_counts(app, db, receiver, now):
    delivered = emit(db, SIGNUP, now)
    retried = emit(db, TICKET, now)
    receiver.failing_ids.add(retried)
    app.config.update(settings(receiver.url))

    result = app.test_cli_runner().invoke(args=["deliver-outbox"])

    assert result.exit_code == 0, result.output
    assert "Événements livrés : 1." in result.output
    assert "Événements à réessayer plus tard : 1." in result.output
    assert "Événements en échec définitif : 0." in result.output
    assert receiver.accepted == {delivered: 1}
    assert state(db, retried).attempts == 1


def test_deliver_outbox_command_says_when_no_url_is_set(app, db, now):
    event_id = emit(db, SIGNUP, now)
    app.config.update(settings(None))

    result = app.test_cli_runner().invoke(args=["deliver-outbox"])

    assert result.exit_code == 0, result.output
    assert "Aucune URL OUTBOX_WEBHOOK_URL" in result.output and "Événements livrés : 0." in result.output
    assert state(db, event_id).attempts == 0


def test_the_looping_worker_delivers_then_stops_cleanly_on_sigterm(app, db, receiver, now):
    event_id = emit(db, SIGNUP, now - timedelta(seconds=5))
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret-key",
        "OUTBOX_WEBHOOK_URL": receiver.url,
        "OUTBOX_SIGNING_SECRET": SECRET,
    }
    env.pop("TUTORADMIN_ENV", None)
    env.pop("FLASK_ENV", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "deliver-outbox", "--loop"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not receiver.accepted and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    assert worker.returncode == 0, output
    assert receiver.accepted == {event_id: 1}
    assert "Arrêt demandé" in output and "Événements livrés : 1." in output
    assert state(db, event_id).status == OutboxStatus.DELIVERED


# --- Logging ---------------------------------------------------------------------------------------------


def test_create_app_sets_the_log_level_and_starts_sentry_only_with_a_dsn(monkeypatch):
    started = []
    monkeypatch.setattr(sentry_sdk, "init", lambda **options: started.append(options))
    logger = logging.getLogger("tutoradmin")
    level = logger.level
    try:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "LOG_LEVEL": "WARNING"})
        assert started == [] and logger.level == logging.WARNING
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SENTRY_DSN": "https://cle@sentry.example/1"})
    finally:
        logger.setLevel(level)

    [options] = started
    assert options["dsn"] == "https://cle@sentry.example/1" and options["send_default_pii"] is False
    assert [type(i).__name__ for i in options["integrations"]] == ["FlaskIntegration"]


def test_a_refused_gateway_webhook_is_logged_with_the_event_it_claims(client, caplog):
    body = json.dumps({"id": "evt_faux_123", "type": "payment_intent.succeeded"})

    response = client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": "t=1,v1=00"})

    assert response.status_code == 400
    [record] = [r for r in caplog.records if r.name == "tutoradmin.public.checkout"]
    assert record.levelno == logging.WARNING and "evt_faux_123" in record.getMessage()


def test_the_local_receiver_script_accepts_our_signatures_and_refuses_others():
    import importlib.util

    from tutoradmin.config import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location("receive_webhooks", PROJECT_ROOT / "scripts" / "receive_webhooks.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    body = b'{"id":1,"type":"signup","created_at":"2026-11-29T10:00:00Z","data":{}}'
    header = outbox_signature.sign(body, "s3cret", time.time())

    assert script.signature_ok(body, header, "s3cret")
    assert not script.signature_ok(body + b" ", header, "s3cret")
    assert not script.signature_ok(body, header, "other")
    assert not script.signature_ok(body, outbox_signature.sign(body, "s3cret", time.time() - 3600), "s3cret")
    assert not script.signature_ok(body, "garbage", "s3cret")
