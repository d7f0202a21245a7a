"""Tutor performance and course activity for a local month: hand-computed figures on a fixed dataset, access."""

from datetime import date, time
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tutoradmin import performance
from tutoradmin.localtime import local_instant
from tutoradmin.models import AvailabilityException, Rating, Refund, RefundItem, TimeOff

from .query_counts import count_queries

FEBRUARY = date(2026, 2, 1)


def at(day, hour, minute=0):
    return local_instant(day, time(hour, minute))


def _marked(kind, share, credit):
    return {
        "status": "completed",
        "attendance": kind,
        "tutor_share_percent": share,
        "student_credit_percent": credit,
        "attendance_marked_at": at(date(2026, 2, 5), 9),
    }


@pytest.fixture
def month(db, make):
    """February 2026 (Sunday 1st to Saturday 28th), in Toronto time.

    Ana: Monday 9–12 and Wednesday 13–17 (4 Mondays, 4 Wednesdays: 28 h), closed all day Monday the 16th
    (−3 h), open Saturday the 21st 10–12 (+2 h), closed Wednesday the 25th 13–15 (−2 h), time off all of
    Monday the 9th (−3 h): 22 h offered. Her sessions in February: 60 min present (rated 5), 90 min
    no-show, 120 min late cancellation (rated 2), 60 min on Saturday the 28th at 23:00 (1 March in UTC);
    a cancelled one and one on 31 January at 22:00 (1 February in UTC) do not count: 4 sessions, 5.5 h.
    Ben: no hours, one 60 min session of another course. Chloé: inactive, nothing this month.
    """
    algebra = make.course(title="Algèbre", rate_cents=5000)
    physics = make.course(title="Physique", rate_cents=4000)
    make.course(title="Ancien cours", active=False)
    ana = make.tutor(courses=[algebra], display_name="Ana Ribeiro")
    ben = make.tutor(courses=[physics], display_name="Ben Gagnon")
    make.tutor(display_name="Chloé Roy", active=False)
    first, second = make.user(), make.user()
    make.weekly_rule(ana, weekday=0, start=time(9), end=time(12))
    make.weekly_rule(ana, weekday=2, start=time(13), end=time(17))
    db.session.add_all(
        [
            AvailabilityException(tutor=ana, date=date(2026, 2, 16), kind="closed"),
            AvailabilityException(
                tutor=ana, date=date(2026, 2, 21), kind="open", start_time=time(10), end_time=time(12)
            ),
            AvailabilityException(
                tutor=ana, date=date(2026, 2, 25), kind="closed", start_time=time(13), end_time=time(15)
            ),
            # Another month's exception changes nothing in February.
            AvailabilityException(tutor=ana, date=date(2026, 3, 2), kind="closed"),
            TimeOff(tutor=ana, starts_at=at(date(2026, 2, 9), 0), ends_at=at(date(2026, 2, 10), 0)),
        ]
    )

    def session(day, hour, minutes=60, student=first, tutor=ana, course=algebra, **fields):
        return make.appointment(
            student=student,
            tutor=tutor,
            course=course,
            starts_at=at(day, hour),
            duration_minutes=minutes,
            **fields,
        )

    present = session(date(2026, 2, 2), 9, status="completed")
    session(date(2026, 2, 2), 10, 90, student=second, **_marked("no_show", 100, 0))
    late = session(date(2026, 2, 4), 13, 120, **_marked("late_cancel", 50, 50))
    session(date(2026, 2, 28), 23)
    session(date(2026, 2, 11), 14, status="cancelled", cancelled_at=at(date(2026, 2, 10), 8))
    session(date(2026, 1, 31), 22)
    session(date(2026, 2, 3), 10, student=second, tutor=ben, course=physics, status="completed")
    for appointment, score, comment in ((present, 5, "Excellent"), (late, 2, "")):
        db.session.add(Rating(appointment_id=appointment.id, student_id=first.id, score=score, comment=comment))

    # Algèbre: 100 $ paid on 10 February, 25 $ of it refunded on 20 February; Physique: 40 $ paid on
    # 12 February and 40 $ on 2 March (another month).
    algebra_order = make.order(user=first, course=algebra, tutor=ana, items=2)
    algebra_order.payments[0].succeeded_at = at(date(2026, 2, 10), 12)
    refund = Refund(
        order=algebra_order,
        amount_cents=2500,
        reason="Geste commercial",
        status="succeeded",
        idempotency_key="refund-feb",
        processed_at=at(date(2026, 2, 20), 12),
    )
    refund.items.append(RefundItem(order_item=algebra_order.items[0], amount_cents=2500, cancels_appointment=False))
    db.session.add(refund)
    for day in (date(2026, 2, 12), date(2026, 3, 2)):
        order = make.order(user=second, course=physics, tutor=ben)
        order.payments[0].succeeded_at = at(day, 12)
    db.session.commit()
    return SimpleNamespace(ana=ana, ben=ben, algebra=algebra, physics=physics)


