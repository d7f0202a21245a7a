"""How the audit log shows the values an action recorded: French labels and values in words.

`audit.record` stores the values before and after a change as JSON, keyed by field name
(`amount_cents`, `status`, `paid_at`...). FIELDS labels and formats every key the application
writes; a key it does not know still reads as words, never as raw Python. Exports keep the JSON.
"""

import json
from datetime import UTC, date, datetime

from ..attendance import POLICY_FIELDS
from ..formatting import hours, local_date, local_datetime, money, month_label
from ..localtime import to_local
from ..models import (
    APPOINTMENT_STATUS_LABELS,
    ATTENDANCE_LABELS,
    COURSE_REQUEST_STATUS_LABELS,
    ORDER_STATUS_LABELS,
    OUTBOX_STATUS_LABELS,
    PAYOUT_STATUS_LABELS,
    ROLE_LABELS,
    USER_STATUS_LABELS,
)
from .columns import lines

NOTHING = "—"
#: A status is named after the kind of row it belongs to (the audit line's target).
STATUS_LABELS = {
    "appointments": APPOINTMENT_STATUS_LABELS,
    "course_requests": COURSE_REQUEST_STATUS_LABELS,
    "orders": ORDER_STATUS_LABELS,
    "outbox_events": OUTBOX_STATUS_LABELS,
    "tutor_payouts": PAYOUT_STATUS_LABELS,
    "users": USER_STATUS_LABELS,
}
OPERATION_LABELS = {"credit": "Ajout de crédit", "debit": "Retrait de crédit"}


def _instant(value):
    # Instants are stored as ISO 8601 text in the JSON, in UTC.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if isinstance(moment, datetime) and moment.tzinfo is None else moment


def _when(value, _target):
    """24 octobre 2025 à 09 h 00, in Toronto."""
    return local_datetime(_instant(value))


def _day(value, _target):
    """5 avril 2026: an instant that stands for a day (a payment date)."""
    moment = _instant(value)
    return local_date(to_local(moment).date() if isinstance(moment, datetime) else moment)


def _month(value, _target):
    """2026-10 → octobre 2026."""
    return month_label(date.fromisoformat(f"{value}-01"))


def _money(value, _target):
    return money(value)


def _hours(value, _target):
    return hours(value)


def _percent(value, _target):
    return f"{value}\u00a0%"


def _record(value, _target):
    """A row's number, as the back office shows it: #42."""
    if isinstance(value, list):
        return ", ".join(f"#{number}" for number in value) or "aucun"
    return f"#{value}"


def _text(value, _target):
    return str(value)


def _labelled(labels):
    def label(value, _target):
        return labels.get(value, value).lower()

    return label


def _status(value, target):
    return _labelled(STATUS_LABELS.get(target, {}))(value, target)


#: Every key the application writes into audit lines: (French label, formatter of a value not None).
FIELDS = {
    # Money, in integer cents.
    "amount_cents": ("Montant", _money),
    "montant_cents": ("Montant", _money),
    "earnings_cents": ("Gains", _money),
    "adjustments_cents": ("Ajustements", _money),
    "adjustment_cents": ("Ajustement au relevé du tuteur", _money),
    "credit_change_cents": ("Variation du crédit de l'étudiant", _money),
    "solde_cents": ("Solde de crédit", _money),
    "hourly_rate_cents": ("Taux horaire", _money),
    # Codes, by their French label.
    "status": ("Statut", _status),
    "statut": ("Statut", _status),
    "role": ("Rôle", _labelled(ROLE_LABELS)),
    "attendance": ("Présence", _labelled(ATTENDANCE_LABELS)),
    "operation": ("Opération", _labelled(OPERATION_LABELS)),
    # Dates and times.
    "flagged_at": ("Signalée le", _when),
    "next_attempt_at": ("Prochain essai", _when),
    "delivered_at": ("Livré le", _when),
    "paid_at": ("Payé le", _day),
    "month": ("Mois", _month),
    # Quantities.
    "minutes": ("Heures", _hours),
    "attempts": ("Essais", _text),
    "tutor_share_percent": ("Part payée au tuteur", _percent),
    "student_credit_percent": ("Crédit à l'étudiant", _percent),
    **{name: (label, _text) for name, (label, _low, _high) in POLICY_FIELDS.items()},
    # Other rows, by their number.
    "tutor_id": ("Tuteur", _record),
    "course_id": ("Cours", _record),
    "appointment_id": ("Séance", _record),
    "remboursement": ("Remboursement", _record),
    "seances_annulees": ("Séances annulées", _record),
    "adjustment_ids": ("Ajustements déduits", _record),
    # Texts, as typed.
    "confirmation_number": ("Confirmation", _text),
    "flag_reason": ("Motif du signalement", _text),
    "reason": ("Motif", _text),
    "motif": ("Motif", _text),
    "note": ("Note", _text),
}


def label(key):
    """The French label of a recorded field; an unknown one in words: `last_login_at` → « Last login at »."""
    known = FIELDS.get(key)
    return known[0] if known else (key.replace("_", " ").strip().capitalize() or key)


def _plain(value):
    """A value of a key FIELDS does not know, in words rather than as Python would print it."""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value) or NOTHING
    if isinstance(value, dict):
        return " ; ".join(f"{label(str(key))} : {_plain(item)}" for key, item in value.items()) or NOTHING
    return NOTHING if value is None else str(value)


def value_text(key, value, target):
    """One recorded value in words; `target` is the audited table (a status depends on it)."""
    if value is None or value == "":
        return NOTHING
    known = FIELDS.get(key)
    if known is not None:
        try:
            return known[1](value, target)
        except (TypeError, ValueError, AttributeError, KeyError):
            # A line written by an older version with another shape: shown as it is, in words.
            pass
    if key.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return money(value)
    return _plain(value)


def line(key, value, target):
    """« Montant : 800,00 $ »."""
    return f"{label(key)} : {value_text(key, value, target)}"


def values_column(_view, _context, entry, name):
    """The `before` or `after` values of an audit line, one per line, in words."""
    values = getattr(entry, name) or {}
    if not isinstance(values, dict):
        return _plain(values)
    return lines([line(key, value, entry.target_type) for key, value in values.items()])


def changes_column(_view, _context, entry, _name):
    """What an audit line changed, one field per line: « Statut : actif → suspendu », or what it recorded."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    target, shown = entry.target_type, []
    for key, value in after.items():
        if key not in before:
            shown.append(line(key, value, target))
        elif before[key] != value:
            shown.append(f"{label(key)} : {value_text(key, before[key], target)} → {value_text(key, value, target)}")
    shown += [line(key, value, target) for key, value in before.items() if key not in after]
    return lines(shown)


def values_export(_view, _context, entry, name):
    """The recorded values as JSON text, for a spreadsheet or a script to read back."""
    values = getattr(entry, name)
    return "" if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True)
