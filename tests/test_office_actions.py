"""The office's actions in the back office: refunds, cancellations, bookings, credits, audited edits."""

import csv
import html
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tutoradmin import credits
from tutoradmin.models import (
    Appointment,
    AuditLog,
    CouponRedemption,
    CreditEntry,
    OutboxEvent,
    Refund,
    Role,
    SlotLock,
    utcnow,
)


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _request_key(page):
    return re.search(r'name="request_key" type="hidden" value="([0-9a-f]{32})"', page).group(1)


def _next_hour(days):
    return utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=days)


# Refunds -------------------------------------------------------------------------------------


def test_staff_refunds_one_session_of_an_order_through_the_refund_page(client, db, make, login_as):
    login_as("staff")
    order = make.booked_order(items=2)
    first = order.items[0]
    db.session.commit()

    page = client.get(f"/admin/remboursements/commande/{order.id}").get_data(as_text=True)
    assert "Rembourser la commande" in page and f'value="{first.id}"' in page
    response = client.post(
        f"/admin/remboursements/commande/{order.id}",
        data={
            "amount": "45,00",
            "sessions": [str(first.id)],
            "reason": "Tuteur absent",
            "request_key": _request_key(page),
        },
    )

    assert response.status_code == 302
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_cents, refund.status) == (4500, "succeeded")
    assert refund.gateway_refund_id.startswith("re_sim_")
    db.session.expire_all()
    assert order.status == "partially_refunded"
    assert first.appointment.status == "cancelled"
    page = client.get(f"/admin/remboursements/commande/{order.id}").get_data(as_text=True)
    assert refund.gateway_refund_id in page and "Remboursé" in page


def test_a_double_submitted_refund_form_refunds_once(client, db, make, login_as):
    login_as("admin")
    order = make.booked_order(items=1)
    db.session.commit()
    page = client.get(f"/admin/remboursements/commande/{order.id}").get_data(as_text=True)
    form = {"amount": "10", "reason": "Retard", "request_key": _request_key(page)}

    client.post(f"/admin/remboursements/commande/{order.id}", data=form)
    client.post(f"/admin/remboursements/commande/{order.id}", data=form)

    assert _count(db, Refund) == 1
    assert db.session.scalar(select(Refund.amount_cents)) == 1000


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [("abc", "Motif", "Montant invalide"), ("1000", "Motif", "dépasse ce qui reste"), ("10", "", "Indiquez un motif")],
)
def test_a_bad_refund_form_shows_a_french_message_and_refunds_nothing(
    client, db, make, login_as, amount, reason, message
):
    login_as("staff")
    order = make.booked_order(items=1)
    db.session.commit()
    page = client.get(f"/admin/remboursements/commande/{order.id}").get_data(as_text=True)

    response = client.post(
        f"/admin/remboursements/commande/{order.id}",
        data={"amount": amount, "reason": reason, "request_key": _request_key(page)},
        follow_redirects=True,
    )

    assert message in response.get_data(as_text=True)
    assert _count(db, Refund) == 0


@pytest.mark.parametrize(("role", "status"), [("accountant", 403), ("tutor", 403), ("student", 403)])
def test_only_the_office_can_open_or_post_the_refund_page(client, db, make, login_as, role, status):
    order = make.booked_order(items=1)
    login_as(role)
    db.session.commit()

    assert client.get(f"/admin/remboursements/commande/{order.id}").status_code == status
    response = client.post(
        f"/admin/remboursements/commande/{order.id}", data={"amount": "10", "reason": "x", "request_key": "0" * 32}
    )
    assert response.status_code == status
    assert _count(db, Refund) == 0


def test_the_refund_page_of_an_unknown_order_is_not_found(client, login_as):
    login_as("staff")
    assert client.get("/admin/remboursements/commande/999999").status_code == 404


# Appointments ---------------------------------------------------------------------------------


