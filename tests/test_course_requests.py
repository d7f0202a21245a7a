"""A tutor asks to teach a course; the office approves (the course is assigned) or refuses with a note."""

import pytest
from sqlalchemy import select

from tutoradmin import course_requests
from tutoradmin.course_requests import CourseRequestError
from tutoradmin.models import AuditLog, CourseRequest, OutboxEvent, TutorCourse, utcnow

from .shopping import count, row_counts


@pytest.fixture
def tutor(make):
    taught = make.course(title="Algèbre linéaire", sigle="MAT-1200", institution="Université Laval")
    return make.tutor(courses=[taught])


def _assigned(db, tutor, course):
    return count(db, TutorCourse, TutorCourse.tutor_id == tutor.id, TutorCourse.course_id == course.id)


# --- the rules ------------------------------------------------------------------------------


def test_a_tutor_asks_for_an_active_course_once_while_it_waits(db, make, tutor, now):
    course = make.course(title="Chimie organique")

    request = course_requests.request_course(tutor, course.id, "  J'ai enseigné ce cours au cégep.  ", now)
    db.session.commit()

    assert (request.status, request.message, request.decided_at) == (
        "pending",
        "J'ai enseigné ce cours au cégep.",
        None,
    )
    with pytest.raises(CourseRequestError, match="déjà une demande en attente"):
        course_requests.request_course(tutor, course.id, "", now)
    assert count(db, CourseRequest) == 1
    assert course not in course_requests.requestable_courses(tutor.id)


def test_the_unique_index_refuses_a_second_waiting_request_that_slips_past_the_check(db, make, tutor, now, monkeypatch):
    course = make.course()
    course_requests.request_course(tutor, course.id, "", now)
    db.session.commit()
    monkeypatch.setattr(course_requests, "_pending", lambda *args: False)

    with pytest.raises(CourseRequestError, match="déjà une demande en attente"):
        course_requests.request_course(tutor, course.id, "", now)
    db.session.commit()
    assert count(db, CourseRequest) == 1


@pytest.mark.parametrize(
    ("which", "message", "refusal"),
    [
        ("inactive", "", "n'existe pas ou n'est plus offert"),
        ("unknown", "", "n'existe pas ou n'est plus offert"),
        ("taught", "", "Vous enseignez déjà ce cours"),
        ("open", "x" * 1001, "dépasse 1000 caractères"),
    ],
)
def test_requests_the_rules_refuse_write_nothing(db, make, tutor, now, which, message, refusal):
    courses = {
        "inactive": make.course(active=False).id,
        "unknown": 999_999,
        "taught": tutor.courses[0].id,
        "open": make.course().id,
    }
    with pytest.raises(CourseRequestError, match=refusal):
        course_requests.request_course(tutor, courses[which], message, now)
    assert count(db, CourseRequest) == 0


def test_approving_assigns_the_course_once_and_is_audited(db, make, tutor, now):
    course = make.course()
    staff = make.user(role="staff")
    request = course_requests.request_course(tutor, course.id, "", now)
    db.session.commit()

    course_requests.approve(request, staff, now, "Bienvenue")
    db.session.commit()

    db.session.expire_all()
    request = db.session.get(CourseRequest, request.id)
    assert (request.status, request.decided_at, request.decided_by_id, request.decision_note) == (
        "approved",
        now,
        staff.id,
        "Bienvenue",
    )
    assert _assigned(db, tutor, course) == 1
    (entry,) = db.session.scalars(select(AuditLog).where(AuditLog.target_type == "course_requests")).all()
    assert (entry.action, entry.actor_id, entry.target_id) == ("course_request.approved", staff.id, request.id)
    assert entry.after["course_id"] == course.id and entry.after["tutor_id"] == tutor.id
    # No course-request event type exists: nothing goes out.
    assert count(db, OutboxEvent) == 0

    for decide in (
        lambda: course_requests.approve(request, staff, now),
        lambda: course_requests.refuse(request, staff, "Non", now),
    ):
        with pytest.raises(CourseRequestError, match="déjà été traitée : elle est acceptée"):
            decide()
        db.session.rollback()
    assert _assigned(db, tutor, course) == 1
    assert count(db, AuditLog) == 1


def test_a_course_assigned_by_hand_meanwhile_is_approved_without_a_second_assignment(db, make, tutor, now):
    course = make.course()
    request = course_requests.request_course(tutor, course.id, "", now)
    db.session.add(TutorCourse(tutor_id=tutor.id, course_id=course.id))
    db.session.commit()

    course_requests.approve(request, make.user(role="admin"), now)
    db.session.commit()
    assert request.status == "approved" and _assigned(db, tutor, course) == 1


def test_refusing_needs_a_note_and_lets_the_tutor_ask_again(db, make, tutor, now):
    course = make.course()
    staff = make.user(role="staff")
    request = course_requests.request_course(tutor, course.id, "", now)
    db.session.commit()

    with pytest.raises(CourseRequestError, match="motif du refus"):
        course_requests.refuse(request, staff, "   ", now)
    course_requests.refuse(request, staff, "Le cours est complet.", now)
    db.session.commit()

    assert (request.status, request.decision_note) == ("refused", "Le cours est complet.")
    assert _assigned(db, tutor, course) == 0
    assert db.session.scalar(select(AuditLog.action)) == "course_request.refused"
    again = course_requests.request_course(tutor, course.id, "Et cet hiver ?", now)
    db.session.commit()
    assert again.status == "pending" and count(db, CourseRequest) == 2


