"""The office's operations: the overview's lists, an appointment's history, booking without payment,
the refund confirmation and a coupon's orders."""

import html
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tutoradmin import appointments
from tutoradmin.extensions import db as _db
from tutoradmin.localtime import local_day_bounds, local_today
from tutoradmin.models import (
    Appointment,
    AppointmentChange,
    CouponRedemption,
    OutboxEvent,
    Refund,
    Ticket,
    TicketMessage,
)

from .query_counts import page_statements


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _queries(client, url):
    """How many SQL statements a page costs, nothing in the session's identity map to help it."""
    _db.session.expunge_all()
    return len(page_statements(client, _db, url)[0])


def _section(page, title):
    """The HTML of an overview section, from its heading to the next one."""
    return page.split(f">{title}</h2>", 1)[1].split("<h2", 1)[0]


def _today_at(now, hours):
    start, _ = local_day_bounds(local_today(now))
    return start + timedelta(hours=hours)


def _needs_attention(db, make, now, n):
    """One of each thing the overview lists: a session today, an unanswered ticket, a flagged order,
    an order with a flagged session, a failed delivery."""
    student = make.user()
    make.appointment(student=student, starts_at=_today_at(now, 8 + n % 12), status="completed")
    db.session.add(Ticket(student=make.user(), subject=f"Question {n}"))
    flagged = make.order(user=student)
    flagged.flagged_at, flagged.flag_reason = now - timedelta(hours=1), f"Litige {n}"
    lost = make.order()
    lost.items[0].flagged_at, lost.items[0].flag_reason = now, f"Créneau perdu {n}"
    db.session.add(OutboxEvent(event_type="signup", status="failed", payload={}, last_error=f"HTTP 500 n{n}"))
    db.session.flush()
    return flagged, lost


# --- the overview ---------------------------------------------------------------------------------


def test_the_office_overview_lists_what_needs_doing_today(client, db, make, login_as, now):
    staff = login_as("staff")
    flagged, lost = _needs_attention(db, make, now, 1)
    tomorrow = make.appointment(starts_at=_today_at(now, 30))
    student = make.user(first_name="Alice", last_name="Roy")
    answered = Ticket(student=student, subject="Déjà répondu")
    answered.messages.append(TicketMessage(author=staff, body="Bonjour"))
    db.session.add(answered)
    make.order(status="pending")
    db.session.commit()

    page = _text(client.get("/admin/"))

    sessions = _section(page, "Séances d'aujourd'hui")
    today = db.session.scalar(select(Appointment).where(Appointment.id != tomorrow.id))
    assert f"/admin/rendez-vous/details/?id={today.id}" in sessions
    assert today.course.title in sessions and today.tutor.display_name in sessions and "Présent" in sessions
    assert f"?id={tomorrow.id}" not in sessions
    tickets = _section(page, "Billets sans réponse")
    assert "Question 1" in tickets and "Déjà répondu" not in tickets
    assert "/admin/billets/?flt0_" in tickets
    orders = _section(page, "Commandes signalées")
    assert f"/admin/commandes/details/?id={flagged.id}" in orders and "Litige 1" in orders
    assert f"/admin/commandes/details/?id={lost.id}" in orders and "Créneau perdu 1" in orders
    deliveries = _section(page, "Envois sortants à vérifier")
    failed = db.session.scalar(select(OutboxEvent.id))
    assert f"/admin/envois-sortants/details/?id={failed}" in deliveries and "HTTP 500 n1" in deliveries
    for link in ("/admin/rendez-vous/reserver", "/admin/coupons/new/", "/admin/envois-sortants/"):
        assert link in page
    assert "Commandes récentes" in page and "Revenus du mois" in page


def test_the_lists_link_to_lists_that_hold_them(client, db, make, login_as, now):
    login_as("admin")
    flagged, lost = _needs_attention(db, make, now, 1)
    quiet = make.order()
    db.session.commit()
    orders = _section(_text(client.get("/admin/")), "Commandes signalées")

    links = re.findall(r'href="(/admin/commandes/\?flt0_[^"]+)"', orders)
    listed = [set(map(int, re.findall(r"details/\?id=(\d+)", _text(client.get(link))))) for link in links]
    assert listed == [{flagged.id}, {lost.id}]
    assert quiet.id not in listed[0] | listed[1]


