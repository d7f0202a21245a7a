"""The tutor's own corner of the back office: availability, sessions, earnings, profile.

Every view here shows and changes only the signed-in tutor's rows (OwnRowsModelView), and never
what students paid.
"""

from flask import request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual

from .. import payouts
from ..extensions import db
from ..models import APPOINTMENT_STATUS_LABELS, Appointment, Tutor, utcnow
from ..public.errors import PageError
from ..public.params import ParamError, parse_month
from .accounting import PayoutColumns
from .availability import ExceptionColumns, TimeOffColumns, WeeklyRuleColumns
from .base import OwnRowsModelView
from .columns import choices, datetime_column, label_column, money_column, session_time_column
from .filters import local_day_filters
from .payouts import DISPLAY


class MyWeeklyRuleView(WeeklyRuleColumns, OwnRowsModelView):
    pass


class MyExceptionView(ExceptionColumns, OwnRowsModelView):
    column_filters = ["date"]


class MyTimeOffView(TimeOffColumns, OwnRowsModelView):
    pass


class MyAppointmentView(OwnRowsModelView):
    """The tutor's sessions; only what the tutor needs to teach them (no prices)."""

    can_create = False
    can_edit = False
    can_delete = False
    column_list = ["starts_at", "course", "student", "duration_minutes", "status"]
    # Listed explicitly: the order and its amounts must never reach a tutor's page.
    column_details_list = [
        "starts_at", "course", "student", "duration_minutes", "status",
        "meeting_link", "cancelled_at", "cancellation_reason",
    ]
    column_sortable_list = ["starts_at", "status"]
    column_default_sort = ("starts_at", True)
    column_filters = [
        FilterEqual(Appointment.status, "Statut", options=choices(APPOINTMENT_STATUS_LABELS)),
        *local_day_filters(Appointment.starts_at, "Date"),
    ]
    column_labels = {
        "starts_at": "Séance",
        "course": "Cours",
        "student": "Étudiant",
        "duration_minutes": "Durée (min)",
        "status": "Statut",
        "meeting_link": "Lien de la rencontre",
        "cancelled_at": "Annulée le",
        "cancellation_reason": "Motif d'annulation",
    }
    column_formatters = {
        "starts_at": session_time_column,
        "status": label_column(APPOINTMENT_STATUS_LABELS),
        "meeting_link": lambda _v, _c, appointment, _n: (
            appointment.meeting_link.url if appointment.meeting_link else ""
        ),
        "cancelled_at": datetime_column,
    }


class MyPayoutView(PayoutColumns, OwnRowsModelView):
    """The tutor's earnings: hours and earnings per month, and the statements paid or to be paid."""

    can_create = False
    can_edit = False
    can_delete = False
    list_template = "admin/my_earnings.html"

    def _tutor(self):
        return db.session.get(Tutor, self.current_tutor_id())

    @expose("/")
    def index_view(self):
        tutor, now = self._tutor(), utcnow()
        self._template_args.update(
            tutor=tutor, months=payouts.months_of(tutor, now), current_month=payouts.month_of(now),
            pending=payouts.pending_adjustments(tutor.id), **DISPLAY,
        )
        return super().index_view()

    @expose("/releve/")
    def statement_view(self):
        """One month of the signed-in tutor: the tutor always comes from the login, never the URL."""
        tutor = self._tutor()
        try:
            month = parse_month(request.args.get("mois"))
            statement = payouts.statement(tutor, month.year, month.month, utcnow())
        except (ParamError, payouts.PayoutError) as exc:
            raise PageError(400, str(exc)) from exc
        return self.render(
            "admin/my_statement.html", tutor=tutor, month=month, statement=statement, **DISPLAY
        )


class MyProfileView(OwnRowsModelView):
    """The tutor's own profile: bio and contact are theirs; the office sets the rate."""

    owner_column = "id"
    can_create = False
    can_delete = False
    column_list = ["display_name", "contact_email", "phone", "hourly_rate_cents"]
    column_details_list = ["display_name", "bio", "contact_email", "phone", "hourly_rate_cents"]
    column_labels = {
        "display_name": "Nom affiché",
        "bio": "Présentation",
        "contact_email": "Courriel de contact",
        "phone": "Téléphone",
        "hourly_rate_cents": "Mon taux horaire",
    }
    column_formatters = {"hourly_rate_cents": money_column}
    form_columns = ["bio", "contact_email", "phone"]
