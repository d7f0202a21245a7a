"""Property: whatever a request carries, from anyone, it gets no 5xx and writes nothing (SPEC §12).

Routes come from the application's URL map, so a new page is fuzzed without touching this file;
a new back-office POST endpoint must name its form in ADMIN_FORMS (a test says so).
"""

import io
import json
import re
import time
from datetime import timedelta
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms.fields.core import UnboundField

from tutoradmin import messaging, support
from tutoradmin.attachments import Upload
from tutoradmin.models import (
    MAX_INTEGER,
    Appointment,
    Attachment,
    Coupon,
    Course,
    CourseRequest,
    Order,
    SessionMessage,
    Ticket,
    Tutor,
    User,
    WeeklyRule,
)
from tutoradmin.payments.base import sign_payload
from tutoradmin.public.account_forms import (
    CardForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    ProfileForm,
    RatingForm,
    ResetPasswordForm,
)
from tutoradmin.public.forms import CalendarFeedForm, CheckoutForm, LoginForm, SignupForm, SimulatedPaymentForm
from tutoradmin.public.messages import SessionMessageForm
from tutoradmin.public.student import CancelSessionForm, MoveSessionForm
from tutoradmin.public.tickets import NewTicketForm
from tutoradmin.public.tickets import TicketReplyForm as StudentTicketReplyForm
from tutoradmin.views.attendance import AttendanceForm
from tutoradmin.views.course_requests import ApproveForm, CourseRequestForm, RefuseForm
from tutoradmin.views.forms import (
    BookAppointmentForm,
    CancelAppointmentForm,
    CreditAdjustmentForm,
    HideMessageForm,
    MeetingLinkForm,
    RefundForm,
    TicketReplyForm,
)
from tutoradmin.views.orders import ClearFlagForm
from tutoradmin.views.outbox import ResendForm
from tutoradmin.views.payouts import MarkPaidForm
from tutoradmin.views.ratings import HideCommentForm, ShowCommentForm
from tutoradmin.views.settings import AttendancePolicyForm
from tutoradmin.views.tutor_moves import TutorMoveForm

from . import attachment_samples
from .factories import DEFAULT_PASSWORD
from .shopping import make_offer, row_counts

FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    # Explaining a failure replays it hundreds of times; the shrunk example says enough.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values that broke or nearly broke something once: NUL, ids past 32 bits, money past cents, years 1 and 9999.
JUNK_WORDS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "-1",
    "0",
    "1",
    "2",
    str(MAX_INTEGER),
    str(MAX_INTEGER + 1),
    "99999999999",
    str(2**64),
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "21474836,48",
    "21 474 836,47 $",
    "45,00",
    "0,001",
    "0001-01-01",
    "9999-12-31",
    "9999-12-31 23:59",
    "0001-01-01 00:00",
    "2026-02-30",
    "2030-13",
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59-05:00",
    "9999-12",
    "0001-01",
    "tous",
    "é",
    "😀",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "true",
    "null",
    "{}",
    "[]",
    "csv",
    "percent",
    "fixed",
    "credit",
    "debit",
    "success",
    "decline",
    "authenticate",
    "delete",
    "x" * 300,
]
junk_text = st.one_of(
    st.sampled_from(JUNK_WORDS),
    st.integers().map(str),
    st.text(max_size=30),
    st.text(st.characters(codec="utf-8"), min_size=250, max_size=400),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | junk_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(junk_text, children, max_size=4),
    max_leaves=12,
)
# 33 to 60 000 levels: past what json_input accepts, and past the parser's recursion limit.
deep_json = st.tuples(st.integers(33, 60000), st.sampled_from([("[", "]"), ('{"a":', "}")])).map(
    lambda drawn: drawn[1][0] * drawn[0] + "0" + drawn[1][1] * drawn[0]
)
# Header values travel as Latin-1 and may not hold line breaks.
header_text = st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=80)

