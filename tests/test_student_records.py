"""The student's records: session .ics and private feed, orders and receipts, receipt numbers, credit history."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from tutoradmin import credits, ical, receipts
from tutoradmin.checkout import start_checkout
from tutoradmin.extensions import db as _db
from tutoradmin.formatting import money
from tutoradmin.fulfilment import payment_succeeded
from tutoradmin.models import (
    AppointmentChange,
    ChangeKind,
    CreditKind,
    MeetingLink,
    Order,
    ReceiptCounter,
    Refund,
    RefundItem,
    User,
)
from tutoradmin.occupancy import occupy, release_appointment

from .query_counts import page_statements
from .races import race
from .shopping import billing, fill, new_cart, row_counts

TORONTO = ZoneInfo("America/Toronto")
OFFICE_ROLES = ["admin", "staff", "tutor", "accountant"]


@pytest.fixture
def student(make):
    return make.user(first_name="Camille", last_name="Roy")


def _parse(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    return icalendar.Calendar.from_ical(response.data)


def _events(calendar):
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def _move(db, appointment, new_start, now):
    """Move a session as the rescheduling leaves it: cells follow, one `rescheduled` history line."""
    release_appointment(appointment.id)
    db.session.add(
        AppointmentChange(
            appointment_id=appointment.id,
            kind=ChangeKind.RESCHEDULED.value,
            previous_starts_at=appointment.starts_at,
            new_starts_at=new_start,
            created_at=now,
        )
    )
    appointment.starts_at, appointment.ends_at = new_start, new_start + timedelta(minutes=appointment.duration_minutes)
    db.session.flush()
    occupy(appointment.tutor_id, appointment.starts_at, appointment.ends_at, appointment_id=appointment.id)


def _summer_start():
    """A start in daylight time (UTC−4) next year, at 14:00 in Toronto."""
    year = datetime.now(UTC).year + 1
    return datetime(year, 7, 8, 14, tzinfo=TORONTO).astimezone(UTC)


# --- one session's .ics ---------------------------------------------------------------------


def test_session_ics_describes_the_session_in_toronto_time(app, db, make, login, client, student):
    course = make.course(title="Calcul différentiel")
    tutor = make.tutor(courses=[course], display_name="Léa Tremblay")
    appointment = make.appointment(student=student, tutor=tutor, course=course, starts_at=_summer_start())
    db.session.add(MeetingLink(appointment=appointment, provider="zoom", url="https://zoom.us/j/123"))
    db.session.commit()
    login(student)

    calendar = _parse(client.get(f"/tableau-de-bord/seances/{appointment.id}.ics"))

    host = app.config["PUBLIC_BASE_URL"].split("://")[1].split(":")[0]
    (event_,) = calendar.walk("VEVENT")
    assert str(event_["uid"]) == f"appointment-{appointment.id}@{host}"
    assert event_["sequence"] == 0 and str(event_["status"]) == "CONFIRMED"
    start, end = event_.decoded("dtstart"), event_.decoded("dtend")
    assert str(start.tzinfo) == "America/Toronto" and (start.hour, start.minute) == (14, 0)
    assert start == appointment.starts_at and end - start == timedelta(hours=1)
    assert "TZID=America/Toronto" in response_text(calendar)
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["America/Toronto"]
    assert str(event_["summary"]) == "Calcul différentiel avec Léa Tremblay"
    description = str(event_["description"])
    assert "https://zoom.us/j/123" in description
    assert f"{app.config['PUBLIC_BASE_URL']}/tableau-de-bord/seances/{appointment.id}" in description


def response_text(calendar):
    return calendar.to_ical().decode()


def test_a_moved_session_keeps_its_uid_with_a_higher_sequence(db, make, login, client, student, now):
    appointment = make.appointment(student=student, starts_at=_summer_start())
    db.session.commit()
    login(student)
    url = f"/tableau-de-bord/seances/{appointment.id}.ics"
    (before,) = _parse(client.get(url)).walk("VEVENT")

    _move(db, appointment, appointment.starts_at + timedelta(days=1, hours=2), now)
    db.session.commit()
    (after,) = _parse(client.get(url)).walk("VEVENT")
    assert str(after["uid"]) == str(before["uid"])
    assert (before["sequence"], after["sequence"]) == (0, 1)
    assert after.decoded("dtstart").astimezone(TORONTO).hour == 16

    _move(db, appointment, appointment.starts_at + timedelta(days=1), now)
    db.session.commit()
    (again,) = _parse(client.get(url)).walk("VEVENT")
    assert again["sequence"] == 2


def test_a_cancelled_session_is_cancelled_in_its_ics(db, make, login, client, student, now):
    appointment = make.appointment(student=student, status="cancelled", cancelled_at=now, cells=False)
    db.session.commit()
    login(student)
    (event_,) = _parse(client.get(f"/tableau-de-bord/seances/{appointment.id}.ics")).walk("VEVENT")
    assert str(event_["status"]) == "CANCELLED"


# --- the private feed -------------------------------------------------------------------------


def _feed_form(client, action):
    return client.post("/tableau-de-bord/calendrier", data={"action": action})


def test_feed_address_is_created_renewed_and_revoked(db, make, login, client, student):
    mine = make.appointment(student=student)
    others = make.appointment()
    db.session.commit()
    login(student)

    response = _feed_form(client, "create")
    assert response.status_code == 302
    token = db.session.get(User, student.id).calendar_token
    assert token and len(token) >= 40
    dashboard = client.get("/tableau-de-bord", follow_redirects=True).get_data(as_text=True)
    assert "Votre calendrier privé est prêt" in dashboard

    client.get("/deconnexion")
    anonymous = client.application.test_client()
    feed = anonymous.get(f"/calendrier/{token}.ics")
    uids = set(_events(_parse(feed)))
    assert any(uid.startswith(f"appointment-{mine.id}@") for uid in uids)
    assert not any(uid.startswith(f"appointment-{others.id}@") for uid in uids)
    assert feed.headers["Cache-Control"] == "private, max-age=300"

    login(student)
    _feed_form(client, "renew")
    db.session.expire_all()
    renewed = db.session.get(User, student.id).calendar_token
    assert renewed and renewed != token
    assert anonymous.get(f"/calendrier/{token}.ics").status_code == 404
    assert anonymous.get(f"/calendrier/{renewed}.ics").status_code == 200

    response = _feed_form(client, "revoke")
    db.session.expire_all()
    assert db.session.get(User, student.id).calendar_token is None
    assert "Adresse du calendrier désactivée" in client.get(response.location).get_data(as_text=True)
    assert anonymous.get(f"/calendrier/{renewed}.ics").status_code == 404


@pytest.mark.parametrize("action", ["", "delete", "x" * 300, "\x00"])
def test_unknown_feed_action_changes_nothing(db, login, client, student, action):
    student.calendar_token = "jeton-existant"
    db.session.commit()
    login(student)
    before = row_counts(db)
    response = client.post("/tableau-de-bord/calendrier", data={"action": action}, follow_redirects=True)
    assert response.status_code == 200
    assert "Action inconnue" in response.get_data(as_text=True) or "invalide" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, student.id).calendar_token == "jeton-existant"
    assert row_counts(db) == before


@pytest.mark.parametrize("token", ["inconnu", "a" * 43, "a" * 200, "é", "b" * 42])
def test_unknown_feed_tokens_are_not_found(client, db, student, token):
    student.calendar_token = "b" * 43
    db.session.commit()
    assert client.get(f"/calendrier/{token}.ics").status_code == 404


def test_suspended_accounts_feed_stops(db, client, make, student):
    make.appointment(student=student)
    student.calendar_token = ical.new_token()
    db.session.commit()
    assert client.get(f"/calendrier/{student.calendar_token}.ics").status_code == 200
    student.status = "suspended"
    db.session.commit()
    assert client.get(f"/calendrier/{student.calendar_token}.ics").status_code == 404


def test_a_tutors_feed_lists_the_sessions_they_teach(db, make, client):
    tutor = make.tutor()
    taught = make.appointment(tutor=tutor, course=tutor.courses[0] if tutor.courses else None)
    elsewhere = make.appointment()
    tutor.user.calendar_token = ical.new_token()
    db.session.commit()
    uids = set(_events(_parse(client.get(f"/calendrier/{tutor.user.calendar_token}.ics"))))
    assert any(uid.startswith(f"appointment-{taught.id}@") for uid in uids)
    assert not any(uid.startswith(f"appointment-{elsewhere.id}@") for uid in uids)


def test_dashboard_shows_the_absolute_feed_address_and_how_to_subscribe(app, db, login, client, student):
    login(student)
    html = client.get("/tableau-de-bord").get_data(as_text=True)
    assert 'value="create"' in html and "/calendrier/" not in html
    student.calendar_token = ical.new_token()
    db.session.commit()
    html = client.get("/tableau-de-bord").get_data(as_text=True)
    assert f"{app.config['PUBLIC_BASE_URL']}/calendrier/{student.calendar_token}.ics" in html
    assert "Google Agenda" in html and "Apple Calendrier" in html and "Outlook" in html
    assert 'value="renew"' in html and 'value="revoke"' in html


# --- orders and receipts --------------------------------------------------------------------


def _partially_refunded_order(db, make, student, now):
    """Two sessions at 45 $: a 9 $ coupon, 10 $ of credit, 71 $ by card, 20 $ back to the card."""
    coupon = make.coupon(code="AUTOMNE", kind="fixed", value=900)
    order = make.booked_order(
        items=2,
        user=student,
        discount_cents=900,
        credit_cents=1000,
        coupon=coupon,
        billing_first_name="Camille",
        billing_last_name="Roy",
        billing_address="123, rue Principale",
        billing_city="Sherbrooke",
        billing_postal_code="J1H 1A1",
        receipt_number="2026-00042",
    )
    item = order.items[0]
    refund = Refund(
        order=order,
        payment_id=order.payments[0].id,
        amount_cents=2000,
        reason="Geste commercial",
        status="succeeded",
        idempotency_key=f"test-refund-{order.id}",
        created_at=now,
        processed_at=now,
    )
    refund.items.append(RefundItem(order_item_id=item.id, amount_cents=2000, cancels_appointment=False))
    db.session.add(refund)
    order.status = "partially_refunded"
    db.session.commit()
    return order


def test_order_page_shows_every_amount(db, make, login, client, student, now):
    order = _partially_refunded_order(db, make, student, now)
    login(student)
    html = client.get(f"/tableau-de-bord/commandes/{order.id}").get_data(as_text=True)

    def amount(element_id):
        return re.search(rf'id="{element_id}">(?:<strong>)?([^<]*)<', html).group(1)

    assert amount("order-subtotal") == money(9000)
    assert amount("order-discount") == "− " + money(900)
    assert amount("order-credit") == "− " + money(1000)
    assert amount("order-card") == money(7100)
    assert amount("order-refunded") == "− " + money(2000)
    assert amount("order-balance") == money(5100)
    assert "AUTOMNE" in html and "Effectué" in html and "Remboursée en partie" in html
    assert html.count('data-item="') == 2


def test_receipt_shows_issuer_billing_lines_and_totals(app, db, make, login, client, student, now):
    app.config["BUSINESS_NAME"] = "4AS Tutorat inc."
    app.config["BUSINESS_ADDRESS"] = "1000, rue Sherbrooke Ouest, Montréal (Québec)"
    order = _partially_refunded_order(db, make, student, now)
    login(student)
    html = client.get(f"/tableau-de-bord/commandes/{order.id}/recu").get_data(as_text=True)
    assert "Reçu n<sup>o</sup> 2026-00042" in html
    assert "4AS Tutorat inc." in html and "1000, rue Sherbrooke Ouest, Montréal (Québec)" in html
    assert "123, rue Principale" in html and "Sherbrooke (QC) J1H 1A1" in html and "Camille Roy" in html
    assert "Aucune taxe n&#39;est facturée." in html or "Aucune taxe n'est facturée." in html
    assert f'id="receipt-card"><strong>{money(7100)}' in html
    assert f'id="receipt-balance"><strong>{money(5100)}' in html
    assert html.count(money(4500)) == 2
    assert "@media print" in client.get("/static/css/site.css").get_data(as_text=True)


def test_an_order_paid_before_numbering_has_a_receipt_without_number(db, make, login, client, student):
    order = make.booked_order(items=1, user=student)
    db.session.commit()
    login(student)
    html = client.get(f"/tableau-de-bord/commandes/{order.id}/recu").get_data(as_text=True)
    assert f"Reçu de la commande #{order.id}" in html and "n<sup>o</sup>" not in html


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_unpaid_orders_have_no_page_and_no_receipt(db, make, login, client, student, status):
    order = make.order(user=student, status=status)
    db.session.commit()
    login(student)
    assert client.get(f"/tableau-de-bord/commandes/{order.id}").status_code == 404
    assert client.get(f"/tableau-de-bord/commandes/{order.id}/recu").status_code == 404
    assert f'data-order="{order.id}"' not in client.get("/tableau-de-bord/commandes").get_data(as_text=True)


def test_orders_list_newest_first_and_paginated(db, make, login, client, student, now):
    orders = [make.order(user=student) for _ in range(23)]
    for days, order in enumerate(reversed(orders)):
        order.paid_at = now - timedelta(days=days)
    make.order()  # someone else's
    db.session.commit()
    login(student)
    first = client.get("/tableau-de-bord/commandes").get_data(as_text=True)
    listed = [int(n) for n in re.findall(r'data-order="(\d+)"', first)]
    assert listed == [o.id for o in reversed(orders)][:20]
    second = client.get("/tableau-de-bord/commandes?page=2").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'data-order="(\d+)"', second)] == [o.id for o in orders[:3]][::-1]
    assert "Page 2 sur 2" in second


# --- receipt numbers --------------------------------------------------------------------------


def test_receipt_numbers_follow_each_other_within_the_local_year(db, make):
    orders = [make.order() for _ in range(3)]
    paid = datetime(2027, 3, 1, 15, tzinfo=UTC)
    numbers = [receipts.assign_receipt_number(order, paid) for order in orders]
    assert numbers == ["2027-00001", "2027-00002", "2027-00003"]
    # Already numbered: the same number again, the counter untouched.
    assert receipts.assign_receipt_number(orders[0], paid) == "2027-00001"
    assert db.session.get(ReceiptCounter, 2027).last_number == 3


def test_a_new_local_year_starts_again_at_one(db, make):
    first, second, third = make.order(), make.order(), make.order()
    receipts.assign_receipt_number(first, datetime(2027, 12, 31, 12, tzinfo=UTC))
    # 00:30 UTC on January 1st is still December 31st in Toronto.
    receipts.assign_receipt_number(second, datetime(2028, 1, 1, 0, 30, tzinfo=UTC))
    receipts.assign_receipt_number(third, datetime(2028, 1, 1, 5, 30, tzinfo=UTC))
    assert [first.receipt_number, second.receipt_number, third.receipt_number] == [
        "2027-00001",
        "2027-00002",
        "2028-00001",
    ]


def test_a_paid_checkout_gets_the_next_receipt_number(db, offer, gateway, student, now):
    cart = new_cart(db, student)
    fill(cart, offer, 9, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    assert order.receipt_number is None
    payment_succeeded(payment.gateway_payment_id, now, gateway)
    db.session.commit()
    year = now.astimezone(TORONTO).year
    assert order.receipt_number == f"{year}-00001"
    # A replayed event numbers nothing twice.
    payment_succeeded(payment.gateway_payment_id, now, gateway)
    db.session.commit()
    assert db.session.get(ReceiptCounter, year).last_number == 1


def test_a_zero_amount_checkout_gets_a_receipt_number(db, offer, gateway, student, now):
    credits.add_entry(student.id, CreditKind.CREDIT, 10000, "Geste commercial", now)
    cart = new_cart(db, student)
    fill(cart, offer, 9, now=now)
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    assert payment is None and order.status == "paid"
    assert order.receipt_number == f"{now.astimezone(TORONTO).year}-00001"


def test_concurrent_payments_get_distinct_consecutive_numbers(app, db, make, pg_engine, quiet):
    ids = [make.order(status="pending").id for _ in range(20)]
    quiet()
    paid = datetime(2029, 6, 1, 12, tzinfo=UTC)

    def pay(order_id):
        def call():
            with app.app_context():
                order = _db.session.get(Order, order_id)
                number = receipts.assign_receipt_number(order, paid)
                _db.session.commit()
                return number

        return call

    results = race([pay(order_id) for order_id in ids])
    assert all(isinstance(result, str) for result in results), results
    assert sorted(results) == [f"2029-{n:05d}" for n in range(1, 21)], results
    stored = db.session.scalars(select(Order.receipt_number).where(Order.id.in_(ids))).all()
    assert sorted(stored) == sorted(results)
    assert db.session.get(ReceiptCounter, 2029).last_number == 20


# --- credits ------------------------------------------------------------------------------------


def test_credit_history_shows_each_line_with_its_running_balance(db, make, login, client, student, now):
    lines = [
        (CreditKind.CREDIT, 4500, "Séance annulée"),
        (CreditKind.DEBIT, 1000, "Utilisé pour la commande"),
        (CreditKind.CREDIT, 250, "Geste commercial"),
    ]
    for minutes, (kind, cents, reason) in enumerate(lines):
        credits.add_entry(student.id, kind, cents, reason, now - timedelta(minutes=10 - minutes))
    credits.add_entry(make.user().id, CreditKind.CREDIT, 9900, "Quelqu'un d'autre", now)
    db.session.commit()
    login(student)
    html = client.get("/tableau-de-bord/credits").get_data(as_text=True)
    rows = re.findall(r'<tr data-entry="\d+">(.*?)</tr>', html, re.S)
    cells = [re.findall(r'<td [^>]*class="num[^"]*">([^<]*)</td>', row) for row in rows]
    assert cells == [
        ["+ " + money(250), money(3750)],
        ["− " + money(1000), money(3500)],
        ["+ " + money(4500), money(4500)],
    ]
    assert f'id="credit-total"><strong>{money(3750)}' in html and "Quelqu'un d'autre" not in html


def test_credit_reserved_by_a_pending_order_shows_apart(db, make, login, client, student, now):
    credits.add_entry(student.id, CreditKind.CREDIT, 3000, "Séance annulée", now)
    pending = make.order(user=student, status="pending")
    pending.credit_cents, pending.total_cents = 1200, pending.subtotal_cents - 1200
    db.session.commit()
    login(student)
    html = client.get("/tableau-de-bord/credits").get_data(as_text=True)
    assert f'id="credit-reserved">− {money(1200)}' in html
    assert f'id="credit-available"><strong>{money(1800)}' in html


def test_credit_history_pages_keep_the_running_balance(db, login, client, student, now):
    for i in range(30):
        credits.add_entry(student.id, CreditKind.CREDIT, 100, f"Ligne {i}", now - timedelta(hours=30 - i))
    db.session.commit()
    login(student)
    second = client.get("/tableau-de-bord/credits?page=2").get_data(as_text=True)
    balances = re.findall(r'<td [^>]*class="num">([^<]*)</td>\s*</tr>', second)
    assert balances == [money(100 * n) for n in range(5, 0, -1)]


# --- query counts ------------------------------------------------------------------------------


def _queries(client, url):
    return len(page_statements(client, _db, url)[0])


def test_record_pages_run_a_fixed_number_of_queries(db, make, login, client, student, now):
    order = make.booked_order(items=1, user=student)
    credits.add_entry(student.id, CreditKind.CREDIT, 100, "Une ligne", now)
    student.calendar_token = ical.new_token()
    db.session.commit()
    login(student)
    urls = [
        "/tableau-de-bord/commandes",
        f"/tableau-de-bord/commandes/{order.id}",
        "/tableau-de-bord/credits",
        f"/calendrier/{student.calendar_token}.ics",
    ]
    few = [_queries(client, url) for url in urls]
    for _ in range(6):
        make.booked_order(items=3, user=student)
        credits.add_entry(student.id, CreditKind.CREDIT, 100, "Une autre ligne", now)
    big = make.booked_order(items=4, user=student)
    db.session.commit()
    urls[1] = f"/tableau-de-bord/commandes/{big.id}"
    assert [_queries(client, url) for url in urls] == few


# --- who may see what, bad input -------------------------------------------------------------


def _student_urls(appointment, order):
    return [
        f"/tableau-de-bord/seances/{appointment.id}.ics",
        f"/tableau-de-bord/commandes/{order.id}",
        f"/tableau-de-bord/commandes/{order.id}/recu",
    ]


LIST_URLS = ["/tableau-de-bord/commandes", "/tableau-de-bord/credits"]


def test_another_students_ids_are_not_found(db, make, login, client, student):
    other = make.user()
    order = make.booked_order(items=1, user=other)
    appointment = order.items[0].appointment
    db.session.commit()
    login(student)
    for url in _student_urls(appointment, order):
        assert client.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_the_login_page(db, make, client):
    order = make.booked_order(items=1)
    db.session.commit()
    for url in [*_student_urls(order.items[0].appointment, order), *LIST_URLS]:
        response = client.get(url)
        assert response.status_code == 302 and "/connexion" in response.location, url
    response = client.post("/tableau-de-bord/calendrier", data={"action": "create"})
    assert response.status_code == 302 and "/connexion" in response.location


@pytest.mark.parametrize("role", OFFICE_ROLES)
def test_office_roles_are_refused(db, make, login_as, client, role):
    user = login_as(role)
    order = make.booked_order(items=1)
    db.session.commit()
    for url in [*_student_urls(order.items[0].appointment, order), *LIST_URLS]:
        assert client.get(url).status_code == 403, url
    assert client.post("/tableau-de-bord/calendrier", data={"action": "create"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, user.id).calendar_token is None


def test_a_suspended_student_is_signed_out(db, make, login, client, student):
    order = make.booked_order(items=1, user=student)
    db.session.commit()
    login(student)
    student.status = "suspended"
    db.session.commit()
    for url in [*_student_urls(order.items[0].appointment, order), *LIST_URLS]:
        response = client.get(url)
        assert response.status_code == 302 and "/connexion" in response.location, url


@pytest.mark.parametrize(
    "url",
    [
        "/tableau-de-bord/seances/0.ics",
        "/tableau-de-bord/seances/2147483648.ics",
        "/tableau-de-bord/seances/abc.ics",
        "/tableau-de-bord/commandes/0",
        "/tableau-de-bord/commandes/99999999999",
        "/tableau-de-bord/commandes/-1/recu",
        "/tableau-de-bord/commandes?page=0",
        "/tableau-de-bord/commandes?page=abc",
        "/tableau-de-bord/commandes?page=2",
        "/tableau-de-bord/commandes?page=-1",
        "/tableau-de-bord/credits?page=\uff11",  # a full-width digit
        "/tableau-de-bord/credits?page=1e3",
        "/tableau-de-bord/credits?page=99999999999999",
    ],
)
def test_bad_ids_and_page_numbers_are_not_found_in_french(login, client, student, url):
    login(student)
    response = client.get(url)
    assert response.status_code == 404
    assert "introuvable" in response.get_data(as_text=True).lower()


def test_a_page_number_in_range_works(db, login, client, student):
    login(student)
    assert client.get("/tableau-de-bord/commandes?page=1").status_code == 200
    assert client.get("/tableau-de-bord/credits?page=").status_code == 200
