"""Counting the SQL statements a piece of code sends, to check that a page costs the same whatever the data."""

from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def count_queries(db, parameters=False):
    """Yield the list of SQL statements sent to `db`'s engine while the block runs (with their parameters if asked)."""
    statements = []

    def record(conn, cursor, statement, params, *args):
        statements.append((statement, params) if parameters else statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def page_statements(client, db, url):
    """The SQL statements of one GET of `url`, which must answer 200."""
    with count_queries(db) as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:500])
    return statements, response.get_data(as_text=True)
