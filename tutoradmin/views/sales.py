"""Sales for the office: appointments and orders.

Appointments are not edited as rows: booking and cancelling go through the booking rules
(time locks, credits, history) in `tutoradmin.appointments`, from the pages below.
"""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, FilterLike
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from .. import appointments, calendars, flags, operations
from ..extensions import db
from ..formatting import local_datetime, money
from ..forms import BaseForm
from ..models import (
    APPOINTMENT_STATUS_LABELS,
    ATTENDANCE_LABELS,
    DISPUTE_STATUS_LABELS,
    ORDER_STATUS_LABELS,
    Appointment,
    AppointmentStatus,
    CouponRedemption,
    Course,
    Order,
    OrderItem,
    Tutor,
    User,
    utcnow,
)
from .attendance import AttendanceMarking
from .base import OFFICE, ReadOnlyModelView, SecureModelView, form_status, perform
from .columns import (
    choices,
    datetime_column,
    label_column,
    lines,
    money_column,
    order_items_column,
    order_payments_column,
    order_refunds_column,
    session_time_column,
)
from .conversations import ConversationModeration
from .filters import local_day_filters
from .forms import BookAppointmentForm, CancelAppointmentForm

MONEY_COLUMNS = ("subtotal_cents", "discount_cents", "credit_cents", "total_cents")


class ClearFlagForm(BaseForm):
    note = TextAreaField("Note (facultative) : ce qui a été fait", validators=[Length(max=1000)])


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
        FilterLike("student.email", "Étudiant (courriel)"),
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
        "student.email": "Courriel de l'étudiant",
        "student.last_name": "Nom de l'étudiant",
        "tutor.display_name": "Tuteur",
        "course.title": "Cours",
    }
    column_formatters = {
        "starts_at": session_time_column,
        "status": label_column(APPOINTMENT_STATUS_LABELS),
        "order_item": _order_of_item,
        "cancelled_at": datetime_column,
        "completed_at": datetime_column,
        "attendance": label_column(ATTENDANCE_LABELS),
        "attendance_marked_at": datetime_column,
        "created_at": datetime_column,
        "history": _history_column,
    }
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-comments", ".messages", title="Messages"),
        EndpointLinkRowAction("fa fa-ban", ".cancel", title="Annuler ce rendez-vous"),
        EndpointLinkRowAction("fa fa-check-square-o", ".attendance", title="Présence"),
    ]
    list_template = "admin/appointment_list.html"

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


class FlaggedFilter(BaseSQLAFilter):
    """Orders with a session flagged for the office (a lost slot, a late payment refunded)."""

    def __init__(self):
        super().__init__(Order.id, "Séance signalée", options=[("1", "Oui"), ("0", "Non")])

    def apply(self, query, value, alias=None):
        flagged = select(OrderItem.id).where(OrderItem.order_id == Order.id, OrderItem.flagged_at.is_not(None)).exists()
        return query.filter(flagged if value == "1" else ~flagged)

    def operation(self):
        return "est"


class OrderFlaggedFilter(BaseSQLAFilter):
    """Orders flagged for the office themselves (a dispute, a refund made or failed at the gateway)."""

    def __init__(self):
        super().__init__(Order.flagged_at, "Signalée", options=[("1", "Oui"), ("0", "Non")])

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        return query.filter(column.is_not(None) if value == "1" else column.is_(None))

    def operation(self):
        return "est"


ORDER_FLAGGED_FILTER = OrderFlaggedFilter()
ITEM_FLAGGED_FILTER = FlaggedFilter()


class CouponUsedFilter(BaseSQLAFilter):
    """Paid orders that used a coupon (its number), as counted on the coupon's page."""

    def __init__(self):
        super().__init__(Order.id, "Coupon utilisé (numéro)")

    def validate(self, value):
        return value.strip().isdigit() and len(value.strip()) < 10

    def clean(self, value):
        return int(value.strip())

    def apply(self, query, value, alias=None):
        used = (
            select(CouponRedemption.id)
            .where(CouponRedemption.order_id == Order.id, CouponRedemption.coupon_id == value)
            .exists()
        )
        return query.filter(used)

    def operation(self):
        return "est"


COUPON_FILTER = CouponUsedFilter()


def _flag_column(_view, _context, order, _name):
    if order.flagged_at is None:
        return "—"
    return f"Signalée le {local_datetime(order.flagged_at)} : {order.flag_reason or 'sans motif'}"


def _disputes_column(_view, _context, order, _name):
    return lines(
        [
            f"{money(d.amount_cents)} — {DISPUTE_STATUS_LABELS.get(d.status, d.status)} — "
            f"{flags.dispute_reason_label(d.reason)} — "
            f"ouvert le {local_datetime(d.created_at)}"
            + (f" — clos le {local_datetime(d.closed_at)}" if d.closed_at else "")
            + f" — {d.gateway_dispute_id}"
            for d in flags.disputes_of(order)
        ]
    )


