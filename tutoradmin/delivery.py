"""Delivery of the outbox: signed POSTs to the automation platform, retried with backoff, each event once.

Several workers may run at once, on several machines. Each claims a batch in a short transaction (rows
locked with SKIP LOCKED on PostgreSQL, so two workers never claim the same event), posts outside any
transaction, then records each result only if its claim still holds.
"""

import json
import logging
import random
import secrets
import time
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import aliased

from .extensions import db
from .models import OutboxEvent, OutboxEventType, OutboxStatus, utcnow
from .outbox_signature import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)

USER_AGENT = "TutorAdmin-outbox"
#: Seconds to wait for the receiver to connect, then between bytes of its answer (read at each call).
TIMEOUT = 10
BATCH_SIZE = 10
#: A claim keeps other workers off an event for this long, even if its worker crashed. It covers a whole
#: batch (BATCH_SIZE posts of up to TIMEOUT each); past it, the rest of the batch is handed back unsent.
LEASE = timedelta(seconds=120)
#: The wait after the n-th failed attempt, give or take JITTER (so that failures spread out).
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
JITTER = 0.10
#: An event fails for good once the schedule is spent and it is this old (SPEC §11: retried at least 24 h).
GIVE_UP_AGE = timedelta(hours=24)
#: The --loop worker's pause when nothing was due.
IDLE_SECONDS = 5


@dataclass
class DeliveryCounts:
    """What one pass did to the events it claimed."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    stopped: int = 0

    @property
    def total(self):
        return self.delivered + self.retried + self.failed + self.stopped

    def add(self, other):
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


#: The DeliveryCounts field of each result: an event still pending after an attempt will be retried.
COUNTED_AS = {
    OutboxStatus.DELIVERED: "delivered",
    OutboxStatus.PENDING: "retried",
    OutboxStatus.FAILED: "failed",
    OutboxStatus.STOPPED: "stopped",
}


@dataclass(frozen=True)
class Claim:
    """An event a worker holds until `claimed_until`: what it needs to post it and record the result."""

    id: int
    event_type: str
    created_at: datetime
    payload: object
    ordering_key: str | None
    attempts: int
    url: str
    token: str


# --- What is sent where ------------------------------------------------------------------------------------


def webhook_url(event_type, urls):
    """Where an event type is posted: its family's URL, else the default one; None while neither is set."""
    return urls.get(OutboxEventType(event_type).family) or urls.get("*")


def deliverable_types(urls):
    """The event types that have a URL; the others stay pending, untouched, until one is configured."""
    return [member.value for member in OutboxEventType if webhook_url(member, urls)]


def _iso(moment):
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def body_of(claim):
    """The JSON document posted for an event, as the exact bytes that are signed."""
    document = {"id": claim.id, "type": claim.event_type, "created_at": _iso(claim.created_at), "data": claim.payload}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def headers_for(claim, body, secret, timestamp):
    """The request headers, with the signature of `body` at `timestamp`."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-TutorAdmin-Event-Id": str(claim.id),
        "X-TutorAdmin-Event-Type": claim.event_type,
        SIGNATURE_HEADER: sign(body, secret, timestamp),
    }


def post(url, body, headers):
    """POST `body` to `url` without following redirects; the answer's status code (network errors raise)."""
    with requests.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False) as response:
        return response.status_code


# --- Retry schedule ----------------------------------------------------------------------------------------


def retry_delay(attempts, rng):
    """The wait after `attempts` failed attempts: the schedule's step (its last once spent), ± JITTER."""
    step = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    return step * rng.uniform(1 - JITTER, 1 + JITTER)


def _outcome(claim, status, error, now, rng):
    """The event's new status and the columns to write, after one attempt answered `status` or raised `error`."""
    attempts = claim.attempts + 1
    done = {"attempts": attempts, "last_attempt_at": now}
    if status is not None and 200 <= status < 300:
        return OutboxStatus.DELIVERED, {**done, "status": OutboxStatus.DELIVERED.value, "delivered_at": now}
    if status == 410:
        message = "HTTP 410 : le destinataire refuse cet événement, aucun nouvel essai."
        return OutboxStatus.STOPPED, {**done, "status": OutboxStatus.STOPPED.value, "last_error": message}
    if status is not None:
        message = f"HTTP {status} : réponse inattendue du destinataire."
    elif isinstance(error, requests.Timeout):
        message = f"Délai d'attente dépassé ({type(error).__name__})."
    elif isinstance(error, requests.ConnectionError):
        message = f"Connexion impossible ({type(error).__name__})."
    else:
        # The class only: an exception's text may quote the URL, which can carry a secret token.
        message = f"Erreur d'envoi ({type(error).__name__})."
    if attempts > len(BACKOFF) and now - claim.created_at >= GIVE_UP_AGE:
        return OutboxStatus.FAILED, {**done, "status": OutboxStatus.FAILED.value, "last_error": message}
    return OutboxStatus.PENDING, {**done, "last_error": message, "next_attempt_at": now + retry_delay(attempts, rng)}