def test_staff_cancels_an_appointment_with_a_reason_and_the_student_gets_a_credit(client, db, make, login_as):
    staff = login_as("staff")
    order = make.booked_order(items=1)
    appointment = order.items[0].appointment
    db.session.commit()

    refused = client.post(f"/admin/rendez-vous/annuler/{appointment.id}", data={"reason": "  "})
    assert refused.status_code == 400 and "Indiquez un motif" in refused.get_data(as_text=True)
    response = client.post(f"/admin/rendez-vous/annuler/{appointment.id}", data={"reason": "Tuteur malade"})

    assert response.status_code == 302
    db.session.expire_all()
    assert appointment.status == "cancelled" and appointment.cancelled_by_id == staff.id
    assert appointment.cancellation_reason == "Tuteur malade"
    assert credits.balance_cents(order.user_id) == order.items[0].paid_cents
    assert _count(db, SlotLock, SlotLock.appointment_id == appointment.id) == 0
    assert [c.kind for c in appointment.changes] == ["cancelled"]
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "booking.cancelled"))
    assert event.payload["credit"]["cents"] == order.items[0].paid_cents
    assert event.payload["cancelled_by"] == {"role": "staff", "name": staff.full_name}


def test_a_cancelled_appointment_cannot_be_cancelled_again(client, db, make, login_as):
    login_as("staff")
    appointment = make.booked_order(items=1).items[0].appointment
    db.session.commit()
    client.post(f"/admin/rendez-vous/annuler/{appointment.id}", data={"reason": "Une fois"})

    client.post(f"/admin/rendez-vous/annuler/{appointment.id}", data={"reason": "Deux fois"})

    assert _count(db, CreditEntry) == 1


def test_staff_books_a_session_without_payment_and_the_tutor_time_is_locked(client, db, make, login_as):
    login_as("staff")
    course = make.course()
    tutor = make.tutor(courses=[course])
    student = make.user()
    db.session.commit()
    starts = _next_hour(5)
    local = starts.astimezone(ZoneInfo("America/Toronto"))
    form = {
        "student_id": student.id,
        "course_id": course.id,
        "tutor_id": tutor.id,
        "starts_at": local.strftime("%Y-%m-%d %H:%M"),
        "duration_minutes": 90,
    }

    response = client.post("/admin/rendez-vous/reserver", data=form)

    assert response.status_code == 302
    appointment = db.session.scalar(select(Appointment))
    assert (appointment.starts_at, appointment.duration_minutes, appointment.order_item_id) == (starts, 90, None)
    assert _count(db, SlotLock, SlotLock.appointment_id == appointment.id) == 3
    busy = client.post("/admin/rendez-vous/reserver", data=form)
    assert busy.status_code == 400 and "n'est pas libre" in _text(busy)
    assert _count(db, Appointment) == 1


def test_booking_a_tutor_for_a_course_they_do_not_teach_is_refused(client, db, make, login_as):
    login_as("admin")
    course, other = make.course(), make.course()
    tutor = make.tutor(courses=[other])
    student = make.user()
    db.session.commit()

    response = client.post(
        "/admin/rendez-vous/reserver",
        data={
            "student_id": student.id,
            "course_id": course.id,
            "tutor_id": tutor.id,
            "starts_at": "2099-01-05 10:00",
            "duration_minutes": 60,
        },
    )

    assert response.status_code == 400
    assert "n'enseigne pas ce cours" in _text(response)
    assert _count(db, Appointment) == 0


# Credits and audited edits --------------------------------------------------------------------


def test_a_manual_credit_adjustment_needs_a_reason_and_is_audited(client, db, make, login_as):
    staff = login_as("staff")
    student = make.user()
    db.session.commit()
    url = f"/admin/etudiants/credit/{student.id}"

    assert client.post(url, data={"direction": "credit", "amount": "20", "reason": ""}).status_code == 400
    assert client.post(url, data={"direction": "debit", "amount": "5", "reason": "Erreur"}).status_code == 400
    assert client.post(url, data={"direction": "credit", "amount": "20,00", "reason": "Geste"}).status_code == 302

    assert credits.balance_cents(student.id) == 2000
    entry = db.session.scalar(select(CreditEntry))
    assert (entry.reason, entry.created_by_id) == ("Geste", staff.id)
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "credit.adjusted"))
    assert (log.actor_id, log.target_id, log.before, log.after["solde_cents"]) == (
        staff.id,
        student.id,
        {"solde_cents": 0},
        2000,
    )
    page = client.get(url).get_data(as_text=True)
    assert "Geste" in page and "20,00" in page