def test_an_empty_day_says_so(client, db, login_as):
    login_as("staff")
    page = _text(client.get("/admin/"))
    assert "Aucune séance aujourd'hui." in page and "Aucun billet n'attend de réponse." in page
    assert "Commandes signalées" not in page and "Envois sortants à vérifier" not in page


def test_the_accountant_overview_has_no_office_lists(client, db, make, login_as, now):
    login_as("accountant")
    flagged, _lost = _needs_attention(db, make, now, 1)
    db.session.commit()
    page = _text(client.get("/admin/"))
    assert "Séances d'aujourd'hui" not in page and "Billets sans réponse</h2>" not in page
    assert "Envois sortants à vérifier" not in page and "/admin/rendez-vous/reserver" not in page
    assert f"/admin/compta/commandes/details/?id={flagged.id}" in _section(page, "Commandes signalées")


def test_the_overview_costs_the_same_queries_whatever_the_data(client, db, make, login_as, now):
    login_as("staff")
    _needs_attention(db, make, now, 0)
    db.session.commit()
    one = _queries(client, "/admin/")
    for n in range(1, 6):
        _needs_attention(db, make, now, n)
    db.session.commit()
    assert _queries(client, "/admin/") == one


# --- an appointment's history ---------------------------------------------------------------------


def test_the_appointment_page_shows_its_history_in_french(client, db, make, login_as, now):
    staff = login_as("staff", first_name="Martine", last_name="Côté")
    course = make.course()
    tutor = make.tutor(courses=[course])
    student = make.user()
    starts = (now + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
    appointment = appointments.book_without_payment(student, tutor, course, starts, 60, staff, now)
    db.session.add(
        AppointmentChange(
            appointment_id=appointment.id,
            actor_id=None,
            kind="rescheduled",
            previous_starts_at=starts - timedelta(days=1),
            new_starts_at=starts,
            reason="Demande de l'étudiant",
            created_at=now + timedelta(minutes=1),
        )
    )
    db.session.flush()
    appointments.cancel(appointment, "Tuteur malade", staff, now + timedelta(minutes=2))
    db.session.commit()

    page = _text(client.get(f"/admin/rendez-vous/details/?id={appointment.id}"))

    history = page.split("Historique des modifications", 1)[1]
    assert "Réservée — par Martine Côté" in history
    assert "Déplacée — par Automatique — du " in history and "motif : Demande de l'étudiant" in history
    assert "Annulée — par Martine Côté — motif : Tuteur malade" in history
    assert history.index("Réservée") < history.index("Déplacée") < history.index("Annulée")
    assert "rescheduled" not in history and "cancelled" not in history


# --- booking without payment ----------------------------------------------------------------------


def test_booking_without_payment_offers_only_the_course_tutors(client, db, make, login_as, now):
    login_as("staff")
    course, other = make.course(title="Algèbre"), make.course(title="Chimie")
    teaches = make.tutor(courses=[course], display_name="Lina Gagnon")
    make.tutor(courses=[other], display_name="Paul Ouellet")
    student = make.user()
    db.session.commit()

    first = _text(client.get("/admin/rendez-vous/reserver"))
    assert 'name="cours"' in first and "Algèbre" in first and "Chimie" in first
    assert 'name="tutor_id"' not in first

    second = _text(client.get(f"/admin/rendez-vous/reserver?cours={course.id}"))
    tutors = re.search(r'<select[^>]*name="tutor_id".*?</select>', second, re.S).group(0)
    assert "Lina Gagnon" in tutors and "Paul Ouellet" not in tutors
    assert f'name="course_id" value="{course.id}"' in second

    unknown = _text(client.get("/admin/rendez-vous/reserver?cours=99999"))
    assert 'name="tutor_id"' not in unknown

    local = (now + timedelta(days=5)).astimezone(ZoneInfo("America/Toronto")).replace(minute=0)
    form = {
        "student_id": student.id,
        "course_id": course.id,
        "starts_at": local.strftime("%Y-%m-%d %H:%M"),
        "duration_minutes": 60,
    }
    refused = client.post("/admin/rendez-vous/reserver", data={**form, "tutor_id": teaches.id + 1})
    assert refused.status_code == 400 and "Ce tuteur n'enseigne pas ce cours." in _text(refused)
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0
    no_course = client.post("/admin/rendez-vous/reserver", data={**form, "course_id": "x", "tutor_id": teaches.id})
    assert no_course.status_code == 400 and "Choisissez un cours actif." in _text(no_course)
    booked = client.post("/admin/rendez-vous/reserver", data={**form, "tutor_id": teaches.id})
    assert booked.status_code == 302
    assert db.session.scalar(select(Appointment.tutor_id)) == teaches.id


# --- refunds are confirmed ------------------------------------------------------------------------


def test_a_refund_is_confirmed_before_the_gateway_is_called(client, db, make, login_as):
    login_as("staff")
    order = make.booked_order(items=2)
    first = order.items[0]
    db.session.commit()
    page = _text(client.get(f"/admin/remboursements/commande/{order.id}"))
    assert f'action="/admin/remboursements/commande/{order.id}/confirmer"' in page
    key = re.search(r'name="request_key" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    form = {"amount": "45,00", "sessions": [str(first.id)], "reason": "Tuteur absent", "request_key": key}

    confirmation = client.post(f"/admin/remboursements/commande/{order.id}/confirmer", data=form)

    assert confirmation.status_code == 200
    shown = _text(confirmation).split('id="refund-confirmation"', 1)[1].split("</form>", 1)[0]
    assert "45,00\xa0$" in shown and first.course.title in shown and "Tuteur absent" in shown
    assert "Confirmer le remboursement" in shown and f'value="{key}"' in shown
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0
    hidden = dict(re.findall(r'<input type="hidden" name="(amount|sessions)" value="([^"]*)">', shown))
    assert hidden == {"amount": "45.00", "sessions": str(first.id)}

    data = {**form, "amount": hidden["amount"]}
    assert client.post(f"/admin/remboursements/commande/{order.id}", data=data).status_code == 302
    client.post(f"/admin/remboursements/commande/{order.id}", data=data)
    refunds = db.session.scalars(select(Refund)).all()
    assert [(r.amount_cents, r.status) for r in refunds] == [(4500, "succeeded")]


def test_a_bad_refund_form_is_refused_at_the_confirmation_step(client, db, make, login_as):
    login_as("admin")
    order = make.booked_order(items=1)
    db.session.commit()
    form = {"amount": "abc", "reason": "Motif", "request_key": "a" * 32}
    response = client.post(f"/admin/remboursements/commande/{order.id}/confirmer", data=form)
    assert response.status_code == 400 and "Montant invalide" in _text(response)
    assert "Confirmer le remboursement" not in _text(response)
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0


# --- a coupon's orders ----------------------------------------------------------------------------


def _redeemed(db, make, coupon, discount, user=None):
    order = make.order(user=user, coupon_id=coupon.id)
    db.session.add(CouponRedemption(coupon=coupon, order_id=order.id, user_id=order.user_id, discount_cents=discount))
    db.session.flush()
    return order


def test_a_coupon_page_lists_the_orders_that_used_it(client, db, make, login_as):
    login_as("staff")
    coupon, other = make.coupon(code="RENTREE"), make.coupon(code="AUTRE")
    first = _redeemed(db, make, coupon, 500, user=make.user(first_name="Léa", last_name="Roy"))
    second = _redeemed(db, make, coupon, 700)
    elsewhere = _redeemed(db, make, other, 300)
    db.session.commit()

    page = _text(client.get(f"/admin/coupons/details/?id={coupon.id}"))

    orders = page.split(">Commandes</", 1)[1]
    assert f'/admin/commandes/details/?id={first.id}">Commande #{first.id}</a>' in orders
    assert "Léa Roy — rabais 5,00\xa0$" in orders and "rabais 7,00\xa0$" in orders
    assert f"?id={elsewhere.id}" not in orders
    link = re.search(r'href="(/admin/commandes/\?flt0_[^"]+)">Toutes les commandes de ce coupon \(2\)', orders)
    listed = set(map(int, re.findall(r"details/\?id=(\d+)", _text(client.get(link.group(1))))))
    assert listed == {first.id, second.id}
    unused = _text(client.get(f"/admin/coupons/details/?id={make.coupon().id}"))
    assert "Aucune commande payée n'a utilisé ce coupon." in unused
    assert client.get("/admin/commandes/?" + link.group(1).split("?")[1].split("=")[0] + "=abc").status_code == 200


def test_the_accountant_reaches_a_coupon_orders_in_their_own_list(client, db, make, login_as):
    login_as("accountant")
    coupon = make.coupon()
    order = _redeemed(db, make, coupon, 500)
    db.session.commit()
    page = _text(client.get(f"/admin/compta/coupons/details/?id={coupon.id}"))
    assert f"/admin/compta/commandes/details/?id={order.id}" in page
    assert "/admin/compta/commandes/?flt0_" in page