# --- the pages ------------------------------------------------------------------------------


def test_the_tutor_sees_their_courses_asks_for_another_and_follows_its_status(client, db, make, login_as):
    user = login_as("tutor")
    tutor = user.tutor_profile
    tutor.courses.append(make.course(title="Algèbre linéaire", sigle="MAT-1200"))
    wanted = make.course(title="Chimie organique")
    make.course(title="Cours retiré", active=False)
    db.session.commit()

    page = client.get("/admin/mes-cours/").get_data(as_text=True)
    assert "Algèbre linéaire" in page and "MAT-1200" in page
    assert f'value="{wanted.id}"' in page and "Cours retiré" not in page

    response = client.post("/admin/mes-cours/demander", data={"course_id": str(wanted.id), "message": "Disponible"})
    assert response.status_code == 302
    page = client.get("/admin/mes-cours/").get_data(as_text=True)
    assert "Demande envoyée pour « Chimie organique »" in page and "En attente" in page

    again = client.post("/admin/mes-cours/demander", data={"course_id": str(wanted.id)})
    assert again.status_code == 400
    assert "déjà une demande en attente" in again.get_data(as_text=True)

    request = db.session.scalar(select(CourseRequest))
    course_requests.refuse(request, make.user(role="staff"), "Pas cette session", utcnow())
    db.session.commit()
    page = client.get("/admin/mes-cours/").get_data(as_text=True)
    assert "Refusée" in page and "Pas cette session" in page


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"course_id": "abc"},
        {"course_id": "99999999999999"},
        {"course_id": "-3"},
        {"course_id": "1", "message": "x" * 1001},
        {"course_id": "1\x00"},
    ],
)
def test_bad_requests_get_a_french_message_and_write_nothing(client, db, make, login_as, data):
    login_as("tutor")
    make.course()
    db.session.commit()
    before = row_counts(db)

    response = client.post("/admin/mes-cours/demander", data=data)

    assert response.status_code == 400
    assert "alert" in response.get_data(as_text=True) or "invalid-feedback" in response.get_data(as_text=True)
    db.session.expire_all()
    assert row_counts(db) == before


def test_the_office_filters_approves_and_refuses_requests(client, db, make, login_as, now):
    staff = login_as("staff")
    tutor = make.tutor(display_name="Léa Tremblay")
    first, second = make.course(title="Physique mécanique"), make.course(title="Biologie cellulaire")
    approve = course_requests.request_course(tutor, first.id, "Motivée", now)
    refuse = course_requests.request_course(tutor, second.id, "", now)
    db.session.commit()

    listing = client.get("/admin/demandes-de-cours/").get_data(as_text=True)
    assert "Léa Tremblay" in listing and "Physique mécanique" in listing
    assert f"/admin/demandes-de-cours/accepter/{approve.id}" in listing
    assert "Physique mécanique" in client.get("/admin/demandes-de-cours/?search=Léa").get_data(as_text=True)
    assert "Motivée" in client.get(f"/admin/demandes-de-cours/details/?id={approve.id}").get_data(as_text=True)

    assert client.get(f"/admin/demandes-de-cours/accepter/{approve.id}").status_code == 200
    assert client.post(f"/admin/demandes-de-cours/accepter/{approve.id}", data={"note": ""}).status_code == 302
    assert client.post(f"/admin/demandes-de-cours/refuser/{refuse.id}", data={"note": ""}).status_code == 400
    assert client.post(f"/admin/demandes-de-cours/refuser/{refuse.id}", data={"note": "Complet"}).status_code == 302

    db.session.expire_all()
    assert (approve.status, approve.decided_by_id, refuse.status) == ("approved", staff.id, "refused")
    assert _assigned(db, tutor, first) == 1 and _assigned(db, tutor, second) == 0

    twice = client.post(f"/admin/demandes-de-cours/refuser/{approve.id}", data={"note": "Oups"})
    assert twice.status_code == 400 and "déjà été traitée" in twice.get_data(as_text=True)
    db.session.expire_all()
    assert approve.status == "approved"

    refused = client.get("/admin/demandes-de-cours/?flt0_0=refused").get_data(as_text=True)
    assert "Biologie cellulaire" in refused and "Physique mécanique" not in refused
    assert "accepter/" not in client.get("/admin/demandes-de-cours/").get_data(as_text=True)
    assert client.get("/admin/demandes-de-cours/accepter/999999").status_code == 404


@pytest.mark.parametrize("role", ["student", "tutor", "accountant"])
def test_only_the_office_reaches_the_requests(client, db, make, login_as, role, now):
    request = course_requests.request_course(make.tutor(), make.course().id, "", now)
    db.session.commit()
    login_as(role)

    for url in ("/admin/demandes-de-cours/", f"/admin/demandes-de-cours/accepter/{request.id}"):
        assert client.get(url).status_code == 403
    assert client.post(f"/admin/demandes-de-cours/accepter/{request.id}", data={}).status_code == 403
    db.session.expire_all()
    assert request.status == "pending" and count(db, TutorCourse) == 0


@pytest.mark.parametrize("role", ["student", "accountant", "staff", "admin"])
def test_only_tutors_have_a_courses_page(client, login_as, role):
    login_as(role)
    assert client.get("/admin/mes-cours/").status_code == 403
    assert client.post("/admin/mes-cours/demander", data={"course_id": "1"}).status_code == 403
