"""In Chromium: a tutor marks a no-show from the home page and sees it on « Mes revenus » and the month's statement."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tutoradmin.formatting import money, month_label
from tutoradmin.localtime import month_of
from tutoradmin.models import Appointment, OutboxEvent, utcnow

from .test_back_office_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.app_config(WTF_CSRF_ENABLED=True)]


def _sessions(make, db):
    """A tutor at 40 $/h with, in one local month, a session marked présent and one over that waits for its mark."""
    tutor = make.tutor(hourly_rate_cents=4000)
    course = make.course(title="Calcul différentiel – Cégep")
    tutor.courses.append(course)
    waiting_start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    # An hour before or after the waiting one, whichever is in the same local month.
    present_start = waiting_start - timedelta(hours=1)
    if month_of(present_start) != month_of(waiting_start):
        present_start = waiting_start + timedelta(hours=1)
    make.appointment(tutor=tutor, course=course, starts_at=present_start, status="completed")
    waiting = make.appointment(tutor=tutor, course=course, starts_at=waiting_start)
    db.session.commit()
    return tutor, waiting


def _month_row(page, month):
    return page.locator("tbody tr").filter(has_text=month_label(month))


def test_a_tutor_marks_a_no_show_from_the_home_page_and_sees_the_statement_change(page, live_server, make, db):
    tutor, waiting = _sessions(make, db)
    month = month_of(waiting.starts_at)
    log_in(page, live_server, tutor.user)

    # Before: the month counts the session marked présent only.
    page.get_by_role("link", name="Mes revenus").first.click()
    expect(_month_row(page, month).locator("td").nth(2)).to_have_text(money(4000))

    page.goto(f"{live_server}/admin/")
    awaiting = page.locator("#awaiting-marks li")
    expect(awaiting).to_have_count(1)
    expect(awaiting).to_contain_text("Calcul différentiel – Cégep")
    expect(awaiting).to_contain_text(waiting.student.first_name)
    awaiting.get_by_role("link", name="Marquer la présence").click()
    expect(page.locator("h1")).to_have_text("Présence à la séance")
    page.get_by_label("Absent").check()
    page.get_by_label("Note à l'étudiant (facultative)").fill("Je t'ai attendu 20 minutes sur Zoom.")
    page.get_by_role("button", name="Enregistrer la présence").click()

    # Back home: the session no longer waits.
    page.wait_for_url(f"{live_server}/admin/")
    expect(page.locator(".alert")).to_contain_text("Présence notée : Absent.")
    expect(page.locator("#awaiting-marks li")).to_have_count(0)
    expect(page.locator("#awaiting-marks")).to_contain_text("Aucune séance en attente de présence.")

    # After: a no-show pays the tutor 100 % under the default policy, so the month doubles.
    page.get_by_role("link", name="Mes revenus").first.click()
    row = _month_row(page, month)
    expect(row.locator("td").nth(2)).to_have_text(money(8000))
    row.get_by_role("link", name="Détail").click()
    lines = page.locator("table").first.locator("tbody tr")
    expect(lines).to_have_count(2)
    expect(lines.filter(has_text="Absent")).to_contain_text("Absent — payé 100 %")
    expect(lines.filter(has_text="Absent")).to_contain_text(money(4000))
    expect(page.locator("table").first.locator("tfoot")).to_contain_text(money(8000))

    db.session.expire_all()
    marked = db.session.get(Appointment, waiting.id)
    assert (marked.status, marked.attendance, marked.attendance_marked_by_id) == ("completed", "no_show", tutor.user_id)
    assert marked.attendance_note == "Je t'ai attendu 20 minutes sur Zoom."
    [event] = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "booking.attendance")).all()
    assert (event.payload["mark"], event.payload["note"]) == ("absent", "Je t'ai attendu 20 minutes sur Zoom.")
