"""List filters on timestamps, by local (America/Toronto) calendar day."""

from datetime import date

from flask_admin.contrib.sqla.filters import BaseSQLAFilter

from ..localtime import local_day_bounds


class _LocalDayFilter(BaseSQLAFilter):
    """A filter whose value is a local date (AAAA-MM-JJ) compared with a UTC timestamp column."""

    def __init__(self, column, name, options=None, data_type="datepicker"):
        super().__init__(column, name, options, data_type)

    def clean(self, value):
        return date.fromisoformat(value.strip())


class LocalDayEqual(_LocalDayFilter):
    def apply(self, query, value, alias=None):
        start, end = local_day_bounds(value)
        column = self.get_column(alias)
        return query.filter(column >= start, column < end)

    def operation(self):
        return "le"


class LocalDayAfter(_LocalDayFilter):
    def apply(self, query, value, alias=None):
        start, _ = local_day_bounds(value)
        return query.filter(self.get_column(alias) >= start)

    def operation(self):
        return "à partir du"


class LocalDayBefore(_LocalDayFilter):
    def apply(self, query, value, alias=None):
        _, end = local_day_bounds(value)
        return query.filter(self.get_column(alias) < end)

    def operation(self):
        return "jusqu'au"


def local_day_filters(column, name):
    """The three day filters (on, from, until) for one timestamp column."""
    return [LocalDayEqual(column, name), LocalDayAfter(column, name), LocalDayBefore(column, name)]
