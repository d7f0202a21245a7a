"""In Chromium: the office refunds a session, the accountant reads the revenue charts, an administrator pays a tutor."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tutoradmin.formatting import money, month_label
from tutoradmin.localtime import LOCAL_TZ, previous_month
from tutoradmin.models import Appointment, OrderItem, Refund, TutorPayout, utcnow

from ..factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.app_config(WTF_CSRF_ENABLED=True)]


def log_in(page, live_server, user):
    page.goto(f"{live_server}/connexion")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/")


def test_staff_refund_one_session_from_the_order_page(page, live_server, make, db):
    staff = make.user(role="staff")
    course = make.course(title="Physique – Secondaire 5", rate_cents=4500)
    order = make.booked_order(items=2, course=course)
    first, second = order.items
    db.session.commit()
    log_in(page, live_server, staff)

    page.goto(f"{live_server}/admin/commandes/details/?id={order.id}")
    page.get_by_role("link", name="Rembourser").click()
    page.wait_for_url(f"{live_server}/admin/remboursements/commande/{order.id}")
    expect(page.locator("h1")).to_have_text(f"Rembourser la commande #{order.id}")
    page.check(f"input[name=sessions][value='{first.id}']")
    page.fill("input[name=amount]", "45,00")
    page.fill("textarea[name=reason]", "Tuteur absent")
    page.get_by_role("button", name="Rembourser").click()
    # A confirmation step shows the amount and the session before the gateway is called.
    expect(page.locator("#refund-confirmation")).to_contain_text(money(4500))
    page.get_by_role("button", name="Confirmer le remboursement").click()

    confirmation = page.locator(".alert-success")
    expect(confirmation).to_contain_text(f"Remboursement de {money(4500)} effectué (référence re_sim_")
    db.session.expire_all()
    refund = db.session.scalars(select(Refund)).one()
    assert (refund.order_id, refund.amount_cents, refund.status) == (order.id, 4500, "succeeded")
    assert refund.reason == "Tuteur absent"
    expect(confirmation).to_contain_text(refund.gateway_refund_id)
    statuses = {a.id: a.status for a in db.session.scalars(select(Appointment))}
    assert statuses == {first.appointment.id: "cancelled", second.appointment.id: "scheduled"}
    # The page now lists the refund, and only the other session is left to cancel.
    expect(page.get_by_role("cell", name=refund.gateway_refund_id)).to_be_visible()
    expect(page.locator("input[name=sessions]")).to_have_count(1)


def test_the_accountant_sees_the_revenue_charts_drawn(page, live_server, make, db):
    accountant = make.user(role="accountant")
    make.booked_order(items=2)
    db.session.commit()
    log_in(page, live_server, accountant)
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server}/admin/compta/revenus/")

    # Plotly marks each chart it has drawn; by month, by year, by course and by tutor.
    charts = page.locator(".js-plotly-plot")
    expect(charts).to_have_count(4)
    expect(charts.first.locator(".main-svg").first).to_be_visible()
    assert page.locator(".js-plotly-plot .barlayer .point").count() > 0
    expect(page.locator("#mensuel")).to_contain_text("Exporter en CSV")
    assert console_errors == []


def _local(day, hour):
    return datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ).astimezone(UTC)


def test_an_administrator_marks_a_finished_month_paid_and_it_locks(page, live_server, make, db):
    admin = make.user(role="admin")
    course = make.course(title="Chimie générale")
    tutor = make.tutor(courses=[course], hourly_rate_cents=3000, display_name="Amélie Tremblay")
    month = previous_month(utcnow())
    for day in (3, 10):
        starts_at = _local(month.replace(day=day), 10)
        order = make.order(items=0, course=course, tutor=tutor)
        item = OrderItem(
            course=course,
            tutor=tutor,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            duration_minutes=60,
            price_cents=4500,
            tutor_earnings_cents=3000,
        )
        order.items.append(item)
        make.appointment(tutor=tutor, course=course, starts_at=starts_at, status="completed", order_item=item)
    db.session.commit()
    log_in(page, live_server, admin)

    page.goto(f"{live_server}/admin/paiements-tuteurs/")
    page.get_by_role("link", name="Amélie Tremblay").click()
    expect(page.locator(".badge")).to_have_text("À payer")
    page.fill("input[name=confirmation_number]", "VIR-2042")
    page.get_by_role("button", name="Marquer comme payé").click()

    expect(page.locator(".alert-success")).to_contain_text(
        f"Paiement enregistré : Amélie Tremblay, {month_label(month)}, {money(6000)} (confirmation VIR-2042)."
    )
    expect(page.locator(".badge")).to_have_text("Payé")
    expect(page.get_by_text(re.compile(r"^Payé le .+ — confirmation VIR-2042$"))).to_be_visible()
    expect(page.locator("input[name=confirmation_number]")).to_have_count(0)
    db.session.expire_all()
    payout = db.session.scalars(select(TutorPayout)).one()
    assert (payout.tutor_id, payout.year, payout.month) == (tutor.id, month.year, month.month)
    assert (payout.status, payout.amount_cents, payout.confirmation_number) == ("paid", 6000, "VIR-2042")
    assert payout.paid_by_id == admin.id


def test_the_date_picker_of_a_booking_without_payment_speaks_french(page, live_server, make, db):
    staff = make.user(role="staff")
    make.tutor(courses=[make.course()])
    db.session.commit()
    log_in(page, live_server, staff)

    page.goto(f"{live_server}/admin/rendez-vous/")
    page.get_by_role("link", name="Réserver sans paiement").click()
    page.get_by_role("button", name="Continuer").click()
    # Flask-Admin builds its pickers once the page is ready, after the field is drawn: a click before that
    # opens nothing. The picker's (hidden) container is added when it is built.
    expect(page.locator(".daterangepicker")).to_be_attached()
    page.click("input[name=starts_at]")

    picker = page.locator(".daterangepicker:visible")
    expect(picker.locator("select.monthselect:visible option")).to_have_text(
        ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juill.", "août", "sept.", "oct.", "nov.", "déc."]
    )
    expect(picker.locator(".applyBtn")).to_have_text("Appliquer")
    expect(picker.locator(".cancelBtn")).to_have_text("Annuler")
    expect(picker.get_by_role("columnheader", name="lu", exact=True)).to_have_count(1)
