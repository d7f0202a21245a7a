"""The database itself refuses rows that break the business rules (SQLite and PostgreSQL)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from tutoradmin.models import (
    Appointment,
    AvailabilityException,
    Cart,
    CartItem,
    Coupon,
    Course,
    CreditEntry,
    Hold,
    MeetingLink,
    Order,
    Rating,
    SlotLock,
    TimeOff,
    TutorPayout,
    User,
    WeeklyRule,
    utcnow,
)
from tutoradmin.occupancy import SlotTaken, occupy

NOW = utcnow().replace(minute=0, second=0, microsecond=0)


def _rejected(db, obj):
    db.session.add(obj)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_emails_are_unique_whatever_their_case(db, make):
    make.user(email="Marie@Example.com")
    db.session.commit()
    _rejected(db, User(email="marie@example.COM", password_hash="x", role="student"))


def test_an_email_stored_in_upper_case_is_refused(db):
    # The model lower-cases emails; a raw insert that bypasses it still hits the check.
    with pytest.raises(IntegrityError):
        db.session.execute(
            User.__table__.insert().values(
                email="Upper@Example.com",
                password_hash="x",
                role="student",
                status="active",
                first_name="",
                last_name="",
                created_at=utcnow(),
            )
        )
    db.session.rollback()


@pytest.mark.parametrize("field, value", [("role", "superuser"), ("status", "banned")])
def test_unknown_roles_and_statuses_are_refused(db, field, value):
    _rejected(db, User(email="x@example.com", password_hash="x", **{field: value}))


@pytest.mark.parametrize("rate", [0, -100])
def test_course_rates_must_be_positive(db, make, rate):
    course = make.course()
    db.session.commit()
    course.rate_cents = rate
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    "slug",
    ["<b>maths</b>", "Maths", "maths 101", "français", "-maths", "maths-", "maths--101", "", "a_b", 'x"onclick'],
)
def test_course_slugs_are_lowercase_words_joined_by_hyphens(db, slug):
    _rejected(db, Course(slug=slug, title="Maths"))


def test_a_slug_of_words_and_digits_is_accepted(db):
    db.session.add(Course(slug="mat-1000-calcul-1", title="Calcul"))
    db.session.commit()


def test_course_slugs_are_unique(db, make):
    make.course(slug="francais-secondaire")
    db.session.commit()
    with pytest.raises(IntegrityError):
        make.course(slug="francais-secondaire")
    db.session.rollback()


@pytest.mark.parametrize("field, value", [("hourly_rate_cents", 0), ("priority", -1)])
def test_tutor_rate_and_priority_are_checked(db, make, field, value):
    tutor = make.tutor()
    db.session.commit()
    setattr(tutor, field, value)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_user_has_at_most_one_tutor_profile(db, make):
    tutor = make.tutor()
    db.session.commit()
    with pytest.raises(IntegrityError):
        make.tutor(user=tutor.user)
    db.session.rollback()


@pytest.mark.parametrize(
    "weekday, start, end",
    [(7, time(9), time(10)), (-1, time(9), time(10)), (2, time(10), time(10)), (2, time(11), time(10))],
)
def test_weekly_rules_need_a_real_weekday_and_end_after_start(db, make, weekday, start, end):
    tutor = make.tutor()
    db.session.commit()
    _rejected(db, WeeklyRule(tutor_id=tutor.id, weekday=weekday, start_time=start, end_time=end))


@pytest.mark.parametrize(
    "kind, start, end",
    [
        ("open", None, None),
        ("closed", time(10), None),
        ("closed", time(12), time(10)),
        ("maybe", None, None),
    ],
)
def test_exceptions_have_consistent_hours(db, make, kind, start, end):
    tutor = make.tutor()
    db.session.commit()
    _rejected(
        db,
        AvailabilityException(tutor_id=tutor.id, date=date(2026, 12, 1), kind=kind, start_time=start, end_time=end),
    )


def test_a_closed_day_without_hours_is_accepted(db, make):
    tutor = make.tutor()
    db.session.add(AvailabilityException(tutor_id=tutor.id, date=date(2026, 12, 1), kind="closed"))
    db.session.commit()


def test_a_tutor_cannot_have_the_same_weekly_hours_twice(db, make):
    tutor = make.tutor()
    make.weekly_rule(tutor, weekday=1, start=time(9), end=time(12))
    db.session.commit()
    _rejected(db, WeeklyRule(tutor_id=tutor.id, weekday=1, start_time=time(9), end_time=time(12)))


@pytest.mark.parametrize(
    "start, end", [(time(11), time(13)), (time(8), time(9, 30)), (time(10), time(11)), (time(8), time(18))]
)
def test_overlapping_weekly_rules_of_a_tutor_are_refused_by_the_database(db, make, start, end):
    tutor = make.tutor()
    make.weekly_rule(tutor, weekday=1, start=time(9), end=time(12))
    db.session.commit()
    _rejected(db, WeeklyRule(tutor_id=tutor.id, weekday=1, start_time=start, end_time=end))


def test_a_weekly_rule_moved_onto_another_is_refused_by_the_database(db, make):
    tutor = make.tutor()
    make.weekly_rule(tutor, weekday=1, start=time(9), end=time(12))
    later = make.weekly_rule(tutor, weekday=1, start=time(13), end=time(15))
    db.session.commit()
    later.start_time = time(11)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_back_to_back_rules_other_days_and_other_tutors_are_accepted(db, make):
    tutor, other = make.tutor(), make.tutor()
    make.weekly_rule(tutor, weekday=1, start=time(9), end=time(12))
    make.weekly_rule(tutor, weekday=1, start=time(12), end=time(15))
    make.weekly_rule(tutor, weekday=2, start=time(9), end=time(12))
    make.weekly_rule(other, weekday=1, start=time(9), end=time(12))
    db.session.commit()
    # Editing a rule does not make it overlap itself.
    tutor_rule = db.session.query(WeeklyRule).filter_by(tutor_id=tutor.id, weekday=2).one()
    tutor_rule.end_time = time(13)
    db.session.commit()


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1999, 12, 31), date(2101, 1, 1), date(9999, 12, 31)])
def test_exception_dates_stay_within_the_business_years(db, make, day):
    tutor = make.tutor()
    db.session.commit()
    _rejected(db, AvailabilityException(tutor_id=tutor.id, date=day, kind="closed"))


@pytest.mark.parametrize("year", [1, 1999, 2101])
def test_time_off_stays_within_the_business_years(db, make, year):
    tutor = make.tutor()
    db.session.commit()
    start = datetime(year, 6, 1, tzinfo=UTC)
    _rejected(db, TimeOff(tutor_id=tutor.id, starts_at=start, ends_at=start + timedelta(days=1)))


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
def test_coupon_dates_stay_within_the_business_years(db, field):
    _rejected(db, Coupon(code="ANCIEN", kind="fixed", value=500, **{field: datetime(1, 1, 1, 12, tzinfo=UTC)}))


def test_the_first_and_last_business_days_are_accepted(db, make):
    tutor = make.tutor()
    first = datetime(2000, 1, 1, tzinfo=UTC)
    last = datetime(2100, 12, 31, 23, 59, tzinfo=UTC)
    db.session.add_all(
        [
            AvailabilityException(tutor_id=tutor.id, date=date(2000, 1, 1), kind="closed"),
            AvailabilityException(tutor_id=tutor.id, date=date(2100, 12, 31), kind="closed"),
            TimeOff(tutor_id=tutor.id, starts_at=first, ends_at=last),
            Coupon(code="SIECLE", kind="fixed", value=500, starts_at=first, ends_at=last),
        ]
    )
    db.session.commit()


def test_time_off_ends_after_it_starts(db, make):
    tutor = make.tutor()
    db.session.commit()
    _rejected(db, TimeOff(tutor_id=tutor.id, starts_at=NOW, ends_at=NOW))


@pytest.mark.parametrize("duration", [30, 45, 61, 150])
def test_only_60_90_and_120_minute_sessions_exist(db, make, duration):
    appointment = make.appointment()
    db.session.commit()
    appointment.duration_minutes = duration
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_appointments_end_after_they_start(db, make):
    appointment = make.appointment()
    db.session.commit()
    appointment.ends_at = appointment.starts_at
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_cancelled_appointment_records_when(db, make):
    appointment = make.appointment()
    db.session.commit()
    appointment.status = "cancelled"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_order_totals_must_add_up(db, make):
    order = make.order()
    db.session.commit()
    order.total_cents = order.subtotal_cents + 1
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("status", ["shipped", "cancelled"])
def test_order_statuses_are_the_five_of_the_spec(db, make, status):
    order = make.order()
    db.session.commit()
    order.status = status
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_an_item_discount_cannot_exceed_its_price(db, make):
    order = make.order()
    db.session.commit()
    order.items[0].discount_cents = order.items[0].price_cents + 1
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    "fields",
    [
        {"code": "lowercase", "kind": "percent", "value": 10},
        {"code": "BIG", "kind": "percent", "value": 101},
        {"code": "ZERO", "kind": "fixed", "value": 0},
        {"code": "ODD", "kind": "gift", "value": 5},
        {"code": "BACKWARDS", "kind": "fixed", "value": 500, "starts_at": NOW, "ends_at": NOW - timedelta(days=1)},
        {"code": "OVER", "kind": "fixed", "value": 500, "max_redemptions": 2, "redemptions_count": 3},
    ],
)
def test_coupons_are_checked(db, fields):
    _rejected(db, Coupon(**fields))


def test_coupon_codes_are_unique(db, make):
    make.coupon(code="RENTREE")
    db.session.commit()
    with pytest.raises(IntegrityError):
        make.coupon(code="RENTREE")
    db.session.rollback()


@pytest.mark.parametrize("amount", [0, -500])
def test_credit_lines_have_a_positive_amount(db, make, amount):
    student = make.user()
    db.session.commit()
    _rejected(db, CreditEntry(user_id=student.id, kind="credit", amount_cents=amount, reason="Geste commercial"))


def test_credit_lines_need_a_reason(db, make):
    student = make.user()
    db.session.commit()
    _rejected(db, CreditEntry(user_id=student.id, kind="credit", amount_cents=500, reason=""))


@pytest.mark.parametrize("score", [0, 6])
def test_ratings_are_between_1_and_5(db, make, score):
    appointment = make.appointment()
    db.session.commit()
    _rejected(db, Rating(appointment_id=appointment.id, student_id=appointment.student_id, score=score))


def test_meeting_links_are_https(db, make):
    appointment = make.appointment()
    db.session.commit()
    _rejected(db, MeetingLink(appointment_id=appointment.id, provider="zoom", url="http://zoom.us/j/1"))


def test_a_paid_payout_needs_a_confirmation_number_and_date(db, make):
    tutor = make.tutor()
    db.session.commit()
    _rejected(db, TutorPayout(tutor_id=tutor.id, year=2026, month=10, status="paid"))


def test_one_payout_statement_per_tutor_and_month(db, make):
    tutor = make.tutor()
    db.session.add(TutorPayout(tutor_id=tutor.id, year=2026, month=10))
    db.session.commit()
    _rejected(db, TutorPayout(tutor_id=tutor.id, year=2026, month=10))


def test_foreign_keys_are_enforced(db):
    _rejected(db, WeeklyRule(tutor_id=999999, weekday=1, start_time=time(9), end_time=time(10)))


def test_a_cart_belongs_to_a_user_or_a_browser_session(db):
    _rejected(db, Cart())


def test_a_cart_cannot_hold_the_same_session_twice(db, make):
    course = make.course()
    tutor = make.tutor(courses=[course])
    cart = Cart(session_key="abc")
    db.session.add(cart)
    db.session.flush()
    fields = {
        "cart_id": cart.id,
        "course_id": course.id,
        "tutor_id": tutor.id,
        "starts_at": NOW,
        "ends_at": NOW + timedelta(hours=1),
        "duration_minutes": 60,
        "price_cents": 4500,
    }
    db.session.add(CartItem(**fields))
    db.session.commit()
    _rejected(db, CartItem(**fields))


def test_naive_datetimes_are_refused(db, make):
    tutor = make.tutor()
    db.session.commit()
    db.session.add(
        TimeOff(
            tutor_id=tutor.id, starts_at=NOW.replace(tzinfo=None), ends_at=NOW.replace(tzinfo=None) + timedelta(hours=1)
        )
    )
    with pytest.raises(StatementError):
        db.session.flush()
    db.session.rollback()


def test_timestamps_come_back_aware_and_in_utc(db, make):
    appointment = make.appointment()
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.get(Appointment, appointment.id)
    assert loaded.starts_at.utcoffset() == timedelta(0)
    assert loaded.starts_at == appointment.starts_at


def _hold(db, tutor, start, minutes):
    hold = Hold(
        tutor_id=tutor.id,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        expires_at=utcnow() + timedelta(minutes=15),
    )
    db.session.add(hold)
    db.session.flush()
    return hold


@pytest.mark.bare_rows
def test_overlapping_holds_of_one_tutor_are_refused_by_the_database(db, make):
    tutor = make.tutor()
    start = NOW + timedelta(days=2)
    first = _hold(db, tutor, start, 120)
    occupy(tutor.id, first.starts_at, first.ends_at, hold_id=first.id)
    db.session.commit()
    second = _hold(db, tutor, start + timedelta(minutes=90), 60)
    with pytest.raises(SlotTaken):
        occupy(tutor.id, second.starts_at, second.ends_at, hold_id=second.id)
    # The savepoint keeps the rest of the transaction usable.
    db.session.commit()
    assert db.session.query(SlotLock).count() == 4


@pytest.mark.bare_rows
def test_back_to_back_sessions_do_not_overlap(db, make):
    tutor = make.tutor()
    start = NOW + timedelta(days=2)
    first = _hold(db, tutor, start, 60)
    occupy(tutor.id, first.starts_at, first.ends_at, hold_id=first.id)
    second = _hold(db, tutor, first.ends_at, 90)
    occupy(tutor.id, second.starts_at, second.ends_at, hold_id=second.id)
    db.session.commit()
    assert db.session.query(SlotLock).count() == 5


@pytest.mark.bare_rows
def test_other_tutors_can_take_the_same_time(db, make):
    start = NOW + timedelta(days=2)
    for tutor in (make.tutor(), make.tutor()):
        hold = _hold(db, tutor, start, 60)
        occupy(tutor.id, hold.starts_at, hold.ends_at, hold_id=hold.id)
    db.session.commit()
    assert db.session.query(SlotLock).count() == 4


def test_deleting_a_hold_frees_its_cells(db, make):
    tutor = make.tutor()
    hold = _hold(db, tutor, NOW + timedelta(days=2), 60)
    occupy(tutor.id, hold.starts_at, hold.ends_at, hold_id=hold.id)
    db.session.commit()
    db.session.execute(Hold.__table__.delete().where(Hold.id == hold.id))
    db.session.commit()
    assert db.session.query(SlotLock).count() == 0


def test_a_lock_has_exactly_one_owner(db, make):
    tutor = make.tutor()
    db.session.commit()
    _rejected(db, SlotLock(tutor_id=tutor.id, cell_start=NOW))


def test_orders_refuse_other_currencies(db, make):
    user = make.user()
    db.session.commit()
    _rejected(db, Order(user_id=user.id, subtotal_cents=100, total_cents=100, currency="USD"))