# --- Claims ------------------------------------------------------------------------------------------------


def _claimable(now, types):
    return (
        OutboxEvent.status == OutboxStatus.PENDING.value,
        OutboxEvent.next_attempt_at <= now,
        or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now),
        OutboxEvent.event_type.in_(types),
    )


def claim_batch(session, now, urls, limit=BATCH_SIZE):
    """Claim up to `limit` due events in one short transaction (committed); their claims, in id order.

    An event with an ordering key is claimed only when no earlier event of its key is still pending, other
    than those claimed with it in this batch. (An earlier event without a URL does not hold the others back:
    it may wait for its URL indefinitely.)
    """
    types = deliverable_types(urls)
    if not types:
        return []
    earlier = aliased(OutboxEvent)
    # Leaves out at once the events queued behind one that waits for its next attempt or another worker;
    # the check below also catches an earlier event locked by a worker claiming it at this very moment.
    held_back = exists().where(
        earlier.ordering_key == OutboxEvent.ordering_key,
        earlier.id < OutboxEvent.id,
        earlier.status == OutboxStatus.PENDING.value,
        earlier.event_type.in_(types),
        or_(earlier.next_attempt_at > now, earlier.claimed_until >= now),
    )
    rows = session.execute(
        select(
            OutboxEvent.id,
            OutboxEvent.event_type,
            OutboxEvent.created_at,
            OutboxEvent.payload,
            OutboxEvent.ordering_key,
            OutboxEvent.attempts,
        )
        .where(*_claimable(now, types), ~held_back)
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    chosen = _in_key_order(session, rows, types)
    token = secrets.token_hex(16)
    claimed = set()
    if chosen:
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_([row.id for row in chosen]), *_claimable(now, types))
            .values(claim_token=token, claimed_until=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        claimed = set(session.scalars(select(OutboxEvent.id).where(OutboxEvent.claim_token == token)))
    session.commit()
    return [
        Claim(
            id=row.id,
            event_type=row.event_type,
            created_at=row.created_at,
            payload=row.payload,
            ordering_key=row.ordering_key,
            attempts=row.attempts,
            url=webhook_url(row.event_type, urls),
            token=token,
        )
        for row in chosen
        if row.id in claimed
    ]


def _in_key_order(session, rows, types):
    """The rows with no earlier pending event of their ordering key left outside the batch."""
    keys = {row.ordering_key for row in rows if row.ordering_key is not None}
    if not keys:
        return list(rows)
    pending = {}
    for event_id, key in session.execute(
        select(OutboxEvent.id, OutboxEvent.ordering_key).where(
            OutboxEvent.ordering_key.in_(keys),
            OutboxEvent.status == OutboxStatus.PENDING.value,
            OutboxEvent.event_type.in_(types),
            OutboxEvent.id < max(row.id for row in rows),
        )
    ):
        pending.setdefault(key, []).append(event_id)
    taken, chosen = set(), []
    for row in rows:
        before = (event_id for event_id in pending.get(row.ordering_key, ()) if event_id < row.id)
        if row.ordering_key is None or all(event_id in taken for event_id in before):
            taken.add(row.id)
            chosen.append(row)
    return chosen


def record(session, claim, values):
    """Write an attempt's result and end the claim (committed); False if another worker took the event over."""
    result = session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == claim.id, OutboxEvent.claim_token == claim.token)
        .values(claim_token=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def release(session, claims):
    """Hand unsent claimed events back, untouched, for the next pass (committed)."""
    for claim in claims:
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == claim.id, OutboxEvent.claim_token == claim.token)
            .values(claim_token=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
    session.commit()


# --- Delivery ----------------------------------------------------------------------------------------------


def deliver(session, claim, now, secret, rng=random, send=None):
    """Post one claimed event and record the result; its new status, or None if the claim was lost meanwhile."""
    send = post if send is None else send
    status = error = None
    try:
        body = body_of(claim)
        status = send(claim.url, body, headers_for(claim, body, secret, time.time()))
    except Exception as exc:  # whatever went wrong, the event is retried, and the other events still go
        error = exc
    new_status, values = _outcome(claim, status, error, now, rng)
    if not record(session, claim, values):
        log.warning(
            "Outbox event %s (%s): claimed by another worker meanwhile, result not recorded", claim.id, claim.event_type
        )
        return None
    if new_status == OutboxStatus.DELIVERED:
        log.info("Outbox event %s (%s) delivered", claim.id, claim.event_type)
    elif new_status == OutboxStatus.STOPPED:
        log.warning("Outbox event %s (%s) refused with 410: no more attempts", claim.id, claim.event_type)
    elif new_status == OutboxStatus.FAILED:
        log.error(
            "Outbox event %s (%s) failed for good after %s attempts: %s",
            claim.id,
            claim.event_type,
            values["attempts"],
            values["last_error"],
        )
    else:
        log.warning(
            "Outbox event %s (%s) not delivered (attempt %s): %s Next attempt at %s.",
            claim.id,
            claim.event_type,
            values["attempts"],
            values["last_error"],
            _iso(values["next_attempt_at"]),
        )
    return new_status


def deliver_due(now, config, session=None, rng=None, send=None, batch_size=BATCH_SIZE, should_stop=None):
    """Deliver every event due at `now`, batch after batch; the counts.

    Commits by itself: claims and results are short transactions of their own, and no transaction stays open
    while a receiver is being waited for. `should_stop()` is asked before each post.
    """
    session = db.session if session is None else session
    rng = random if rng is None else rng
    urls, secret = config["OUTBOX_WEBHOOK_URLS"], config["OUTBOX_SIGNING_SECRET"]
    started = time.monotonic()

    def clock():
        # `now` moves on with real time, so that the leases of later batches start when they are claimed.
        return now + timedelta(seconds=time.monotonic() - started)

    counts = DeliveryCounts()
    while not (should_stop and should_stop()):
        claimed_at = time.monotonic()
        claims = claim_batch(session, clock(), urls, batch_size)
        if not claims:
            break
        # A post may take up to TIMEOUT: none starts that could end after the lease.
        deadline = claimed_at + LEASE.total_seconds() - TIMEOUT - 1
        failed_keys = set()
        for index, claim in enumerate(claims):
            if (should_stop and should_stop()) or time.monotonic() > deadline:
                release(session, claims[index:])
                break
            if claim.ordering_key in failed_keys:
                release(session, [claim])
                continue
            status = deliver(session, claim, clock(), secret, rng, send)
            if status is not None:
                counted = COUNTED_AS[status]
                setattr(counts, counted, getattr(counts, counted) + 1)
            if status in (OutboxStatus.PENDING, None) and claim.ordering_key is not None:
                # Pending again, or in another worker's hands: the later events of its key wait for it.
                failed_keys.add(claim.ordering_key)
    return counts


class StopFlag:
    """Set by a signal handler; the worker finishes the event in hand, then stops."""

    def __init__(self):
        self.requested = False

    def request(self, *_signal):
        self.requested = True

    def __call__(self):
        return self.requested

    def sleep(self, seconds):
        """Wait `seconds`, or less if a stop is requested meanwhile."""
        end = time.monotonic() + seconds
        while not self.requested and time.monotonic() < end:
            time.sleep(min(0.2, end - time.monotonic()))


def run_worker(config, stop, session=None, clock=utcnow, idle_seconds=IDLE_SECONDS):
    """Deliver until `stop` is set, pausing `idle_seconds` whenever nothing was due; the total counts."""
    session = db.session if session is None else session
    total = DeliveryCounts()
    while not stop():
        try:
            counts = deliver_due(clock(), config, session=session, should_stop=stop)
        except Exception:
            # A database outage must not end the worker: it says so, waits, and tries again.
            log.exception("Outbox delivery pass failed")
            session.rollback()
            counts = DeliveryCounts()
        total.add(counts)
        if not counts.total:
            stop.sleep(idle_seconds)
    return total
