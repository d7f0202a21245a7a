"""A tutor's occupied time as 30-minute cells: the database's guard against double booking.

See `SlotLock`: each hold or appointment owns one row per cell it covers, and the
unique key on (tutor, cell) lets only one owner have a cell, whatever the number
of app servers or concurrent requests.
"""

from datetime import UTC, timedelta
from functools import cache

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite

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


@cache
def _cells_insert(dialect_name):
    # Built once per database kind (SQLAlchemy reuses its compiled form); rows are sent as one multi-row INSERT.
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (
        dialect.insert(SlotLock.__table__)
        .on_conflict_do_nothing(index_elements=["tutor_id", "cell_start"])
        .returning(SlotLock.__table__.c.id)
    )


def occupy(tutor_id, starts_at, ends_at, *, hold_id=None, appointment_id=None):
    """Lock the cells of a range for a hold or an appointment, or raise SlotTaken with none of them written.

    One statement: a cell another owner has is skipped by the unique key (on PostgreSQL,
    after waiting for that owner's transaction to end), so fewer cells come back than
    asked for; the few this call did take are then given back, and the caller's
    transaction stays usable without a savepoint.
    """
    rows = [
        {"tutor_id": tutor_id, "cell_start": cell, "hold_id": hold_id, "appointment_id": appointment_id}
        for cell in cells(starts_at, ends_at)
    ]
    connection = db.session.connection()
    taken = connection.execute(_cells_insert(connection.dialect.name), rows).scalars().all()
    if len(taken) < len(rows):
        if taken:
            connection.execute(delete(SlotLock.__table__).where(SlotLock.__table__.c.id.in_(taken)))
        raise SlotTaken()
    return taken


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
