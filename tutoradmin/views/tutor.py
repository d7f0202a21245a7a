"""The tutor's own corner of the back office: availability, sessions, earnings (the profile: tutor_profile.py).

Every view here shows and changes only the signed-in tutor's rows (OwnRowsModelView), and never
what students paid.
"""

from flask import flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from markupsafe import Markup

from .. import appointments, messaging, payouts, statements
from ..error_pages import PageError
from ..extensions import db
from ..formatting import local_datetime
from ..localtime import month_of
from ..models import APPOINTMENT_STATUS_LABELS, ATTENDANCE_LABELS, Appointment, Tutor, utcnow
from ..params import ParamError, parse_month
from ..public.limits import message_limit
from ..public.messages import SessionMessageForm, participant_page
from . import csv_export
from .accounting import PayoutColumns
from .attendance import AttendanceMarking
from .availability import ExceptionColumns, TimeOffColumns, WeeklyRuleColumns
from .base import OwnRowsModelView, form_status, perform
from .columns import choices, datetime_column, label_column, session_time_column
from .filters import local_day_filters
from .forms import CancelAppointmentForm, MeetingLinkForm
from .payouts import DISPLAY, EARNINGS_CSV_HEADER, earnings_csv_rows, parse_year
from .periods import SessionPeriods
from .tutor_moves import TutorMoveMixin


class MyWeeklyRuleView(WeeklyRuleColumns, OwnRowsModelView):
    pass


class MyExceptionView(ExceptionColumns, OwnRowsModelView):
    column_filters = ["date"]


class MyTimeOffView(TimeOffColumns, OwnRowsModelView):
    pass


def _unread_column(_view, _context, appointment, _name):
    """The student's messages the tutor has not read yet, as a link to the conversation."""
    unread = g.get("unread_messages", {}).get(appointment.id, 0)
    if not unread:
        return ""
    url = url_for(".messages", id=appointment.id)
    return Markup('<a class="badge badge-primary" href="{}">{} non lu{}</a>').format(
        url, unread, "s" if unread > 1 else ""
    )


class MyAppointmentView(AttendanceMarking, TutorMoveMixin, SessionPeriods, OwnRowsModelView):
    """The tutor's sessions, upcoming or past (SessionPeriods); only what the tutor needs to teach them (no prices)."""

    can_create = False
    can_edit = False
    can_delete = False
    column_list = ["starts_at", "course", "student", "duration_minutes", "status", "attendance", "unread_messages"]
    # Listed explicitly: the order and its amounts must never reach a tutor's page.
    column_details_list = [
        "starts_at",
        "course",
        "student",
        "duration_minutes",
        "status",
        "attendance",
        "attendance_note",
        "meeting_link",
        "cancelled_at",
        "cancellation_reason",
    ]
    # The default order is the tab's (SessionPeriods).
    column_sortable_list = ["starts_at", "status"]
    column_filters = [
        FilterEqual(Appointment.status, "Statut", options=choices(APPOINTMENT_STATUS_LABELS)),
        FilterEqual(Appointment.attendance, "Présence", options=choices(ATTENDANCE_LABELS)),
        *local_day_filters(Appointment.starts_at, "Date"),
    ]
    column_labels = {
        "starts_at": "Séance",
        "course": "Cours",
        "student": "Étudiant",
        "duration_minutes": "Durée (min)",
        "status": "Statut",
        "attendance": "Présence",
        "attendance_note": "Note de présence",
        "meeting_link": "Lien de la rencontre",
        "cancelled_at": "Annulée le",
        "cancellation_reason": "Motif d'annulation",
        "unread_messages": "Messages",
    }
    column_formatters = {
        "starts_at": session_time_column,
        "status": label_column(APPOINTMENT_STATUS_LABELS),
        "attendance": label_column(ATTENDANCE_LABELS),
        "meeting_link": lambda _v, _c, appointment, _n: (
            appointment.meeting_link.url if appointment.meeting_link else ""
        ),
        "cancelled_at": datetime_column,
        "unread_messages": _unread_column,
    }
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-comments", ".messages", title="Messages"),
        EndpointLinkRowAction("fa fa-link", ".meeting_link", title="Lien de la rencontre"),
        EndpointLinkRowAction("fa fa-calendar", ".move", title="Déplacer"),
        EndpointLinkRowAction("fa fa-ban", ".cancel", title="Annuler ce rendez-vous"),
        EndpointLinkRowAction("fa fa-check-square-o", ".attendance", title="Présence"),
    ]

    list_template = "admin/my_appointment_list.html"

    @expose("/")
    def index_view(self):
        # The list offers the link and cancel actions on upcoming sessions only.
        self._template_args.update(now=utcnow(), period_tabs=self.period_tabs())
        return super().index_view()

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if isinstance(rows, list):
            # One query for the page's unread counts, read by the « Messages » column.
            g.unread_messages = messaging.unread_counts(current_user, [row.id for row in rows])
        return count, rows

    @expose("/messages/<int:id>", methods=("GET", "POST"))
    @message_limit
    def messages(self, id):
        """The conversation with the session's student: read it (marked read) and answer, files included."""
        appointment = self.get_one(str(id))
        return participant_page(
            appointment,
            SessionMessageForm(),
            lambda messages, form, now: self._conversation(appointment, messages, form, now),
            "Message envoyé à l'étudiant.",
            url_for(".messages", id=appointment.id, _anchor="dernier"),
            refusal_category="error",
        )

    def _conversation(self, appointment, messages, form, now):
        return self.render(
            "admin/conversation.html",
            appointment=appointment,
            messages=messages,
            form=form if messaging.can_write(current_user, appointment, now) else None,
            closes_at=messaging.writing_closes_at(appointment),
            moderation=False,
            hidden_text=messaging.HIDDEN_TEXT,
            write_days=messaging.WRITE_DAYS,
            back_url=url_for(".index_view"),
        )

    @expose("/lien/<int:id>", methods=("GET", "POST"))
    def meeting_link(self, id):
        """Add or change the Zoom, Teams or Meet link of one of the tutor's sessions."""
        appointment = self.get_one(str(id))
        form = MeetingLinkForm(obj=appointment.meeting_link)
        if form.validate_on_submit():
            done = perform(
                lambda: appointments.set_meeting_link(appointment, form.url.data, current_user, utcnow()),
                "Lien de la rencontre enregistré.",
                url_for(".index_view"),
            )
            if done:
                return done
        return self._action_page("Lien de la rencontre", appointment, form, "Enregistrer")

    @expose("/annuler/<int:id>", methods=("GET", "POST"))
    def cancel(self, id):
        """Cancel an upcoming session with a reason; the student gets a credit for what they paid."""
        appointment = self.get_one(str(id))
        now = utcnow()
        try:
            appointments.check_tutor_can_cancel(appointment, now)
        except appointments.AppointmentError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".index_view"))
        form = CancelAppointmentForm()
        if form.validate_on_submit():
            done = perform(
                lambda: appointments.tutor_cancel(appointment, form.reason.data, current_user, now),
                "Rendez-vous annulé ; l'étudiant reçoit un crédit.",
                url_for(".index_view"),
            )
            if done:
                return done
        return self._action_page("Annuler un rendez-vous", appointment, form, "Annuler le rendez-vous")

    def _action_page(self, title, appointment, form, submit_label):
        summary = [
            f"{appointment.course.title} — {local_datetime(appointment.starts_at)} "
            f"({appointment.duration_minutes} min)",
            f"Étudiant : {appointment.student.full_name}",
        ]
        return self.render(
            "admin/action_form.html",
            title=title,
            summary=summary,
            form=form,
            submit_label=submit_label,
            back_url=url_for(".index_view"),
        ), form_status()