def test_changing_a_tutor_rate_is_audited_with_before_and_after(client, db, make, login_as):
    admin = login_as("admin")
    course = make.course()
    tutor = make.tutor(courses=[course], hourly_rate_cents=2500)
    db.session.commit()

    response = client.post(
        f"/admin/tuteurs/edit/?id={tutor.id}",
        data={
            "user": tutor.user_id,
            "display_name": tutor.display_name,
            "hourly_rate_cents": "27,50",
            "priority": "10",
            "active": "y",
            "courses": [str(course.id)],
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "tutor.rate_changed"))
    assert (log.actor_id, log.target_id) == (admin.id, tutor.id)
    assert (log.before, log.after) == ({"hourly_rate_cents": 2500}, {"hourly_rate_cents": 2750})
    journal = _text(client.get("/admin/journal/"))
    assert "Taux horaire modifié" in journal and "Tuteur" in journal
    details = _text(client.get(f"/admin/journal/details/?id={log.id}"))
    assert "Taux horaire : 25,00\u00a0$" in details and "Taux horaire : 27,50\u00a0$" in details


def test_changing_a_role_is_audited(client, db, make, login_as):
    admin = login_as("admin")
    user = make.user(role=Role.STAFF)
    db.session.commit()

    response = client.post(
        f"/admin/utilisateurs/edit/?id={user.id}",
        data={"email": user.email, "first_name": "A", "last_name": "B", "role": "accountant", "status": "active"},
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.role_changed"))
    assert (log.actor_id, log.before, log.after) == (admin.id, {"role": "staff"}, {"role": "accountant"})


# Coupon usage ----------------------------------------------------------------------------------


def test_coupon_usage_counts_paid_orders_and_the_discount_they_got(client, db, make, login_as):
    login_as("accountant")
    coupon = make.coupon(code="RENTREE", redemptions_count=3)
    unused = make.coupon(code="JAMAIS")
    for discount in (500, 700):
        order = make.order()
        db.session.add(
            CouponRedemption(coupon=coupon, order_id=order.id, user_id=order.user_id, discount_cents=discount)
        )
    db.session.commit()

    assert (coupon.paid_redemptions, coupon.discount_given_cents) == (2, 1200)
    assert (unused.paid_redemptions, unused.discount_given_cents) == (0, 0)
    export = client.get("/admin/compta/coupons/export/csv/")
    text = export.get_data(as_text=True).removeprefix("\ufeff")
    rows = {row["Code"]: row for row in csv.DictReader(io.StringIO(text))}
    assert (rows["RENTREE"]["Commandes payées"], rows["RENTREE"]["Rabais accordés"]) == ("2", "12.00")
    assert rows["JAMAIS"]["Rabais accordés"] == "0.00"


# Settings --------------------------------------------------------------------------------------


@pytest.mark.app_config(
    STRIPE_SECRET_KEY="sk_test_secret_value", STRIPE_WEBHOOK_SECRET="whsec_secret_value", HOLD_MINUTES=15
)
def test_the_settings_page_shows_the_rules_in_force_but_never_a_secret(client, login_as):
    login_as("admin")

    page = _text(client.get("/admin/parametres/"))

    assert "15 min" in page and "Stripe" in page and "configuré" in page
    assert "sk_test_secret_value" not in page and "whsec_secret_value" not in page


@pytest.mark.parametrize(
    ("role", "orders"), [("staff", "/admin/commandes/"), ("accountant", "/admin/compta/commandes/")]
)
def test_each_refund_links_to_its_order_in_the_list_the_role_reads(client, db, make, login_as, role, orders):
    login_as(role)
    order = make.booked_order(items=1)
    db.session.add(Refund(order=order, amount_cents=1000, reason="Geste", idempotency_key="r-link"))
    db.session.commit()
    refunds_url = "/admin/remboursements/" if role == "staff" else "/admin/compta/remboursements/"

    page = client.get(refunds_url).get_data(as_text=True)

    assert f'href="{orders}details/?id={order.id}"' in page


@pytest.mark.parametrize("status", ["pending", "refunded"])
def test_the_refund_page_offers_no_form_for_an_order_that_cannot_be_refunded(client, db, make, login_as, status):
    login_as("staff")
    order = make.booked_order(items=1)
    order.status = status
    db.session.commit()

    page = _text(client.get(f"/admin/remboursements/commande/{order.id}"))

    assert "n'a plus rien à rembourser" in page and 'name="request_key"' not in page
