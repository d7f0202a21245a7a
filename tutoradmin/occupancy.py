"""A tutor's occupied time as 30-minute cells: the database's guard against double booking.

See `SlotLock`: each hold or appointment owns one row per cell it covers, and the
unique key on (tutor, cell) lets only one owner have a cell, whatever the number
of app servers or concurrent requests.
"""

from datetime import UTC, timedelta
from functools import cache

from sqlalchemy import Integer, bindparam, delete, func, insert, literal_column, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from .errors import DomainError
from .extensions import db
from .models import Hold, SlotLock
from .models.types import UTCDateTime

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


def _insert_cells(tutor_id, starts_at, ends_at, hold_id, appointment_id):
    # The ids of the cells this call took: those no other owner had.
    rows = [
        {"tutor_id": tutor_id, "cell_start": cell, "hold_id": hold_id, "appointment_id": appointment_id}
        for cell in cells(starts_at, ends_at)
    ]
    connection = db.session.connection()
    return connection.execute(_cells_insert(connection.dialect.name), rows).scalars().all()


def occupy(tutor_id, starts_at, ends_at, *, hold_id=None, appointment_id=None):
    """Lock the cells of a range for a hold or an appointment, or raise SlotTaken with none of them written.

    One statement: a cell another owner has is skipped by the unique key (on PostgreSQL,
    after waiting for that owner's transaction to end), so fewer cells come back than
    asked for; the few this call did take are then given back, and the caller's
    transaction stays usable without a savepoint.
    """
    taken = _insert_cells(tutor_id, starts_at, ends_at, hold_id, appointment_id)
    if len(taken) < cell_count(starts_at, ends_at):
        if taken:
            db.session.execute(delete(SlotLock.__table__).where(SlotLock.__table__.c.id.in_(taken)))
        raise SlotTaken()
    return taken


@cache
def _hold_insert():
    # Built once (SQLAlchemy reuses its compiled form).
    return insert(Hold).returning(Hold.id)


@cache
def _hold_and_cells_statement():
    """PostgreSQL: insert a hold and lock its cells in one statement; gives (hold id, cells taken).

    The cells are the series of 30-minute starts from the hold's start to its last cell; a cell
    another owner has is skipped, as in `occupy`.
    """
    cells = SlotLock.__table__
    hold = (
        insert(Hold.__table__)
        .values(
            tutor_id=bindparam("tutor_id", type_=Integer),
            starts_at=bindparam("starts_at", type_=UTCDateTime),
            ends_at=bindparam("ends_at", type_=UTCDateTime),
            created_at=bindparam("created_at", type_=UTCDateTime),
            expires_at=bindparam("expires_at", type_=UTCDateTime),
        )
        .returning(Hold.__table__.c.id)
        .cte("new_hold")
    )
    series = (
        func.generate_series(
            bindparam("starts_at", type_=UTCDateTime),
            bindparam("last_cell", type_=UTCDateTime),
            literal_column("interval '30 minutes'"),
        )
        .table_valued("cell_start")
        .render_derived(name="series")
    )
    taken = (
        postgresql.insert(cells)
        .from_select(
            ["tutor_id", "cell_start", "hold_id"],
            select(bindparam("tutor_id", type_=Integer), series.c.cell_start, hold.c.id)
            .select_from(hold)
            .join(series, true()),
        )
        .on_conflict_do_nothing(index_elements=["tutor_id", "cell_start"])
        .returning(cells.c.id)
        .cte("taken")
    )
    return select(hold.c.id, select(func.count()).select_from(taken).scalar_subquery())


def hold_cells(tutor_id, starts_at, ends_at, created_at, expires_at):
    """Insert a hold of the range and lock its cells; returns its id, or raises SlotTaken with neither written.

    One statement on PostgreSQL (the cells are inserted in the same statement as the hold), two on SQLite.
    """
    expected = cell_count(starts_at, ends_at)
    values = {
        "tutor_id": tutor_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "created_at": created_at,
        "expires_at": expires_at,
    }
    if db.session.get_bind().dialect.name == "postgresql":
        hold_id, taken = db.session.execute(_hold_and_cells_statement(), {**values, "last_cell": ends_at - CELL}).one()
    else:
        hold_id = db.session.scalar(_hold_insert(), values)
        taken = len(_insert_cells(tutor_id, starts_at, ends_at, hold_id, None))
    if taken < expected:
        # Its cells go with it (ON DELETE CASCADE); the caller's transaction stays usable.
        db.session.execute(delete(Hold.__table__).where(Hold.__table__.c.id == hold_id))
        raise SlotTaken()
    return hold_id


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
