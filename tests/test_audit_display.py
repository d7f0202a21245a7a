"""The audit log shows what was recorded in French words: amounts, statuses, dates, months, numbers."""

import ast
import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tutoradmin import credits
from tutoradmin.attendance import POLICY_FIELDS, change_policy, current_policy, policy_values
from tutoradmin.catalog import RATE_FIELD, record_rate_change
from tutoradmin.formatting import money, month_label
from tutoradmin.models import AuditLog, utcnow
from tutoradmin.payouts import mark_paid
from tutoradmin.views import audit_values
from tutoradmin.views.audit_values import FIELDS, label, value_text

from .test_admin_french import details, slips, visible_text
from .test_payouts_views import last_month, month_of_work, today  # noqa: F401  (fixtures)

SOURCE = Path(__file__).resolve().parent.parent / "tutoradmin"
#: Keys audit lines get from elsewhere than a dict written next to `audit.record`.
INDIRECT_KEYS = {
    "status",  # audit.record_changes on users
    "role",
    RATE_FIELD,
    *POLICY_FIELDS,
    # attendance._snapshot and the adjustment added to it
    "attendance",
    "note",
    "tutor_share_percent",
    "student_credit_percent",
    "adjustment_cents",
}
#: What a page must never show of an audit line: a field name, a code, an ISO date or month.
RAW = [r"_cents\b", r"_at\b", r"_id\b", r"\b\d{4}-\d\d\b", r"\bpending\b", r"\bpaid\b", r"\bactive\b"]


