"""The student's support tickets: their list, opening one, the conversation with the office, closing it."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from .. import attachments, support
from ..errors import DomainError
from ..extensions import db
from ..formatting import local_date, local_datetime, money
from ..forms import BaseForm
from ..models import (
    APPOINTMENT_STATUS_LABELS,
    MESSAGE_MAX_LENGTH,
    ORDER_STATUS_LABELS,
    TICKET_CATEGORY_LABELS,
    TICKET_STATUS_LABELS,
    Appointment,
    Order,
    TicketCategory,
    TicketStatus,
    utcnow,
)
from ..pagination import paginate
from ..params import parse_page
from ..receipts import RECEIPT_STATUSES
from .blueprint import bp
from .forms import attachment_field
from .limits import message_limit
from .student import EXPIRED_FORM, student_required

TICKETS_PER_PAGE = 20
#: A session or an order names the likely subject of a ticket opened from its page.
CATEGORY_OF_LINK = {"seance": TicketCategory.BOOKING.value, "commande": TicketCategory.PAYMENT.value}


class NewTicketForm(BaseForm):
    # Choices are not checked here: support.open_ticket refuses, in French, what is not allowed.
    category = SelectField(
        "Catégorie",
        choices=[
            SelectChoice("", "Choisissez une catégorie"),
            *(SelectChoice(str(value), label) for value, label in TICKET_CATEGORY_LABELS.items()),
        ],
        validate_choice=False,
    )
    subject = StringField("Sujet", render_kw={"maxlength": support.SUBJECT_MAX_LENGTH})
    body = TextAreaField("Message", render_kw={"maxlength": MESSAGE_MAX_LENGTH, "rows": 8})
    appointment = SelectField("Séance concernée (facultatif)", validate_choice=False)
    order = SelectField("Commande concernée (facultatif)", validate_choice=False)
    pieces_jointes = attachment_field()


class TicketReplyForm(BaseForm):
    body = TextAreaField("Votre message", render_kw={"maxlength": MESSAGE_MAX_LENGTH, "rows": 6})
    pieces_jointes = attachment_field()


class CloseTicketForm(BaseForm):
    """Close the ticket (CSRF only)."""


def _own_ticket(ticket_id):
    ticket = support.student_ticket(current_user.id, ticket_id)
    if ticket is None:
        abort(404)
    return ticket


def _form_error(form):
    """The reason a posted form is refused before reaching the domain: an expired form, or a NUL character."""
    if "csrf_token" in form.errors:
        return EXPIRED_FORM
    return next(iter(form.errors.values()))[0]


def _chosen(model, raw, refusal):
    """The session or order picked in the form, or None; an id that is not a row is refused like another's."""
    if not raw:
        return None
    item = db.session.get(model, int(raw)) if raw.isdigit() and len(raw) <= 9 else None
    if item is None:
        raise support.SupportError(refusal)
    return item


def _session_choice(appointment):
    status = APPOINTMENT_STATUS_LABELS.get(appointment.status, appointment.status)
    label = f"{appointment.course.title} — {local_datetime(appointment.starts_at)} ({status.lower()})"
    return SelectChoice(str(appointment.id), label)


def _order_choice(order):
    status = ORDER_STATUS_LABELS.get(order.status, order.status)
    label = f"Commande n° {order.id} — {local_date(order.created_at)} — {money(order.total_cents)} ({status.lower()})"
    return SelectChoice(str(order.id), label)


@bp.route("/tableau-de-bord/billets")
@student_required
def tickets():
    """The student's tickets, the latest activity first, with replies they have not read marked."""
    page = paginate(
        support.student_tickets(current_user.id), parse_page(request.args.get("page")), TICKETS_PER_PAGE, scalars=False
    )
    return render_template(
        "public/tickets.html",
        page=page,
        category_labels=TICKET_CATEGORY_LABELS,
        status_labels=TICKET_STATUS_LABELS,
    )


