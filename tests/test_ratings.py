"""Ratings: a student rates a completed session once, 1 to 5 with an optional comment, editable for 7 days."""

from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from tutoradmin import ratings
from tutoradmin.models import AppointmentChange, Rating, utcnow
from tutoradmin.ratings import BAD_SCORE, COMMENT_TOO_LONG, NOT_COMPLETED, RatingError

from .races import logged_in, race


@pytest.fixture
def student(make, db):
    user = make.user()
    db.session.commit()
    return user


@pytest.fixture
def completed(make, db, student):
    starts = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    appointment = make.appointment(
        student=student, starts_at=starts, status="completed", completed_at=starts + timedelta(hours=1)
    )
    db.session.commit()
    return appointment


def _url(appointment):
    return f"/tableau-de-bord/seances/{appointment.id}/evaluer"


def _flashes(client):
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def _ratings(db):
    return db.session.scalar(select(func.count()).select_from(Rating))


# The rule


def test_a_completed_session_is_rated_once_with_its_comment(db, student, completed, now):
    rating = ratings.rate(completed, student, "4", "  Très clair.  ", now)
    db.session.commit()

    assert (rating.score, rating.comment, rating.created_at, rating.updated_at) == (4, "Très clair.", now, None)
    assert rating.student_id == student.id and completed.rating is rating


def test_a_second_rating_changes_the_first_within_seven_days(db, student, completed, now):
    first = ratings.rate(completed, student, 2, "", now)
    later = now + timedelta(days=7)

    again = ratings.rate(completed, student, 5, "Finalement excellent", later)
    db.session.commit()

    assert again is first and _ratings(db) == 1
    assert (again.score, again.comment, again.created_at, again.updated_at) == (5, "Finalement excellent", now, later)
    # Both the rating and its change are in the session's modification history.
    history = db.session.execute(
        select(
            AppointmentChange.kind, AppointmentChange.actor_id, AppointmentChange.reason, AppointmentChange.created_at
        )
        .where(AppointmentChange.appointment_id == completed.id)
        .order_by(AppointmentChange.id)
    ).all()
    assert [tuple(row) for row in history] == [("rated", student.id, "2/5", now), ("rated", student.id, "5/5", later)]


def test_after_seven_days_the_rating_is_refused_with_its_date_limit(db, student, completed, now):
    ratings.rate(completed, student, 3, "", now)
    db.session.commit()

    with pytest.raises(RatingError) as refused:
        ratings.rate(completed, student, 5, "", now + timedelta(days=7, seconds=1))

    assert "ne peut plus être modifiée" in refused.value.message
    assert "jusqu'au" in refused.value.message
    db.session.rollback()
    assert completed.rating.score == 3 and completed.rating.updated_at is None


@pytest.mark.parametrize("status", ["scheduled", "cancelled"])
def test_a_session_not_completed_cannot_be_rated(db, make, student, now, status):
    extra = {"cancelled_at": now} if status == "cancelled" else {}
    appointment = make.appointment(student=student, status=status, **extra)

    with pytest.raises(RatingError, match=NOT_COMPLETED):
        ratings.rate(appointment, student, 5, "", now)
    db.session.rollback()
    assert _ratings(db) == 0


@pytest.mark.parametrize("score", ["0", "6", "-1", "", " ", "3.5", "cinq", None, "99999999999999999999", 0, 6])
def test_a_score_outside_one_to_five_is_refused(db, student, completed, now, score):
    with pytest.raises(RatingError, match=BAD_SCORE):
        ratings.rate(completed, student, score, "", now)
    assert _ratings(db) == 0


def test_a_comment_of_two_thousand_characters_is_the_longest(db, student, completed, now):
    with pytest.raises(RatingError, match=COMMENT_TOO_LONG):
        ratings.rate(completed, student, 4, "é" * 2001, now)
    assert ratings.rate(completed, student, 4, "é" * 2000, now).comment == "é" * 2000


def test_another_students_session_cannot_be_rated_through_the_domain(db, make, completed, now):
    with pytest.raises(RatingError):
        ratings.rate(completed, make.user(), 5, "", now)


# The page


