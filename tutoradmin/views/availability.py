"""Availability of tutors: weekly hours, dated exceptions and time off (office side).

The column and form settings are mixins shared with the tutors' own views (views/tutor.py).
"""

from flask_admin.contrib.sqla.filters import FilterLike, IntEqualFilter
from sqlalchemy import select
from wtforms.validators import InputRequired, ValidationError

from .. import availability
from ..extensions import db
from ..models import EXCEPTION_KIND_LABELS, TimeOff, Tutor, WeeklyRule, utcnow
from .base import OFFICE, SecureModelView
from .columns import (
    WEEKDAY_CHOICES,
    choices,
    date_column,
    datetime_column,
    label_column,
    time_column,
    weekday_column,
)
from .fields import LocalDateTimeField
from .filters import local_day_filters


def _tutors():
    return db.session.scalars(select(Tutor).order_by(Tutor.display_name))


OFFICE_TUTOR_FIELD = {"query_factory": _tutors, "validators": [InputRequired()]}


def _checked(check, model):
    """Run an availability check on the row about to be saved; its refusal is shown on the form."""
    try:
        check(model)
    except availability.AvailabilityError as exc:
        raise ValidationError(str(exc)) from exc


def _announce(model, action):
    """Tell the automations that the row's tutor changed their availability (same transaction)."""
    if action == "updated" and not db.session.is_modified(model):
        return  # a form saved without a change
    tutor = model.tutor if model.tutor is not None else db.session.get(Tutor, model.tutor_id)
    availability.announce_change(tutor, availability.describe_change(model, action), utcnow())


class AnnouncedChanges:
    """A deleted row of availability queues `tutor.availability.updated` (saved ones: `on_model_change`)."""

    def on_model_delete(self, model):
        super().on_model_delete(model)
        _announce(model, "deleted")


#: Times typed and shown as « 09:00 », not Flask-Admin's « 09:00:00 » (its picker follows the same format).
HOUR_MINUTE = {"default_format": "%H:%M", "render_kw": {"data-date-format": "HH:mm"}}


class WeeklyRuleColumns(AnnouncedChanges):
    column_list = ["weekday", "start_time", "end_time"]
    column_default_sort = [("weekday", False), ("start_time", False)]
    column_sortable_list = ["weekday", "start_time"]
    column_labels = {"tutor": "Tuteur", "weekday": "Jour", "start_time": "Début", "end_time": "Fin"}
    column_formatters = {
        "weekday": weekday_column,
        "start_time": time_column,
        "end_time": time_column,
    }
    form_columns = ["weekday", "start_time", "end_time"]
    form_choices = {"weekday": WEEKDAY_CHOICES}
    form_args = {"weekday": {"coerce": int}, "start_time": HOUR_MINUTE, "end_time": HOUR_MINUTE}
    column_filters = [IntEqualFilter(WeeklyRule.weekday, "Jour", options=WEEKDAY_CHOICES)]

    def on_model_change(self, form, model, is_created):
        # The tutor's own view sets the owner first: the overlap check needs it.
        super().on_model_change(form, model, is_created)
        _checked(availability.check_weekly_rule, model)
        _announce(model, "created" if is_created else "updated")


class ExceptionColumns(AnnouncedChanges):
    column_list = ["date", "kind", "start_time", "end_time", "note"]
    column_default_sort = ("date", True)
    column_sortable_list = ["date", "kind"]
    column_labels = {
        "tutor": "Tuteur",
        "date": "Date",
        "kind": "Type",
        "start_time": "Début",
        "end_time": "Fin",
        "note": "Note",
    }
    column_formatters = {
        "date": date_column,
        "kind": label_column(EXCEPTION_KIND_LABELS),
        "start_time": time_column,
        "end_time": time_column,
    }
    form_columns = ["date", "kind", "start_time", "end_time", "note"]
    form_choices = {"kind": choices(EXCEPTION_KIND_LABELS)}
    form_args = {
        "start_time": {**HOUR_MINUTE, "description": "Vide avec « Fermé » : toute la journée."},
        "end_time": HOUR_MINUTE,
    }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        _checked(availability.check_exception, model)
        _announce(model, "created" if is_created else "updated")


class TimeOffColumns(AnnouncedChanges):
    column_list = ["starts_at", "ends_at", "reason"]
    column_default_sort = ("starts_at", True)
    column_sortable_list = ["starts_at", "ends_at"]
    column_labels = {"tutor": "Tuteur", "starts_at": "Début", "ends_at": "Fin", "reason": "Motif"}
    column_formatters = {"starts_at": datetime_column, "ends_at": datetime_column}
    form_columns = ["starts_at", "ends_at", "reason"]
    form_overrides = {"starts_at": LocalDateTimeField, "ends_at": LocalDateTimeField}
    form_args = {
        "starts_at": {"validators": [InputRequired()]},
        "ends_at": {"validators": [InputRequired()]},
    }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        _checked(availability.check_time_off, model)
        _announce(model, "created" if is_created else "updated")


class WeeklyRuleView(WeeklyRuleColumns, SecureModelView):
    allowed_roles = OFFICE
    column_list = ["tutor", *WeeklyRuleColumns.column_list]
    column_filters = [*WeeklyRuleColumns.column_filters, FilterLike("tutor.display_name", "Tuteur")]
    form_columns = ["tutor", *WeeklyRuleColumns.form_columns]
    form_args = {**WeeklyRuleColumns.form_args, "tutor": OFFICE_TUTOR_FIELD}


class ExceptionView(ExceptionColumns, SecureModelView):
    allowed_roles = OFFICE
    column_list = ["tutor", *ExceptionColumns.column_list]
    column_filters = [FilterLike("tutor.display_name", "Tuteur"), "date"]
    form_columns = ["tutor", *ExceptionColumns.form_columns]
    form_args = {**ExceptionColumns.form_args, "tutor": OFFICE_TUTOR_FIELD}


class TimeOffView(TimeOffColumns, SecureModelView):
    allowed_roles = OFFICE
    column_list = ["tutor", *TimeOffColumns.column_list]
    column_filters = [
        FilterLike("tutor.display_name", "Tuteur"),
        *local_day_filters(TimeOff.starts_at, "Début"),
    ]
    form_columns = ["tutor", *TimeOffColumns.form_columns]
    form_args = {**TimeOffColumns.form_args, "tutor": OFFICE_TUTOR_FIELD}