@bp.route("/tableau-de-bord/billets/nouveau", methods=["GET", "POST"])
@student_required
@message_limit
def new_ticket():
    """A new ticket: category, subject, message, optionally one of the student's sessions or orders, files."""
    form = NewTicketForm()
    form.appointment.choices = [
        SelectChoice("", "Aucune"),
        *map(_session_choice, support.linkable_sessions(current_user.id)),
    ]
    form.order.choices = [SelectChoice("", "Aucune"), *map(_order_choice, support.linkable_orders(current_user.id))]
    error = None
    if not form.is_submitted():
        # Opened from a session's or an order's page: name it (only if it is the student's own).
        for name, field in (("seance", form.appointment), ("commande", form.order)):
            wanted = request.args.get(name, "")
            if wanted and any(choice.value == wanted for choice in field.choices):
                field.data = wanted
                form.category.data = form.category.data or CATEGORY_OF_LINK[name]
    elif not form.validate():
        error = _form_error(form)
    else:
        try:
            ticket = support.open_ticket(
                current_user,
                form.category.data,
                form.subject.data,
                form.body.data,
                utcnow(),
                appointment=_chosen(Appointment, form.appointment.data, support.NOT_YOUR_SESSION),
                order=_chosen(Order, form.order.data, support.NOT_YOUR_ORDER),
                uploads=attachments.read_uploads(request.files.getlist("pieces_jointes")),
            )
        except DomainError as refused:
            db.session.rollback()
            error = refused.message
        else:
            db.session.commit()
            flash("Votre billet est envoyé : l'équipe 4AS vous répondra ici.", "success")
            return redirect(url_for("public.ticket", ticket_id=ticket.id))
    return render_template("public/ticket_new.html", form=form, error=error), 400 if error else 200


@bp.route("/tableau-de-bord/billets/<int:ticket_id>", methods=["GET", "POST"])
@student_required
@message_limit
def ticket(ticket_id):
    """The conversation (never the office's internal notes), a reply form unless the ticket is closed."""
    item = _own_ticket(ticket_id)
    form = TicketReplyForm()
    error = None
    if form.is_submitted():
        if not form.validate():
            error = _form_error(form)
        else:
            try:
                uploads = attachments.read_uploads(request.files.getlist("pieces_jointes"))
                support.student_reply(item, current_user, form.body.data, utcnow(), uploads=uploads)
            except DomainError as refused:
                db.session.rollback()
                error = refused.message
            else:
                db.session.commit()
                flash("Message envoyé : l'équipe 4AS vous répondra ici.", "success")
                return redirect(url_for("public.ticket", ticket_id=item.id, _anchor="repondre"))
    support.mark_read_by_student(item)
    db.session.commit()
    # Read after the commit, which expires what was loaded: each message would be read again, one by one.
    messages = support.public_messages(item)
    appointment = db.session.get(Appointment, item.appointment_id) if item.appointment_id else None
    order = db.session.get(Order, item.order_id) if item.order_id else None
    status = 409 if error and item.status == TicketStatus.CLOSED else 400
    return render_template(
        "public/ticket.html",
        ticket=item,
        messages=messages,
        form=form,
        close_form=CloseTicketForm(),
        error=error,
        closed=item.status == TicketStatus.CLOSED,
        appointment=appointment if appointment is not None and appointment.student_id == item.student_id else None,
        order=order if order is not None and order.user_id == item.student_id else None,
        order_page=order is not None and order.status in RECEIPT_STATUSES,
        category_labels=TICKET_CATEGORY_LABELS,
        status_labels=TICKET_STATUS_LABELS,
    ), status if error else 200


@bp.post("/tableau-de-bord/billets/<int:ticket_id>/fermer")
@student_required
def close_ticket(ticket_id):
    item = _own_ticket(ticket_id)
    back = url_for("public.ticket", ticket_id=item.id)
    if not CloseTicketForm().validate_on_submit():
        flash(EXPIRED_FORM, "warning")
        return redirect(back)
    support.close_by_student(item, current_user, utcnow())
    db.session.commit()
    flash("Billet fermé. Pour une nouvelle question, ouvrez un nouveau billet.", "success")
    return redirect(back)
