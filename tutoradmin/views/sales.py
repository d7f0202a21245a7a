"""Sessions for the office: list, details, cancelling, booking without payment.

Appointments are not edited as rows: booking and cancelling go through the booking rules
(time locks, credits, history) in `tutoradmin.appointments`, from the pages below.
"""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from .. import appointments, calendars, operations
from ..extensions import db
from ..formatting import local_datetime, money
from ..models import (
    APPOINTMENT_STATUS_LABELS,
    ATTENDANCE_LABELS,
    Appointment,
    AppointmentStatus,
    Course,
    Tutor,
    User,
    utcnow,
)
from .attendance import AttendanceMarking
from .base import OFFICE, SecureModelView, form_status, perform
from .columns import (
    choices,
    label_column,
    lines,
    session_time_column,
)
from .conversations import ConversationModeration
from .filters import local_day_filters
from .forms import BookAppointmentForm, CancelAppointmentForm


def _history_column(_view, _context, appointment, _name):
    """The appointment's modification history, oldest first, one change per line."""
    return lines(
        [
            f"{local_datetime(when)} — {what} — par {who}" + (f" — {details}" if details else "")
            for when, what, who, details in operations.appointment_history(appointment)
        ]
    )


def _active_courses():
    return db.session.scalars(db.select(Course).where(Course.active.is_(True)).order_by(Course.title)).all()


def _order_of_item(_view, _context, appointment, _name):
    item = appointment.order_item
    return f"Commande #{item.order_id}" if item else "Sans paiement"


