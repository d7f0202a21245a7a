"""A tutor's occupied time as 30-minute cells: the database's guard against double booking.

See `SlotLock`: each hold or appointment owns one row per cell it covers, and the
unique key on (tutor, cell) lets only one owner have a cell, whatever the number
of app servers or concurrent requests.
"""

from datetime import UTC, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from .errors import DomainError
from .extensions import db
from .models import SlotLock

CELL = timedelta(minutes=30)
SLOT_TAKEN = "Ce créneau n'est plus disponible"


class SlotTaken(DomainError):
    """Another hold or appointment already occupies part of the range."""

    def __init__(self, message=SLOT_TAKEN):
        super().__init__(message)


def cells(starts_at, ends_at):
    """UTC starts of the 30-minute cells covering [starts_at, ends_at)."""
    start = starts_at.astimezone(UTC)
    end = ends_at.astimezone(UTC)
    if start.minute % 30 or start.second or start.microsecond or (end - start) % CELL:
        raise ValueError("Sessions start on the 30-minute grid and last whole cells.")
    if end <= start:
        raise ValueError("A session ends after it starts.")
    current = start
    while current < end:
        yield current
        current += CELL


def cell_count(starts_at, ends_at):
    """How many cells a session of this range owns."""
    return sum(1 for _ in cells(starts_at, ends_at))


def occupy(tutor_id, starts_at, ends_at, *, hold_id=None, appointment_id=None):
    """Lock the cells of a range for a hold or an appointment, or raise SlotTaken.

    Runs in a savepoint so that a refusal leaves the caller's transaction usable.
    """
    rows = [
        SlotLock(tutor_id=tutor_id, cell_start=cell, hold_id=hold_id, appointment_id=appointment_id)
        for cell in cells(starts_at, ends_at)
    ]
    try:
        with db.session.begin_nested():
            db.session.add_all(rows)
    except IntegrityError as exc:
        raise SlotTaken() from exc
    return rows


def transfer_hold_to_appointment(hold_id, appointment_id):
    """Hand a paid hold's cells to the appointment it became; returns how many passed."""
    return db.session.execute(
        update(SlotLock)
        .where(SlotLock.hold_id == hold_id)
        .values(hold_id=None, appointment_id=appointment_id)
        .execution_options(synchronize_session=False)
    ).rowcount


def release_appointment(appointment_id):
    """Free the cells of a cancelled or moved appointment."""
    db.session.execute(delete(SlotLock).where(SlotLock.appointment_id == appointment_id))


def release_appointment_outside(appointment_id, tutor_id, starts_at, ends_at):
    """Free the cells of a moved appointment that its new range (tutor, start, end) no longer covers."""
    db.session.execute(
        delete(SlotLock)
        .where(SlotLock.appointment_id == appointment_id)
        .where(
            ~((SlotLock.tutor_id == tutor_id) & (SlotLock.cell_start >= starts_at) & (SlotLock.cell_start < ends_at))
        )
        .execution_options(synchronize_session=False)
    )
