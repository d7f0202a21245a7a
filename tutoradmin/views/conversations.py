"""The office's side of the conversations about sessions: reading them and hiding a message (SPEC §8b).

Mixed into the appointments view, so that a conversation is opened from its session and shares its row
checks. Staff and administrators read without taking part: their reading is never recorded.
"""

from flask import abort, flash, url_for
from flask_admin import expose
from flask_login import current_user

from .. import messaging
from ..extensions import db
from ..models import SessionMessage, utcnow
from .base import perform
from .forms import HideMessageForm


class ConversationModeration:
    """Pages added to the appointments view: a session's conversation and hiding one of its messages."""

    @expose("/messages/<int:id>")
    def messages(self, id):
        """The session's conversation, read-only for the office (not recorded as read), hidden messages included."""
        return self._conversation(self.get_one(str(id)))

    @expose("/messages/masquer/<int:message_id>", methods=("POST",))
    def hide_message(self, message_id):
        """Hide an abusive message with a reason (audited); the participants see a placeholder instead."""
        message = db.session.get(SessionMessage, message_id)
        if message is None:
            abort(404)
        form = HideMessageForm()
        if form.validate_on_submit():
            done = perform(
                lambda: messaging.hide(message, current_user, form.reason.data, utcnow()),
                "Message masqué : l'étudiant et le tuteur voient « Message masqué par l'équipe ».",
                url_for(".messages", id=message.appointment_id),
            )
            if done:
                return done
        else:
            for error in [*form.errors.get("csrf_token", []), *form.reason.errors]:
                flash(error, "error")
        return self._conversation(message.appointment, hide_form=form, hiding=message.id), 400

    def _conversation(self, appointment, hide_form=None, hiding=None):
        return self.render(
            "admin/conversation.html",
            appointment=appointment,
            messages=messaging.conversation(appointment),
            form=None,
            moderation=True,
            hide_form=hide_form or HideMessageForm(formdata=None),
            hiding=hiding,
            hidden_text=messaging.HIDDEN_TEXT,
            back_url=url_for(".details_view", id=appointment.id),
        )