def _written_keys():
    """String keys of the dicts built in every domain function that writes an audit line."""
    keys = set()
    for path in SOURCE.rglob("*.py"):
        if "views" in path.parts:
            continue
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef):
                continue
            nodes = list(ast.walk(function))
            if not any(
                isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "record"
                for node in nodes
            ):
                continue
            for node in nodes:
                if isinstance(node, ast.Dict):
                    keys |= {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return keys


def _raw(text):
    return sorted({m.group(0) for pattern in RAW for m in re.finditer(pattern, text)})


def _list_text(client):
    """The audit list's visible text, without the filters' data (it holds the actions' codes)."""
    html = client.get("/admin/journal/").get_data(as_text=True)
    return visible_text(re.sub(r'(?s)<div id="filter-groups-data".*?</div>', " ", html))


def test_every_key_the_application_audits_has_a_french_label_and_format():
    written = _written_keys()
    # The scan does see the dicts next to audit.record (a sample from payouts, refunds and credits).
    assert {"amount_cents", "month", "paid_at", "montant_cents", "seances_annulees", "solde_cents"} <= written
    assert sorted((written | INDIRECT_KEYS) - FIELDS.keys()) == []


@pytest.mark.parametrize(
    ("key", "value", "target", "shown"),
    [
        ("amount_cents", 80000, "tutor_payouts", "Montant : 800,00\u00a0$"),
        ("adjustment_cents", -3200, "appointments", "Ajustement au relevé du tuteur : \u221232,00\u00a0$"),
        ("status", "pending", "course_requests", "Statut : en attente"),
        ("status", "pending", "tutor_payouts", "Statut : à payer"),
        ("status", "suspended", "users", "Statut : suspendu"),
        ("statut", "partially_refunded", "orders", "Statut : remboursée en partie"),
        ("role", "accountant", "users", "Rôle : comptable"),
        ("attendance", "late_cancel", "appointments", "Présence : annulation tardive"),
        ("operation", "debit", "users", "Opération : retrait de crédit"),
        ("month", "2026-10", "tutor_payouts", "Mois : octobre 2026"),
        ("paid_at", "2026-11-06T04:30:00+00:00", "tutor_payouts", "Payé le : 5 novembre 2026"),
        ("flagged_at", "2026-11-06T04:30:00+00:00", "orders", "Signalée le : 5 novembre 2026 à 23\u00a0h\u00a030"),
        ("delivered_at", None, "outbox_events", "Livré le : —"),
        ("minutes", 150, "tutor_payouts", "Heures : 2,5\u00a0h"),
        ("tutor_share_percent", 50, "appointments", "Part payée au tuteur : 50\u00a0%"),
        ("late_cancel_window_hours", 24, "attendance_policies", "Délai d'annulation tardive (heures) : 24"),
        ("tutor_id", 7, "course_requests", "Tuteur : #7"),
        ("seances_annulees", [4, 5], "orders", "Séances annulées : #4, #5"),
        ("adjustment_ids", [], "tutor_payouts", "Ajustements déduits : aucun"),
        ("motif", "Geste commercial", "users", "Motif : Geste commercial"),
    ],
)
def test_a_recorded_value_reads_in_french_words(key, value, target, shown):
    assert audit_values.line(key, value, target) == shown


def test_an_unknown_key_still_reads_as_words_never_as_python():
    assert label("last_seen_at") == "Last seen at"
    assert value_text("refund_cents", 1250, "orders") == money(1250)
    assert value_text("enabled", True, "users") == "Oui"
    assert value_text("tags", ["a", None], "users") == "a, —"
    assert value_text("extra", {"flag": False}, "users") == "Flag : Non"
    assert value_text("nothing", None, "users") == "—"
    # A known key holding a value of another shape (an older line) is shown as it is.
    assert value_text("month", 202610, "tutor_payouts") == "202610"


def test_paying_a_month_shows_its_audit_line_in_words_and_exports_it_as_json(
    client,
    db,
    make,
    login_as,
    month_of_work,  # noqa: F811
    last_month,  # noqa: F811
    today,  # noqa: F811
):
    admin = login_as("admin")
    mark_paid(month_of_work, last_month.year, last_month.month, "VIR-42", today, admin, utcnow())
    db.session.commit()
    entry = db.session.query(AuditLog).filter_by(action="payout.paid").one()

    page = client.get(f"/admin/journal/details/?id={entry.id}").get_data(as_text=True)
    after = details(page)["Après"]  # spaces, non-breaking ones included, read as one space
    assert f"Mois : {month_label(last_month)}" in after
    assert f"Montant : {money(6250)}".replace("\u00a0", " ") in after
    assert "Heures : 2,5 h" in after and "Confirmation : VIR-42" in after
    assert f"Tuteur : #{month_of_work.id}" in after and "Ajustements déduits : aucun" in after
    # The day of the payment, without the time it was recorded.
    assert re.search(r"Payé le : \d{1,2} \w+ \d{4} Ajustements déduits", after), after
    assert _raw(visible_text(page)) == [] and slips(page) == []

    listed = _list_text(client)
    assert f"Mois : {month_label(last_month)}" in listed and _raw(listed) == []

    exported = client.get("/admin/journal/export/csv/").get_data(as_text=True).lstrip("\ufeff")
    (row,) = [r for r in csv.DictReader(io.StringIO(exported)) if r["Action"] == "Paiement au tuteur"]
    recorded = json.loads(row["Après"])
    assert recorded["month"] == f"{last_month:%Y-%m}" and recorded["amount_cents"] == 6250


def test_a_change_shows_its_value_before_and_after_in_the_list(client, db, make, login_as):
    admin = login_as("admin")
    tutor = make.tutor(hourly_rate_cents=2800)
    student = make.user(role="student")
    db.session.commit()
    now = datetime(2026, 11, 6, 15, tzinfo=UTC)
    assert tutor.hourly_rate_cents == 2800  # loaded, as the edit form loads it
    tutor.hourly_rate_cents = 3000
    record_rate_change(tutor, admin, now)
    credits.adjust(student, "credit", 2500, "Geste commercial", admin, now)
    change_policy(admin, {**policy_values(current_policy()), "late_cancel_window_hours": 12}, now)
    db.session.commit()

    text = _list_text(client)

    assert f"Taux horaire : {money(2800)} → {money(3000)}" in text
    assert f"Solde de crédit : {money(0)} → {money(2500)}" in text and "Opération : ajout de crédit" in text
    assert "Délai d'annulation tardive (heures) : 24 → 12" in text
    # The fields the policy change left as they were are not listed.
    assert "Part payée au tuteur pour une absence" not in text
    assert _raw(text) == [] and slips(text) == []