# What the pages read besides their forms' fields, so that junk reaches the parsing code, not only defaults.
PUBLIC_PARAMS = [
    "date",
    "duree",
    "tuteur",
    "mois",
    "commande",
    "next",
    "cours",
    "debut",
    "code",
    "outcome",
    "page",
    "action",
    "seance",
]
ADMIN_PARAMS = [
    "page",
    "page_size",
    "sort",
    "desc",
    "search",
    "id",
    "url",
    "mois",
    "tuteur",
    "debut",
    "fin",
    *(f"flt{position}_{index}" for position in range(2) for index in range(8)),
]
PUBLIC_FORMS = [
    LoginForm,
    SignupForm,
    CheckoutForm,
    SimulatedPaymentForm,
    CalendarFeedForm,
    ProfileForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    ResetPasswordForm,
    RatingForm,
    CardForm,
    CancelSessionForm,
    MoveSessionForm,
    NewTicketForm,
    StudentTicketReplyForm,
    SessionMessageForm,
]
# Files a message form may carry: junk bytes, and real files of an allowed type or not, under any name.
upload_bytes = st.binary(max_size=200) | st.sampled_from(
    [attachment_samples.pdf(), attachment_samples.png(), b"<html><script>alert(1)</script></html>", b""]
)
uploads = st.lists(
    st.tuples(upload_bytes, st.sampled_from(["cours.pdf", "photo.png", "notes.txt", "", "../../x.pdf"]) | junk_text),
    max_size=3,
)


def _fields(names, values):
    """Query or form fields: each name the code reads, present or not, and a couple of junk ones."""
    known = st.fixed_dictionaries({}, optional=dict.fromkeys(names, values))
    extra = st.lists(st.tuples(junk_text, values), max_size=2)
    return st.tuples(known, extra).map(lambda drawn: MultiDict([*drawn[0].items(), *drawn[1]]))


def _field_names(form_class):
    return sorted(name for name in dir(form_class) if isinstance(getattr(form_class, name, None), UnboundField))


def _path(rule, value_for):
    """The rule's URL with a drawn, percent-encoded value in each variable part."""

    def fill(match):
        converter, name = match.group(1) or "default", match.group(2)
        return quote(value_for(converter, name), safe="/" if converter == "path" else "")

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule.rule)


def _same_rows(db, before):
    """Committed rows are what they were: the request's own session work is discarded, as at its end."""
    db.session.rollback()
    return row_counts(db) == before


@pytest.fixture
def world(db, make, now):
    """Rows of every kind; their ids and names, which the junk is mixed with so that lookups find something."""
    offer = make_offer(db, make, now)
    order = make.booked_order(course=offer.course, tutor=offer.tutors[0])
    make.coupon(code="RENTREE")
    db.session.add(Ticket(student=order.user, subject="Lien manquant", order_id=order.id))
    # A conversation and a ticket with files, for the pages and downloads that look them up.
    pdf = [Upload("exercices.pdf", "application/pdf", attachment_samples.pdf())]
    messaging.send(order.items[0].appointment, order.user, "Bonjour", now, uploads=pdf)
    ticket = support.open_ticket(order.user, "paiement", "Reçu", "Bonjour", now, uploads=pdf)
    support.reply(ticket, make.user(role="staff"), "Note", True, now, uploads=pdf)
    # A session over and waiting for its attendance mark, and a tutor's request to teach a course.
    make.appointment(starts_at=now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=3))
    db.session.add(CourseRequest(tutor=offer.tutors[0], course=make.course(), message="Bonjour"))
    db.session.commit()
    models = (Course, Tutor, User, Order, Appointment, WeeklyRule, Coupon, Ticket, SessionMessage, Attachment)
    ids = {str(i) for model in (*models, CourseRequest) for i in db.session.scalars(select(model.id))}
    payment = order.payments[0].gateway_payment_id
    return [*sorted(ids, key=int), offer.course.slug, offer.day.isoformat(), f"{offer.day:%Y-%m}", "60", payment]


def _client(app, db, make, role=None):
    """A test client, signed in as a new user of `role` when given."""
    client = app.test_client()
    if role is not None:
        user = make.tutor().user if role == "tutor" else make.user(role=role)
        db.session.commit()
        response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 302
    return client


def _values(world):
    return junk_text | st.sampled_from(world)


def _draw_path(data, rule, world):
    def value_for(converter, name):
        if converter == "int":
            return data.draw(st.sampled_from([v for v in world if v.isdigit()]) | st.integers(0, 2**70).map(str))
        return data.draw(_values(world))

    return _path(rule, value_for)


def _methods(rule):
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _public_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if not r.rule.startswith("/admin")), key=lambda r: r.rule)


