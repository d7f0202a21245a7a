"""Outbound deliveries to the automation platform: what was sent, what failed, and a resend action."""

import json

from babel.dates import format_datetime
from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.helpers import get_redirect_target
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import HiddenField

from .. import outbox
from ..errors import DomainError
from ..extensions import db
from ..formatting import LOCALE
from ..forms import BaseForm
from ..localtime import to_local
from ..models import OUTBOX_EVENT_TYPE_LABELS, OUTBOX_STATUS_LABELS, OutboxEvent, OutboxStatus, utcnow
from .base import OFFICE, ReadOnlyModelView, SecureModelView, record_id_of
from .columns import choices, datetime_column
from .filters import local_day_filters

#: Bootstrap badge of each status: failures stand out in red, refusals in amber.
STATUS_BADGES = {
    OutboxStatus.PENDING: "badge-info",
    OutboxStatus.DELIVERED: "badge-success",
    OutboxStatus.FAILED: "badge-danger",
    OutboxStatus.STOPPED: "badge-warning",
}
ERROR_PREVIEW = 80
STATUS_FILTER = FilterEqual(OutboxEvent.status, "Statut", options=choices(OUTBOX_STATUS_LABELS))


def _short(moment):
    """29 nov. 2026, 04 h 15: the list has four dates a row and must fit a laptop's screen."""
    return "" if moment is None else format_datetime(to_local(moment), "d MMM y, HH 'h' mm", locale=LOCALE)


def _short_column(_view, _context, event, name):
    return _short(getattr(event, name))


def _type_column(_view, _context, event, _name):
    label = OUTBOX_EVENT_TYPE_LABELS.get(event.event_type, event.event_type)
    return Markup('{} <code class="small text-muted">{}</code>').format(label, event.event_type)


def _status_column(_view, _context, event, _name):
    badge = Markup('<span class="badge {}">{}</span>').format(
        STATUS_BADGES.get(event.status, "badge-secondary"), OUTBOX_STATUS_LABELS.get(event.status, event.status)
    )
    if event.claimed_until is not None and event.claimed_until > utcnow():
        badge += Markup('<br><span class="small text-muted text-nowrap">envoi en cours</span>')
    return badge


def _next_attempt_column(_view, _context, event, _name):
    # Only a pending event will be tried again; the others keep the date of a plan that no longer holds.
    return _short(event.next_attempt_at) if event.status == OutboxStatus.PENDING else "—"


def _error_preview_column(_view, _context, event, _name):
    error = event.last_error or ""
    if len(error) <= ERROR_PREVIEW:
        return error
    return Markup('<span title="{}">{}…</span>').format(error, error[:ERROR_PREVIEW])


def _error_column(_view, _context, event, _name):
    return Markup('<pre class="mb-0 text-wrap">{}</pre>').format(event.last_error) if event.last_error else ""


def _payload_column(_view, _context, event, _name):
    text = json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True)
    return Markup('<pre class="mb-0">{}</pre>').format(text)


class ResendForm(BaseForm):
    """The resend button of a row or of the details page (CSRF through Flask-WTF)."""

    id = HiddenField()


def _count(number, one, many):
    return f"{number} {one if number == 1 else many}"


class OutboxEventView(ReadOnlyModelView):
    """Every event sent (or to send) to the automation platform, newest first; staff can resend one."""

    allowed_roles = OFFICE
    can_export = False
    # Resending is the one write, through its own action; Flask-Admin's bulk-action endpoint carries it.
    write_endpoints = SecureModelView.write_endpoints
    column_list = [
        "created_at",
        "event_type",
        "status",
        "attempts",
        "last_attempt_at",
        "next_attempt_at",
        "last_error",
        "delivered_at",
    ]
    column_details_list = [
        "id",
        "created_at",
        "event_type",
        "status",
        "attempts",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "dedupe_key",
        "ordering_key",
        "claimed_until",
        "payload",
    ]
    column_sortable_list = [
        "created_at",
        "event_type",
        "status",
        "attempts",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
    ]
    column_default_sort = [("created_at", True), ("id", True)]
    column_searchable_list = ["dedupe_key"]
    column_filters = [
        FilterEqual(OutboxEvent.event_type, "Type", options=choices(OUTBOX_EVENT_TYPE_LABELS)),
        STATUS_FILTER,
        *local_day_filters(OutboxEvent.created_at, "Date"),
    ]
    column_labels = {
        "id": "Numéro",
        "created_at": "Date",
        "event_type": "Type",
        "status": "Statut",
        "attempts": "Tentatives",
        "last_attempt_at": "Dernière tentative",
        "next_attempt_at": "Prochaine tentative",
        "last_error": "Dernière erreur",
        "delivered_at": "Livré le",
        "dedupe_key": "Clé d'unicité",
        "ordering_key": "Clé d'ordre",
        "claimed_until": "Envoi en cours jusqu'à",
        "payload": "Contenu envoyé",
    }
    column_formatters = {
        "created_at": _short_column,
        "event_type": _type_column,
        "status": _status_column,
        "last_attempt_at": _short_column,
        "next_attempt_at": _next_attempt_column,
        "last_error": _error_preview_column,
        "delivered_at": _short_column,
    }
    column_formatters_detail = {
        **column_formatters,
        **dict.fromkeys(["created_at", "last_attempt_at", "delivered_at", "claimed_until"], datetime_column),
        "last_error": _error_column,
        "payload": _payload_column,
    }
    list_template = "admin/outbox_list.html"
    details_template = "admin/outbox_details.html"

    @staticmethod
    def status_filter_arg():
        """The list's URL argument that filters on a status (filters are numbered by position)."""
        return f"flt0_{OutboxEventView.column_filters.index(STATUS_FILTER)}"

    @expose("/renvoyer", methods=("POST",))
    def resend(self):
        """Resend one event (the row's button and the details page's)."""
        form = ResendForm()
        if not form.validate_on_submit():
            abort(400)
        event = self.get_one(form.id.data or "")
        self._resend([event])
        return redirect(get_redirect_target() or url_for(".details_view", id=event.id))

    @action("resend", "Renvoyer", "Renvoyer les envois sélectionnés ?")
    def action_resend(self, ids):
        wanted = [i for i in map(record_id_of, ids) if i is not None]
        events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(wanted)).order_by(OutboxEvent.id))
        self._resend(events.all())

    def _resend(self, events):
        """Queue each event again, commit, and say in one message what became of them."""
        now = utcnow()
        resent = waiting = 0
        refusals = []
        for event in events:
            try:
                if outbox.resend(event, current_user, now):
                    resent += 1
                else:
                    waiting += 1
            except DomainError as exc:
                # Nothing of this event changed before the refusal: the others still go.
                refusals.append(exc.message)
        db.session.commit()
        if resent:
            flash(_count(resent, "envoi remis en file d'attente.", "envois remis en file d'attente."), "success")
        if waiting:
            flash(_count(waiting, "envoi attendait déjà son envoi.", "envois attendaient déjà leur envoi."), "info")
        if refusals:
            flash(refusals[0] if len(refusals) == 1 else f"{len(refusals)} envois : {refusals[0]}", "error")
        if not (resent or waiting or refusals):
            flash("Aucun envoi sélectionné.", "error")
