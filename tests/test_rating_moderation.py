"""The office's ratings: the list, tutors' averages, hiding a comment with a reason (audited) and showing it again."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tutoradmin import ratings, tutor_home
from tutoradmin.models import AuditLog, Rating, utcnow


@pytest.fixture
def rated(db, make):
    """Two tutors; Ana's sessions rated 5 (« Très clair »), 1 (« Propos injurieux ») and 4 (no comment); Ben's 3."""
    course = make.course(title="Algèbre")
    ana = make.tutor(courses=[course], display_name="Ana Ribeiro")
    ben = make.tutor(courses=[course], display_name="Ben Gagnon")
    student = make.user(first_name="Léa", last_name="Tremblay")
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=10)
    rows = {}
    for n, (tutor, score, comment) in enumerate(
        [(ana, 5, "Très clair"), (ana, 1, "Propos injurieux"), (ana, 4, ""), (ben, 3, "Correct")]
    ):
        appointment = make.appointment(
            student=student, tutor=tutor, course=course, starts_at=start + timedelta(days=n), status="completed"
        )
        rating = Rating(
            appointment_id=appointment.id,
            student_id=student.id,
            score=score,
            comment=comment,
            created_at=start + timedelta(days=n, hours=2),
        )
        db.session.add(rating)
        rows[score] = rating
    staff = make.user(role="staff")
    db.session.commit()
    return SimpleNamespace(ana=ana, ben=ben, student=student, staff=staff, **{f"r{k}": v for k, v in rows.items()})


def _audit(db):
    return [
        (a.action, a.target_id, a.before, a.after) for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))
    ]


# --- the rules ----------------------------------------------------------------------------------


def test_a_hidden_comment_leaves_the_tutors_home_but_its_score_still_counts(db, rated):
    now = utcnow()
    ratings.hide_comment(rated.r1, rated.staff, "  Propos injurieux envers le tuteur ", now)
    db.session.commit()
    assert (rated.r1.comment_hidden_at, rated.r1.comment_hidden_by_id) == (now, rated.staff.id)
    assert rated.r1.comment_hidden_reason == "Propos injurieux envers le tuteur"
    summary = tutor_home.rating_summary(rated.ana.id)
    assert [c.comment for c in summary.comments] == ["Très clair"]
    assert (summary.average, summary.count) == (Decimal("3.3"), 3)
    averages = {a.name: (a.count, a.average, a.hidden) for a in ratings.tutor_averages()}
    assert averages == {"Ana Ribeiro": (3, Decimal("3.3"), 1), "Ben Gagnon": (1, Decimal("3.0"), 0)}
    assert _audit(db) == [
        (
            "rating.comment_hidden",
            rated.r1.id,
            None,
            {"appointment_id": rated.r1.appointment_id, "reason": "Propos injurieux envers le tuteur"},
        )
    ]


def test_a_comment_shown_again_returns_to_the_tutors_home_and_is_audited(db, rated):
    ratings.hide_comment(rated.r1, rated.staff, "Injurieux", utcnow())
    ratings.show_comment(rated.r1, rated.staff, utcnow(), " Excuses reçues ")
    db.session.commit()
    assert (rated.r1.comment_hidden_at, rated.r1.comment_hidden_by_id, rated.r1.comment_hidden_reason) == (
        None,
        None,
        None,
    )
    assert [c.comment for c in tutor_home.rating_summary(rated.ana.id).comments] == ["Propos injurieux", "Très clair"]
    assert _audit(db)[1] == (
        "rating.comment_shown",
        rated.r1.id,
        {"appointment_id": rated.r1.appointment_id, "reason": "Injurieux"},
        {"note": "Excuses reçues"},
    )


@pytest.mark.parametrize(
    "who, key, reason, message",
    [
        ("staff", "r1", "   ", "Indiquez pourquoi"),
        ("staff", "r1", "x" * (ratings.HIDE_REASON_MAX_LENGTH + 1), "ne peut dépasser"),
        ("staff", "r4", "Vide", "pas de commentaire"),
        ("tutor", "r1", "Je n'aime pas", "Seule l'équipe"),
        ("accountant", "r1", "Injurieux", "Seule l'équipe"),
    ],
)
def test_hiding_a_comment_is_refused_in_french_without_a_reason_comment_or_office_role(
    db, make, rated, who, key, reason, message
):
    actor = rated.staff if who == "staff" else make.tutor().user if who == "tutor" else make.user(role=who)
    with pytest.raises(ratings.RatingError, match=message):
        ratings.hide_comment(getattr(rated, key), actor, reason, utcnow())
    assert getattr(rated, key).comment_hidden_at is None and _audit(db) == []


def test_a_comment_is_hidden_once_and_shown_only_when_hidden(db, rated):
    with pytest.raises(ratings.RatingError, match="n'est pas masqué"):
        ratings.show_comment(rated.r1, rated.staff, utcnow())
    ratings.hide_comment(rated.r1, rated.staff, "Injurieux", utcnow())
    with pytest.raises(ratings.RatingError, match="déjà masqué"):
        ratings.hide_comment(rated.r1, rated.staff, "Encore", utcnow())


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status",
    [("anonymous", 302), ("student", 403), ("tutor", 403), ("accountant", 403), ("staff", 200), ("admin", 200)],
)
def test_the_ratings_page_and_its_actions_open_to_the_office_only(client, db, login_as, rated, role, status):
    if role != "anonymous":
        login_as(role)
    assert client.get("/admin/evaluations/").status_code == status
    hide = client.post(f"/admin/evaluations/masquer/{rated.r1.id}", data={"reason": "Injurieux"})
    show = client.post(f"/admin/evaluations/reafficher/{rated.r1.id}")
    assert (hide.status_code, show.status_code) == ((302, 302) if status == 200 else (status, status))
    if status != 200:
        db.session.expire_all()
        assert rated.r1.comment_hidden_at is None and _audit(db) == []


def test_the_list_shows_each_rating_filters_by_tutor_and_score_and_averages_tutors(client, login_as, rated):
    login_as("staff")
    html = client.get("/admin/evaluations/").get_data(as_text=True)
    averages = html.split('id="tutor-averages"', 1)[1].split("</table>", 1)[0]
    assert "Ana Ribeiro" in averages and "3,3 / 5" in averages and "Ben Gagnon" in averages
    listed = html.split('id="ratings"', 1)[1]
    for text in ("Très clair", "Propos injurieux", "Correct", "Léa Tremblay", "Algèbre", "4 / 5"):
        assert text in listed, text
    only_ana = client.get(f"/admin/evaluations/?tuteur={rated.ana.id}").get_data(as_text=True)
    assert "Très clair" in only_ana and "Correct" not in only_ana.split('id="ratings"', 1)[1]
    ones = client.get("/admin/evaluations/?note=1").get_data(as_text=True).split('id="ratings"', 1)[1]
    assert "Propos injurieux" in ones and "Très clair" not in ones


@pytest.mark.parametrize("query", ["note=6", "note=abc", "tuteur=x"])
def test_a_bad_filter_is_refused_in_french(client, login_as, rated, query):
    login_as("staff")
    response = client.get(f"/admin/evaluations/?{query}")
    assert response.status_code == 400
    assert "invalide" in response.get_data(as_text=True)


def test_staff_hide_a_comment_the_tutor_then_no_longer_sees(client, db, login, login_as, rated):
    staff = login_as("staff")
    response = client.post(
        f"/admin/evaluations/masquer/{rated.r1.id}?tuteur={rated.ana.id}", data={"reason": "Propos injurieux"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/evaluations/?tuteur={rated.ana.id}")
    db.session.expire_all()
    assert (rated.r1.comment_hidden_by_id, rated.r1.comment_hidden_reason) == (staff.id, "Propos injurieux")
    page = client.get("/admin/evaluations/").get_data(as_text=True)
    assert "Masqué" in page and "Réafficher" in page and f"par {staff.full_name}, le" in page
    client.post("/deconnexion")
    login(rated.ana.user)
    home = client.get("/admin/").get_data(as_text=True)
    assert "Très clair" in home and "Propos injurieux" not in home


def test_hiding_without_a_reason_writes_nothing_and_says_why(client, db, login_as, rated):
    login_as("admin")
    response = client.post(f"/admin/evaluations/masquer/{rated.r1.id}", data={"reason": ""})
    assert response.status_code == 400
    assert "Indiquez pourquoi ce commentaire est masqué." in response.get_data(as_text=True)
    db.session.expire_all()
    assert rated.r1.comment_hidden_at is None and _audit(db) == []


def test_an_unknown_rating_is_not_found(client, login_as, rated):
    login_as("staff")
    assert client.post("/admin/evaluations/masquer/999999", data={"reason": "x"}).status_code == 404
    assert client.post("/admin/evaluations/reafficher/999999").status_code == 404