class MyPayoutView(PayoutColumns, OwnRowsModelView):
    """The tutor's earnings: hours and earnings per month, their CSV, a yearly summary, the statements."""

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
            tutor=tutor,
            months=statements.months_of(tutor, now),
            current_month=month_of(now),
            pending=payouts.pending_adjustments(tutor.id),
            **DISPLAY,
        )
        return super().index_view()

    @expose("/releve/")
    def statement_view(self):
        """One month of the signed-in tutor: the tutor always comes from the login, never the URL."""
        tutor = self._tutor()
        try:
            month = parse_month(request.args.get("mois"))
            statement = statements.statement(tutor, month.year, month.month, utcnow())
        except (ParamError, payouts.PayoutError) as exc:
            raise PageError(400, str(exc)) from exc
        return self.render("admin/my_statement.html", tutor=tutor, month=month, statement=statement, **DISPLAY)

    @staticmethod
    def _year(tutor, year):
        try:
            return statements.year_of(tutor, year)
        except payouts.PayoutError as exc:
            raise PageError(400, str(exc)) from exc

    @expose("/annee/<int:year>")
    def year(self, year):
        """Twelve months of a calendar year, for taxes: hours and earnings per month and in total."""
        tutor, current = self._tutor(), month_of(utcnow())
        return self.render(
            "admin/my_earnings_year.html",
            tutor=tutor,
            summary=self._year(tutor, year),
            current_month=current,
            years=statements.recent_years(current),
            **DISPLAY,
        )

    @expose("/export.csv")
    def csv(self):
        """The months of the earnings page (or, with ?annee=AAAA, of a calendar year) as CSV."""
        tutor, now = self._tutor(), utcnow()
        if request.args.get("annee"):
            try:
                year = parse_year(request.args["annee"])
            except ParamError as exc:
                raise PageError(400, str(exc)) from exc
            lines, filename = self._year(tutor, year).months, f"mes-revenus-{year}.csv"
        else:
            lines = statements.months_of(tutor, now)
            filename = f"mes-revenus-{lines[-1].month:%Y-%m}-au-{lines[0].month:%Y-%m}.csv"
        return csv_export.response(filename, EARNINGS_CSV_HEADER, earnings_csv_rows(lines, month_of(now)))
