"""A sessions list in two tabs: « À venir », soonest first, and « Passées », most recent first.

Flask-Admin sorts by one column in one direction; the tab (the `periode` argument of the list's
URL, kept by its pages, sorts and filters) picks both the sessions shown and their default order.
"""

from flask import has_request_context, request, url_for

from ..models import Appointment, utcnow

PERIOD_ARG = "periode"
UPCOMING = "a-venir"
PAST = "passees"
PERIOD_LABELS = {UPCOMING: "À venir", PAST: "Passées"}


def period_condition(period, now):
    """SQL condition: a session not yet over (upcoming) or over (past) at `now`."""
    return Appointment.ends_at <= now if period == PAST else Appointment.ends_at > now


class SessionPeriods:
    """Mixin for an Appointment model view: its list shows one period's sessions (upcoming by default)."""

    def period(self):
        """The tab asked for in the URL; anything else is the default one."""
        value = request.args.get(PERIOD_ARG) if has_request_context() else None
        return value if value in PERIOD_LABELS else UPCOMING

    def period_tabs(self):
        """(label, URL, current) of each tab, for the list's template."""
        current = self.period()
        return [
            (label, url_for(".index_view", **{PERIOD_ARG: period}), period == current)
            for period, label in PERIOD_LABELS.items()
        ]

    def _lists_sessions(self):
        # Only the list (its rows and its count) is split; a session's own pages find it whatever its period.
        return has_request_context() and request.endpoint == f"{self.endpoint}.index_view"

    def get_query(self):
        query = super().get_query()
        return query.filter(period_condition(self.period(), utcnow())) if self._lists_sessions() else query

    def get_count_query(self):
        query = super().get_count_query()
        return query.filter(period_condition(self.period(), utcnow())) if self._lists_sessions() else query

    def _get_default_order(self):
        descending = self.period() == PAST
        yield Appointment.starts_at, [], descending
        yield Appointment.id, [], descending
