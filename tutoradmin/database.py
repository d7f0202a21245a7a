"""Engine settings that differ between SQLite and PostgreSQL."""

from sqlalchemy import event


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


def configure_engine(app):
    """Attach per-connection settings to the application's engine."""
    from .extensions import db

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