# Public pages and JSON endpoints


@pytest.fixture
def visitors(app, db, make, world):
    """An anonymous visitor and a signed-in student."""
    return [_client(app, db, make), _client(app, db, make, "student")]


@settings(FUZZ, max_examples=600)
@given(data=st.data())
def test_no_public_page_or_json_endpoint_fails_or_writes_on_junk(app, db, world, visitors, data):
    before = row_counts(db)
    rule = data.draw(st.sampled_from(_public_rules(app)))
    method = data.draw(st.sampled_from(_methods(rule)))
    client = data.draw(st.sampled_from(visitors))
    if client is visitors[1] and rule.endpoint == "public.logout":
        client = visitors[0]  # the student stays signed in for the next examples
    url = _draw_path(data, rule, world)
    options = {
        "query_string": data.draw(_fields(PUBLIC_PARAMS, _values(world))),
        "headers": data.draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "Accept": st.just("application/json") | header_text,
                    "Referer": header_text,
                    "Range": header_text,
                    "If-Modified-Since": header_text,
                },
            )
        ),
    }
    if method == "POST":
        body = data.draw(st.sampled_from(["form", "json", "slot", "raw"]))
        if body == "form":
            names = sorted({*PUBLIC_PARAMS, *(name for form in PUBLIC_FORMS for name in _field_names(form))})
            options["data"] = data.draw(_fields(names, _values(world)))
            for content, filename in data.draw(uploads):
                options["data"].add("pieces_jointes", (io.BytesIO(content), filename))
        elif body == "slot":
            options["json"] = data.draw(
                st.fixed_dictionaries(
                    {
                        "cours": _values(world),
                        "tuteur": json_values | _values(world),
                        "creneaux": st.lists(
                            st.fixed_dictionaries({"debut": json_values, "duree": json_values}), max_size=3
                        )
                        | json_values,
                    }
                )
            )
        else:
            text = json_values.map(json.dumps) | deep_json
            options["data"] = data.draw(text if body == "json" else st.binary(max_size=200))
            options["content_type"] = "application/json"

    # Flask-Login's remember-me cookie is "<account>|<signature>".
    remember = data.draw(st.none() | st.tuples(header_text, header_text).map("|".join))
    if remember is not None:
        client.set_cookie("remember_token", remember)

    response = getattr(client, method.lower())(url, **options)
    event(f"{response.status_code}")
    client.delete_cookie("remember_token")

    assert response.status_code < 500, (method, url, options, remember)
    assert _same_rows(db, before), (method, url, options, remember)


# The gateway webhook


payment_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "last_payment_error": json_values,
        "metadata": json_values,
    },
)
event_like = st.fixed_dictionaries(
    {
        "id": junk_text | json_values,
        "type": st.sampled_from(["payment_intent.succeeded", "payment_intent.payment_failed"])
        | junk_text
        | json_values,
    },
    optional={"data": st.fixed_dictionaries({}, optional={"object": payment_like | json_values}) | json_values},
)


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_the_webhook_answers_junk_and_signed_junk_without_failing(app, db, gateway, world, data):
    before = row_counts(db)
    client = app.test_client()
    if data.draw(st.booleans()):
        payload = data.draw(
            st.binary(max_size=200) | json_values.map(json.dumps).map(str.encode) | deep_json.map(str.encode)
        )
        signature = data.draw(header_text | st.sampled_from(["t=1,v1=abc", "t=é,v1=é", "v1=", "t=,v1="]))
    else:
        ascii_only = data.draw(st.booleans())
        text = data.draw(
            event_like.map(lambda event: json.dumps(event, ensure_ascii=ascii_only))
            | json_values.map(json.dumps)
            | deep_json
        )
        signature = sign_payload(text, gateway.secret, int(time.time()) + data.draw(st.integers(-400, 400)))
        payload = text.encode()

    response = client.post(
        "/webhooks/stripe", data=payload, headers={"Content-Type": "application/json", "Stripe-Signature": signature}
    )

    event(f"{response.status_code}")
    assert response.status_code < 500, (payload[:200], signature)
    db.session.rollback()
    after = row_counts(db)
    if response.status_code == 200:
        # A well-formed, signed event about no payment of ours: recorded (unless replayed), and that is all.
        before["gateway_events"] += response.get_json()["applique"]
    else:
        assert response.status_code == 400 and response.get_json()["error"]
    assert after == before, (payload[:200], signature)


