"""Events are queued once per dedupe key, even when two transactions queue the same one at once."""

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutoradmin import outbox
from tutoradmin.models import OutboxEvent, OutboxEventType, utcnow


def test_an_event_is_queued_once_per_dedupe_key(db):
    now = utcnow()
    first = outbox.emit(OutboxEventType.SIGNUP, {"n": 1}, "signup:user:1", now)
    second = outbox.emit(OutboxEventType.SIGNUP, {"n": 2}, "signup:user:1", now)
    db.session.commit()
    assert first is not None and second is None
    assert db.session.scalars(select(OutboxEvent.payload)).all() == [{"n": 1}]


def test_the_same_event_queued_by_another_transaction_meanwhile_is_skipped_not_an_error(db, pg_engine):
    now = utcnow()
    other = Session(pg_engine)
    other.add(
        OutboxEvent(
            event_type="signup",
            payload={"par": "autre"},
            dedupe_key="signup:user:7",
            created_at=now,
            next_attempt_at=now,
        )
    )
    other.flush()  # written, not committed: this transaction's look-up cannot see it
    timer = threading.Timer(0.5, other.commit)
    timer.start()
    try:
        queued = outbox.emit(OutboxEventType.SIGNUP, {"par": "ici"}, "signup:user:7", now)
    finally:
        timer.join()
        other.close()
    db.session.commit()  # the rest of the transaction stands

    assert queued is None
    assert db.session.scalars(select(OutboxEvent.payload)).all() == [{"par": "autre"}]