class OrderColumns:
    """What an order list shows, for the office and the accountant alike."""

    column_list = ["id", "created_at", "user", "status", *MONEY_COLUMNS, "coupon", "paid_at"]
    column_details_list = [
        "id",
        "created_at",
        "paid_at",
        "user",
        "status",
        "flag",
        "disputes",
        *MONEY_COLUMNS,
        "coupon",
        "items",
        "payments",
        "refunds",
        "billing_first_name",
        "billing_last_name",
        "billing_email",
        "billing_phone",
        "billing_address",
        "billing_city",
        "billing_province",
        "billing_postal_code",
    ]
    column_export_list = [
        "id",
        "created_at",
        "paid_at",
        "billing_email",
        "status",
        *MONEY_COLUMNS,
        "coupon",
    ]
    column_sortable_list = ["id", "created_at", "paid_at", "status", "total_cents"]
    column_default_sort = ("created_at", True)
    column_searchable_list = ["billing_email", "billing_last_name", "user.email"]
    column_filters = [
        FilterEqual(Order.status, "Statut", options=choices(ORDER_STATUS_LABELS)),
        *local_day_filters(Order.paid_at, "Payée"),
        *local_day_filters(Order.created_at, "Créée"),
        ITEM_FLAGGED_FILTER,
        ORDER_FLAGGED_FILTER,
        COUPON_FILTER,
    ]
    column_labels = {
        "id": "Numéro",
        "created_at": "Créée le",
        "paid_at": "Payée le",
        "user": "Client",
        "status": "Statut",
        "subtotal_cents": "Sous-total",
        "discount_cents": "Rabais",
        "credit_cents": "Crédit utilisé",
        "total_cents": "Payé par carte",
        "coupon": "Coupon",
        "items": "Séances",
        "payments": "Paiements",
        "refunds": "Remboursements",
        "flag": "Signalement",
        "disputes": "Litiges (contestations)",
        "billing_first_name": "Prénom",
        "billing_last_name": "Nom",
        "billing_email": "Courriel",
        "billing_phone": "Téléphone",
        "billing_address": "Adresse",
        "billing_city": "Ville",
        "billing_province": "Province",
        "billing_postal_code": "Code postal",
        "user.email": "Courriel du compte",
    }
    column_formatters = {
        **dict.fromkeys(MONEY_COLUMNS, money_column),
        "status": label_column(ORDER_STATUS_LABELS),
        "created_at": datetime_column,
        "paid_at": datetime_column,
        "items": order_items_column,
        "payments": order_payments_column,
        "refunds": order_refunds_column,
        "flag": _flag_column,
        "disputes": _disputes_column,
    }

    @staticmethod
    def flagged_filter_arg():
        """The list's URL argument that keeps flagged orders (filters are numbered by position)."""
        return f"flt0_{OrderColumns.column_filters.index(ORDER_FLAGGED_FILTER)}"

    @staticmethod
    def flagged_items_filter_arg():
        """The list's URL argument that keeps orders with a flagged session."""
        return f"flt0_{OrderColumns.column_filters.index(ITEM_FLAGGED_FILTER)}"

    @staticmethod
    def coupon_filter_arg():
        """The list's URL argument that keeps the orders of one coupon (its number)."""
        return f"flt0_{OrderColumns.column_filters.index(COUPON_FILTER)}"


class OrderView(OrderColumns, ReadOnlyModelView):
    """Orders for the office, read-only: refunds go through the refund page."""

    allowed_roles = OFFICE
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-undo", "refunds.refund_order", title="Rembourser", id_arg="order_id"),
        EndpointLinkRowAction("fa fa-check", ".clear_flag", title="Marquer comme traitée"),
    ]
    list_template = "admin/order_list.html"
    details_template = "admin/order_details.html"

    @expose("/traiter/<int:id>", methods=("GET", "POST"))
    def clear_flag(self, id):
        """Mark a flagged order as dealt with (the flag's reason stays in the audit log)."""
        order = self.get_one(str(id))
        back = url_for(".details_view", id=order.id)
        if order.flagged_at is None:
            flash(flags.NOT_FLAGGED, "error")
            return redirect(back)
        form = ClearFlagForm()
        if form.validate_on_submit():
            done = perform(
                lambda: flags.clear_order_flag(order, current_user, utcnow(), note=form.note.data),
                f"Commande #{order.id} marquée comme traitée.",
                back,
            )
            if done:
                return done
        summary = [
            f"Commande #{order.id} de {order.user.full_name}, {money(order.total_cents)}",
            f"Signalée le {local_datetime(order.flagged_at)} : {order.flag_reason or 'sans motif'}",
            "Le signalement disparaîtra de la vue d'ensemble ; le journal d'audit en garde le motif.",
        ]
        return self.render(
            "admin/action_form.html",
            title="Marquer la commande comme traitée",
            summary=summary,
            form=form,
            submit_label="Marquer comme traitée",
            back_url=back,
        ), form_status()