# The back office


ADMIN_FORMS = {
    "refund_order": RefundForm,
    "confirm_refund": RefundForm,
    "cancel": CancelAppointmentForm,
    "book": BookAppointmentForm,
    "credit": CreditAdjustmentForm,
    "reply": TicketReplyForm,
    "meeting_link": MeetingLinkForm,
    "mark_paid": MarkPaidForm,
    "resend": ResendForm,
    "clear_flag": ClearFlagForm,
    # The tutor answers with the student's form: one set of fields and rules for both sides.
    "messages": SessionMessageForm,
    "hide_message": HideMessageForm,
    "hide_comment": HideCommentForm,
    "show_comment": ShowCommentForm,
    "attendance": AttendanceForm,
    "attendance_policy": AttendancePolicyForm,
    "ask": CourseRequestForm,
    "approve": ApproveForm,
    "refuse": RefuseForm,
    "move": TutorMoveForm,
    # The tutor's calendar feed is renewed and revoked with the student's form.
    "calendar": CalendarFeedForm,
}
MODEL_VIEW_FORMS = {
    "create_view": "_create_form_class",
    "edit_view": "_edit_form_class",
    "delete_view": "_delete_form_class",
    "action_view": "_action_form_class",
    "ajax_update": "_list_form_class",
}


def _admin_views(app):
    return {view.endpoint: view for view in app.extensions["admin"][0]._views}


def _form_of(app, rule):
    """The form class an admin POST endpoint reads, or None."""
    view_endpoint, _, function = rule.endpoint.rpartition(".")
    if function in ADMIN_FORMS:
        return ADMIN_FORMS[function]
    view = _admin_views(app).get(view_endpoint)
    return getattr(view, MODEL_VIEW_FORMS.get(function, ""), None)


def _admin_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")), key=lambda r: r.rule)


def test_every_back_office_post_endpoint_has_a_form_for_the_fuzzer(app):
    missing = [
        r.endpoint
        for r in _admin_rules(app)
        if "POST" in r.methods and _form_of(app, r) is None and not r.endpoint.endswith(".ajax_update")
    ]
    assert missing == [], "Add their form to ADMIN_FORMS in tests/test_fuzz.py"


@pytest.fixture
def staff(app, db, make, world):
    """A signed-in client for each role that has a back office."""
    return {role: _client(app, db, make, role) for role in ("admin", "accountant", "tutor")}


def _client_for(data, app, rule, staff):
    """Mostly a client of a role the page admits, so that junk gets past the access check; any role now and then."""
    view = _admin_views(app).get(rule.endpoint.rpartition(".")[0])
    admitted = sorted(str(role) for role in getattr(view, "allowed_roles", ()) if str(role) in staff)
    roles = admitted if admitted and data.draw(st.integers(0, 4)) else sorted(staff)
    return staff[data.draw(st.sampled_from(roles))]


@settings(FUZZ, max_examples=600)
@given(data=st.data())
def test_no_back_office_page_or_form_fails_or_writes_on_junk(app, db, world, staff, data):
    before = row_counts(db)
    rule = data.draw(st.sampled_from(_admin_rules(app)))
    method = data.draw(st.sampled_from(_methods(rule)))
    client = _client_for(data, app, rule, staff)
    url = _draw_path(data, rule, world)
    options = {"query_string": data.draw(_fields(ADMIN_PARAMS, _values(world)))}
    if method == "POST":
        form = _form_of(app, rule)
        names = _field_names(form) if form else ADMIN_PARAMS
        fields = data.draw(_fields(names, _values(world)))
        # One field always carries a NUL, so that no example is a valid form that rightly saves something;
        # every other field's junk is still parsed and validated.
        poisoned = data.draw(st.sampled_from(names))
        fields.add(poisoned, data.draw(st.sampled_from(["\x00", "1\x00", "a\x00b"])))
        if "pieces_jointes" in names:
            for content, filename in data.draw(uploads):
                fields.add("pieces_jointes", (io.BytesIO(content), filename))
        options["data"] = fields

    response = getattr(client, method.lower())(url, **options)
    event(f"{response.status_code}")

    assert response.status_code < 500, (method, url, options)
    assert _same_rows(db, before), (method, url, options)
