"""SQL building blocks of the reports (reports.py): inline numbers, typed NULLs, period indexes, planner settings.

Kept apart from the report definitions so that each reads on its own; nothing here knows about money.
"""

from sqlalchemy import Integer, case, cast, func, literal_column, null, select

from .extensions import db


def number(n):
    """An inline integer: the same constant in SELECT and GROUP BY on every database."""
    return literal_column(str(int(n)))


def nothing(type_=Integer):
    """A typed NULL, so that the branches of a UNION agree on PostgreSQL."""
    return cast(null(), type_)


def index_of(value, bounds, before=0):
    """SQL: `before` + how many of the ascending `bounds` are at or below `value`.

    A binary search of nested CASEs: each row is compared with log2(len(bounds)) bounds.
    """
    if not bounds:
        return number(before)
    middle = len(bounds) // 2
    return case(
        (value < bounds[middle], index_of(value, bounds[:middle], before)),
        else_=index_of(value, bounds[middle + 1 :], before + middle + 1),
    )


#: PostgreSQL settings for the rest of the transaction (the request) once a report runs.
PLANNER_SETTINGS = {
    # Compiling the plan to machine code costs more than it saves on these scans.
    "jit": "off",
    # psycopg prepares a statement run five times, and a generic plan ignores the period.
    "plan_cache_mode": "force_custom_plan",
    # The covering indexes are read in order from memory, not by disk seeks: merging them
    # beats hashing whole tables.
    "random_page_cost": "1.1",
}


def execute(statement):
    """All rows of a report's statement, with the planner settings on PostgreSQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(*[func.set_config(name, value, True) for name, value in PLANNER_SETTINGS.items()]))
    return db.session.execute(statement).all()