def test_a_student_rates_a_session_from_its_page(client, login, db, student, completed):
    login(student)
    response = client.post(_url(completed), data={"score": "5", "comment": "Merci !"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tableau-de-bord/seances/{completed.id}")
    assert "Merci ! Votre évaluation est enregistrée." in _flashes(client)
    rating = db.session.scalar(select(Rating))
    assert (rating.appointment_id, rating.score, rating.comment) == (completed.id, 5, "Merci !")
    page = client.get(f"/tableau-de-bord/seances/{completed.id}").get_data(as_text=True)
    assert "Évaluée par vous : 5/5" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"score": "0"}, BAD_SCORE),
        ({"score": "6"}, BAD_SCORE),
        ({}, BAD_SCORE),
        ({"score": "abc"}, BAD_SCORE),
        ({"score": "4", "comment": "x" * 2001}, "2000 caractères au plus."),
        ({"score": "4\x00"}, "caractère nul"),
    ],
)
def test_bad_input_gets_a_french_message_and_no_rating(client, login, db, student, completed, data, message):
    login(student)
    response = client.post(_url(completed), data=data)

    assert response.status_code == 302
    assert any(message in flashed for flashed in _flashes(client))
    assert _ratings(db) == 0


def test_a_rating_past_its_window_is_refused_on_the_page(client, login, db, student, completed):
    db.session.add(
        Rating(appointment=completed, student_id=student.id, score=2, created_at=utcnow() - timedelta(days=8))
    )
    db.session.commit()
    login(student)

    client.post(_url(completed), data={"score": "5"})

    assert any("ne peut plus être modifiée" in flashed for flashed in _flashes(client))
    db.session.expire_all()
    assert db.session.scalar(select(Rating.score)) == 2


def test_a_scheduled_session_cannot_be_rated_on_the_page(client, login, db, make, student):
    upcoming = make.appointment(student=student)
    db.session.commit()
    login(student)

    client.post(_url(upcoming), data={"score": "5"})

    assert NOT_COMPLETED in _flashes(client)
    assert _ratings(db) == 0


def test_another_students_session_is_not_found(client, login, db, make, completed):
    login(make.user())
    assert client.post(_url(completed), data={"score": "5"}).status_code == 404
    assert client.post("/tableau-de-bord/seances/999999/evaluer", data={"score": "5"}).status_code == 404
    assert _ratings(db) == 0


def test_anonymous_and_office_accounts_cannot_rate(client, login_as, db, completed):
    response = client.post(_url(completed), data={"score": "5"})
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    login_as("staff")
    assert client.post(_url(completed), data={"score": "5"}).status_code == 403
    assert _ratings(db) == 0


def test_a_suspended_student_cannot_rate(client, login, db, student, completed):
    login(student)
    student.status = "suspended"
    db.session.commit()

    response = client.post(_url(completed), data={"score": "5"})

    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    assert _ratings(db) == 0


# The partial


def _partial(app, appointment, now):
    with app.test_request_context():
        app.preprocess_request()
        return render_template_string('{% include "public/partials/rating.html" %}', appointment=appointment, now=now)


def test_the_partial_offers_five_labelled_stars_for_a_completed_session(app, completed, now):
    html = _partial(app, completed, now)
    assert html.count('type="radio" name="score"') == 5
    assert all(f"{n} sur 5" in html for n in range(1, 6))
    assert "<legend>Note</legend>" in html and f'action="/tableau-de-bord/seances/{completed.id}/evaluer"' in html


def test_the_partial_shows_the_rating_and_its_edit_limit_then_only_the_rating(app, db, student, completed, now):
    ratings.rate(completed, student, 4, "Bien", now)
    editable = _partial(app, completed, now + timedelta(days=1))
    frozen = _partial(app, completed, now + timedelta(days=8))

    assert "Modifiable jusqu'au" in editable and 'value="4" required checked' in editable
    assert "Modifiable jusqu'au" not in frozen and "<form" not in frozen
    assert "4 sur 5" in frozen and "Bien" in frozen and "n'est plus modifiable" in frozen


def test_the_partial_is_empty_for_a_session_not_completed(app, make, now):
    assert _partial(app, make.appointment(), now).strip() == ""


# Concurrency


def test_two_first_ratings_at_once_leave_one_rating(app, db, pg_engine, quiet, student, completed):
    clients = [logged_in(app, student) for _ in range(6)]
    url = _url(completed)
    quiet()

    codes = race(
        [lambda c=c, n=n: c.post(url, data={"score": str(n % 5 + 1)}).status_code for n, c in enumerate(clients)]
    )

    assert codes == [302] * 6
    assert _ratings(db) == 1