class AppointmentView(AttendanceMarking, ConversationModeration, SecureModelView):
    """Every session, filterable by status, date, tutor, student and course."""

    allowed_roles = OFFICE
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ["starts_at", "course", "tutor", "student", "duration_minutes", "status"]
    column_details_list = [
        "id",
        "starts_at",
        "course",
        "tutor",
        "student",
        "duration_minutes",
        "status",
        "order_item",
        "cancelled_at",
        "cancellation_reason",
        "completed_at",
        "attendance",
        "attendance_note",
        "attendance_marked_at",
        "tutor_share_percent",
        "student_credit_percent",
        "created_at",
        "history",
    ]
    column_sortable_list = ["starts_at", "duration_minutes", "status"]
    column_default_sort = ("starts_at", True)
    column_searchable_list = [
        "student.email",
        "student.last_name",
        "tutor.display_name",
        "course.title",
    ]
    column_filters = [
        FilterEqual(Appointment.status, "Statut", options=choices(APPOINTMENT_STATUS_LABELS)),
        *local_day_filters(Appointment.starts_at, "Date"),
        FilterLike("tutor.display_name", "Tuteur"),
        FilterLike("student.email", "Étudiant (adresse courriel)"),
        FilterLike("student.last_name", "Étudiant (nom)"),
        FilterLike("course.title", "Cours"),
        FilterEqual(Appointment.attendance, "Présence", options=choices(ATTENDANCE_LABELS)),
    ]
    column_labels = {
        "id": "Numéro",
        "starts_at": "Séance",
        "course": "Cours",
        "tutor": "Tuteur",
        "student": "Étudiant",
        "duration_minutes": "Durée (min)",
        "status": "Statut",
        "order_item": "Commande",
        "cancelled_at": "Annulée le",
        "cancellation_reason": "Motif d'annulation",
        "completed_at": "Terminée le",
        "attendance": "Présence",
        "attendance_note": "Note de présence",
        "attendance_marked_at": "Présence notée le",
        "tutor_share_percent": "Part payée au tuteur (%)",
        "student_credit_percent": "Crédit à l'étudiant (%)",
        "created_at": "Créée le",
        "history": "Historique des modifications",
        "student.email": "Adresse courriel de l'étudiant",
        "student.last_name": "Nom de l'étudiant",
        "tutor.display_name": "Tuteur",
        "course.title": "Cours",
    }
    column_formatters = {
        "starts_at": session_time_column,
        "status": label_column(APPOINTMENT_STATUS_LABELS),
        "order_item": _order_of_item,
        "attendance": label_column(ATTENDANCE_LABELS),
        "history": _history_column,
    }
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-comments", ".messages", title="Messages"),
        EndpointLinkRowAction("fa fa-ban", ".cancel", title="Annuler ce rendez-vous"),
        EndpointLinkRowAction("fa fa-check-square-o", ".attendance", title="Présence"),
    ]
    list_template = "admin/appointment_list.html"

    def offers(self, endpoint, appointment, now=None):
        """Whether a row action applies to this session: one answer for its list row and its own page."""
        if endpoint == ".cancel":
            return appointment.status != AppointmentStatus.CANCELLED
        if endpoint == ".attendance":
            return self.offers_attendance(appointment, now or utcnow())
        return True

    @expose("/annuler/<int:id>", methods=("GET", "POST"))
    def cancel(self, id):
        """Cancel with a reason; the student gets a credit for what they paid."""
        appointment = self.get_one(str(id))
        if appointment.status == AppointmentStatus.CANCELLED:
            flash(appointments.ALREADY_CANCELLED, "error")
            return redirect(url_for(".index_view"))
        form = CancelAppointmentForm()
        if form.validate_on_submit():
            done = perform(
                lambda: appointments.cancel(appointment, form.reason.data, current_user, utcnow()),
                lambda credit: f"Rendez-vous annulé. Crédit accordé à l'étudiant : {money(credit)}.",
                url_for(".index_view"),
            )
            if done:
                return done
        summary = [
            f"{appointment.course.title} avec {appointment.tutor.display_name}, "
            f"{local_datetime(appointment.starts_at)} ({appointment.duration_minutes} min)",
            f"Étudiant : {appointment.student.full_name} ({appointment.student.email})",
            f"Crédit qui sera accordé : {money(appointments.paid_for(appointment))}",
        ]
        return self.render(
            "admin/action_form.html",
            title="Annuler un rendez-vous",
            summary=summary,
            form=form,
            submit_label="Annuler le rendez-vous",
            back_url=url_for(".index_view"),
        ), form_status()

    @expose("/reserver", methods=("GET", "POST"))
    def book(self):
        """Book a session without payment (make-up or goodwill session), in two steps.

        First the course, then the rest of the form, whose tutor choices are the course's own tutors;
        the booking rules refuse any other tutor all the same.
        """
        courses = _active_courses()
        chosen = request.form.get("course_id") if request.method == "POST" else request.args.get("cours")
        course = next((c for c in courses if str(c.id) == (chosen or "").strip()), None)
        if course is None:
            if request.method == "POST":
                flash("Choisissez un cours actif.", "error")
            return self.render("admin/book_appointment.html", courses=courses, course=None, form=None), form_status()
        form = BookAppointmentForm()
        form.student_id.choices = [
            SelectChoice(u.id, f"{u.full_name} — {u.email}") for u in appointments.bookable_students()
        ]
        form.course_id.choices = [SelectChoice(c.id, c.title) for c in courses]
        # Any active tutor passes the form, so that the booking rules give their own message.
        form.tutor_id.choices = [SelectChoice(t.id, t.display_name) for t in appointments.active_tutors()]
        if request.method == "GET":
            form.course_id.data = course.id
        if form.validate_on_submit():
            done = perform(
                lambda: appointments.book_without_payment(
                    db.session.get(User, form.student_id.data),
                    db.session.get(Tutor, form.tutor_id.data),
                    course,
                    form.starts_at.data,
                    form.duration_minutes.data,
                    current_user,
                    utcnow(),
                ),
                "Rendez-vous réservé sans paiement.",
                lambda appointment: url_for(".details_view", id=appointment.id),
            )
            if done:
                return done
        form.tutor_id.choices = [SelectChoice(t.id, t.display_name) for t in calendars.course_tutors(course.id)]
        return self.render("admin/book_appointment.html", courses=courses, course=course, form=form), form_status()
