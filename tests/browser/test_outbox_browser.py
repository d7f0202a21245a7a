"""In Chromium: staff find a failed delivery from the overview and resend it, one row or several at once."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tutoradmin.models import OutboxEvent, utcnow

from .test_back_office_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.app_config(WTF_CSRF_ENABLED=True)]


def _failed(db, event_type="signup"):
    now = utcnow()
    event = OutboxEvent(
        event_type=event_type,
        payload={"courriel": "lea@example.com"},
        status="failed",
        attempts=14,
        last_error="HTTP 500",
        created_at=now - timedelta(days=1),
        next_attempt_at=now - timedelta(hours=1),
        last_attempt_at=now - timedelta(hours=1),
    )
    db.session.add(event)
    db.session.flush()
    return event


def _statuses(db):
    db.session.expire_all()
    return {e.id: e.status for e in db.session.scalars(select(OutboxEvent))}


def test_staff_resend_a_failed_delivery_found_from_the_overview(page, live_server, make, db):
    staff = make.user(role="staff")
    event = _failed(db)
    db.session.commit()
    log_in(page, live_server, staff)

    expect(page.locator(".alert-warning")).to_contain_text("1 envoi sortant en échec")
    page.get_by_role("link", name="Voir la liste").click()
    expect(page.locator("td.col-status")).to_have_text("Échec")
    page.get_by_role("button", name=f"Renvoyer l'envoi n° {event.id}").click()

    expect(page.locator(".alert-success")).to_contain_text("1 envoi remis en file d'attente.")
    assert _statuses(db) == {event.id: "pending"}


def test_staff_resend_several_deliveries_with_the_bulk_action(page, live_server, make, db):
    staff = make.user(role="staff")
    first, second, kept = _failed(db), _failed(db, "booking.created"), _failed(db, "ticket.replied")
    db.session.commit()
    log_in(page, live_server, staff)

    page.goto(f"{live_server}/admin/envois-sortants/")
    page.check(f"input[name=rowid][value='{first.id}']")
    page.check(f"input[name=rowid][value='{second.id}']")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Avec la sélection").click()
    page.locator(".dropdown-item", has_text="Renvoyer").click()

    expect(page.locator(".alert-success")).to_contain_text("2 envois remis en file d'attente.")
    assert _statuses(db) == {first.id: "pending", second.id: "pending", kept.id: "failed"}
