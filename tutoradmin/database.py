"""Engine settings that differ between SQLite and PostgreSQL."""

import re
from functools import lru_cache

from psycopg.pq import TransactionStatus
from sqlalchemy import event

#: Set on a connection (its `info`) once its transaction has run a statement that may change data.
WROTE = "wrote"


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked on each connection.
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.close()


def _sqlite_begin_before_savepoint(connection, _name):
    # Python's sqlite3 module opens a transaction only before a data change. A SAVEPOINT taken before any
    # change would then open the transaction itself, and releasing it would commit everything at once: the
    # savepoint's rows would stay even if the request failed afterwards. Open the transaction first.
    dbapi_connection = connection.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def _postgresql_in_utc(dbapi_connection, _record):
    # Timestamps come back in the session's time zone: in UTC, psycopg makes them with its own fixed UTC
    # offset (a third faster to read than through a zoneinfo zone), and SQL that turns an instant into a
    # date or a time means the same on every server, whatever its default zone.
    dbapi_connection.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()


def _forget_writes(connection):
    connection.info.pop(WROTE, None)


#: A statement that only reads: a SELECT naming no data change (not even in a WITH clause, nor FOR UPDATE).
_READS_ONLY = re.compile(r"\s*SELECT\b(?!.*\b(?:INSERT|UPDATE|DELETE|MERGE)\b)", re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=1024)
def reads_only(statement):
    """Whether the SQL text `statement` only reads (remembered: the app sends the same few texts over and over)."""
    return _READS_ONLY.match(statement) is not None


def _note_writes(connection, _cursor, statement, _parameters, _context, _executemany):
    if not reads_only(statement):
        connection.info[WROTE] = True


def _end_read_transaction(db, error):
    """End a transaction that only read with COMMIT rather than the session's ROLLBACK, as the app context ends.

    Both end it alike when nothing was written, but psycopg forgets the connection's prepared
    statements at every ROLLBACK (and deallocates them: one more round trip), so that every
    request would plan its statements again. A transaction that wrote, failed, or left changes
    in the session still ends with the ROLLBACK of Flask-SQLAlchemy's session removal, which
    runs right after this (teardown functions run in the reverse order of registration).
    """
    if error is not None or not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    connection = session.connection()
    if connection.info.get(WROTE):
        return
    if connection.connection.driver_connection.info.transaction_status == TransactionStatus.INTRANS:
        session.commit()


def configure_engine(app):
    """Attach per-connection settings to the application's engine."""
    from .extensions import db

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
        elif engine.dialect.name == "postgresql":
            event.listen(engine, "connect", _postgresql_in_utc)
            event.listen(engine, "begin", _forget_writes)
            event.listen(engine, "before_cursor_execute", _note_writes)
            app.teardown_appcontext(lambda error: _end_read_transaction(db, error))
