"""Pages and JSON that only read: their queries run outside a transaction.

A transaction costs two round trips to the database server (BEGIN, then its end when the
session closes) that a read of committed rows does not need; the catalogue and slot pages are
the site's busiest. Nothing these views call writes; what they read is what was committed.
"""

from functools import wraps

from ..extensions import db

AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


def reads_only(view):
    """Run `view` on a connection in autocommit mode, unless the request's session already has a transaction."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        # The session ends with the request (Flask-SQLAlchemy removes it), and with it the connection's mode.
        if not db.session().in_transaction():
            db.session.connection(execution_options=AUTOCOMMIT)
        return view(*args, **kwargs)

    return wrapper