def test_a_tutors_month_counts_sessions_hours_availability_marks_and_ratings(db, month):
    lines = {line.tutor.display_name: line for line in performance.tutor_month(FEBRUARY)}
    assert list(lines) == ["Ana Ribeiro", "Ben Gagnon"]
    ana, ben = lines["Ana Ribeiro"], lines["Ben Gagnon"]
    assert (ana.sessions, ana.booked_minutes, ana.offered_minutes) == (4, 330, 22 * 60)
    assert ana.utilisation == Decimal("0.25")
    assert (ana.no_shows, ana.late_cancels) == (1, 1)
    assert (ana.rating_count, ana.rating_average) == (2, Decimal("3.5"))
    assert (ben.sessions, ben.booked_minutes, ben.offered_minutes, ben.utilisation) == (1, 60, 0, None)
    assert (ben.no_shows, ben.late_cancels, ben.rating_count, ben.rating_average) == (0, 0, 0, None)


def test_a_hidden_comment_still_counts_in_the_months_rating_average(db, month, make):
    rating = db.session.query(Rating).filter_by(score=5).one()
    rating.comment_hidden_at, rating.comment_hidden_reason = at(date(2026, 3, 1), 9), "Propos déplacés"
    db.session.commit()
    ana = performance.tutor_month(FEBRUARY)[0]
    assert (ana.rating_count, ana.rating_average) == (2, Decimal("3.5"))


def test_a_courses_month_counts_sessions_students_and_revenue_by_payment_date(db, month):
    lines, total = performance.course_month(FEBRUARY)
    figures = {
        line.title: (line.sessions, line.students, line.figures.collected_cents, line.figures.refunded_cents)
        for line in lines
    }
    assert figures == {"Algèbre": (4, 2, 10000, 2500), "Physique": (1, 1, 4000, 0)}
    assert (total.collected_cents, total.refunded_cents, total.net_cents) == (14000, 2500, 11500)


def test_the_months_figures_take_a_fixed_number_of_statements(db, make, month):
    def statements():
        with count_queries(db) as seen:
            performance.tutor_month(FEBRUARY)
            performance.course_month(FEBRUARY)
        return len(seen)

    before = statements()
    for n in range(3):
        course = make.course()
        tutor = make.tutor(courses=[course])
        make.weekly_rule(tutor, weekday=n)
        make.appointment(tutor=tutor, course=course, starts_at=at(date(2026, 2, 10 + n), 9), status="completed")
    db.session.commit()
    assert statements() == before


# --- the pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status",
    [("anonymous", 302), ("student", 403), ("tutor", 403), ("accountant", 403), ("staff", 200), ("admin", 200)],
)
def test_the_performance_pages_open_to_the_office_only(client, login_as, role, status):
    if role != "anonymous":
        login_as(role)
    for url in ("/admin/performance/", "/admin/performance/cours?mois=2026-02"):
        assert client.get(url).status_code == status, url


def test_the_tutor_page_shows_the_months_figures_in_french(client, login_as, month):
    login_as("staff")
    html = client.get("/admin/performance/?mois=2026-02").get_data(as_text=True)
    assert "février 2026" in html
    row = html.split("Ana Ribeiro", 1)[1].split("</tr>", 1)[0]
    cells = [c.split(">", 1)[1] for c in row.split("</td>")[1:-1]]
    assert cells == ["4", "5,5\u00a0h", "22,0\u00a0h", "25\u00a0%", "1", "1", "3,5 / 5 (2)"]
    assert "Chloé Roy" not in html


def test_the_course_page_shows_activity_and_revenue(client, login_as, month):
    login_as("admin")
    html = client.get("/admin/performance/cours?mois=2026-02").get_data(as_text=True)
    row = html.split("<td>Algèbre</td>", 1)[1].split("</tr>", 1)[0]
    assert [c.split(">", 1)[1] for c in row.split("</td>")[:-1]] == [
        "4",
        "2",
        "100,00\u00a0$",
        "25,00\u00a0$",
        "75,00\u00a0$",
    ]


def test_a_bad_month_is_refused_in_french(client, login_as):
    login_as("staff")
    response = client.get("/admin/performance/?mois=2026-13")
    assert response.status_code == 400
    assert "Mois invalide" in response.get_data(as_text=True)
