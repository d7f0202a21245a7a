"""The student's side of a session's conversation with its tutor (SPEC §8b)."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import TextAreaField

from .. import attachments, messaging
from ..errors import DomainError
from ..extensions import db
from ..forms import BaseForm
from ..models import MESSAGE_MAX_LENGTH, utcnow
from .blueprint import bp
from .forms import attachment_field
from .limits import message_limit
from .student import EXPIRED_FORM, _own_appointment, student_required


class SessionMessageForm(BaseForm):
    """A message about a session, from its student or its tutor (the tutor's page in the back office uses it too)."""

    # The length rule lives in messaging.send; the browser's maxlength only spares a round trip.
    body = TextAreaField("Votre message", render_kw={"maxlength": MESSAGE_MAX_LENGTH, "rows": 5})
    pieces_jointes = attachment_field()


def _page(appointment, messages, form, now):
    return render_template(
        "public/session_messages.html",
        appointment=appointment,
        messages=messages,
        form=form,
        can_write=messaging.can_write(current_user, appointment, now),
        closes_at=messaging.writing_closes_at(appointment),
        hidden_text=messaging.HIDDEN_TEXT,
        write_days=messaging.WRITE_DAYS,
    )


@bp.route("/tableau-de-bord/seances/<int:appointment_id>/messages", methods=["GET", "POST"])
@student_required
@message_limit
def session_messages(appointment_id):
    """GET: the conversation with the session's tutor (marked read); POST: write to the tutor, files included."""
    appointment = _own_appointment(appointment_id)
    return participant_page(
        appointment,
        SessionMessageForm(),
        lambda messages, form, now: _page(appointment, messages, form, now),
        "Message envoyé à votre tuteur.",
        url_for("public.session_messages", appointment_id=appointment.id, _anchor="dernier"),
        refusal_category="warning",
    )


def participant_page(appointment, form, render, sent_text, sent_url, refusal_category):
    """A participant's conversation page, the student's and the tutor's alike.

    GET: the conversation, marked read up to the last message shown. POST: the message and its files sent
    (`messaging.send`), or the page again with the refusal (400). `render(messages, form, now)` makes the page.
    """
    now = utcnow()
    if request.method == "POST":
        refused = None
        if form.validate_on_submit():
            try:
                uploads = attachments.read_uploads(request.files.getlist("pieces_jointes"))
                messaging.send(appointment, current_user, form.body.data, now, uploads)
            except DomainError as error:
                refused = error.message
            else:
                db.session.commit()
                flash(sent_text, "success")
                return redirect(sent_url)
        elif "csrf_token" in form.errors:
            refused = EXPIRED_FORM
        db.session.rollback()
        if refused:
            flash(refused, refusal_category)
        return render(messaging.conversation(appointment), form, now), 400

    messages = messaging.conversation(appointment)
    # Rendered before the commit, which would expire what the page shows; what it shows counts as read,
    # a message arriving meanwhile stays unread.
    page = render(messages, form, now)
    if messages:
        messaging.mark_read(appointment, current_user, now, messages[-1].id)
        db.session.commit()
    return page
