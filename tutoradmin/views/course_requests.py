"""Courses a tutor teaches and asks to teach, and the office's list of those requests (SPEC §10)."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from .. import course_requests
from ..course_requests import MESSAGE_MAX_LENGTH, NOTE_MAX_LENGTH
from ..forms import BaseForm
from ..models import COURSE_REQUEST_STATUS_LABELS, CourseRequest, CourseRequestStatus, utcnow
from .base import OFFICE, TUTORS, SecureModelView, SecureView, form_status, perform, record_id_of
from .columns import choices, datetime_column, label_column

EXPIRED_FORM = "Le formulaire a expiré : rechargez la page et recommencez."


class CourseRequestForm(BaseForm):
    # Any id is accepted here: course_requests.request_course says why a course cannot be asked for.
    course_id = SelectField("Cours", validate_choice=False, validators=[DataRequired("Choisissez un cours.")])
    message = TextAreaField(
        "Message au bureau (facultatif)",
        validators=[Length(max=MESSAGE_MAX_LENGTH, message=f"Le message dépasse {MESSAGE_MAX_LENGTH} caractères.")],
        render_kw={"maxlength": MESSAGE_MAX_LENGTH},
    )


class ApproveForm(BaseForm):
    note = TextAreaField(
        "Note au tuteur (facultative)",
        validators=[Length(max=NOTE_MAX_LENGTH, message=f"La note dépasse {NOTE_MAX_LENGTH} caractères.")],
    )


class RefuseForm(BaseForm):
    note = TextAreaField(
        "Motif du refus (le tuteur le lira)",
        validators=[
            DataRequired(course_requests.NOTE_REQUIRED),
            Length(max=NOTE_MAX_LENGTH, message=f"La note dépasse {NOTE_MAX_LENGTH} caractères."),
        ],
    )


class MyCoursesView(SecureView):
    """The tutor's courses (read-only), their requests and the form to ask for another course."""

    allowed_roles = TUTORS

    def _tutor(self):
        tutor = current_user.tutor_profile
        if tutor is None:
            abort(403)
        return tutor

    def _page(self, tutor, form):
        courses = course_requests.requestable_courses(tutor.id)
        form.course_id.choices = [("", "Choisissez un cours…")] + [(str(c.id), _course_label(c)) for c in courses]
        return self.render(
            "admin/my_courses.html",
            courses=course_requests.taught_courses(tutor.id),
            requests=course_requests.tutor_requests(tutor.id),
            form=form,
            can_ask=bool(courses),
            status_labels=COURSE_REQUEST_STATUS_LABELS,
            message_max=MESSAGE_MAX_LENGTH,
        )

    @expose("/")
    def index(self):
        return self._page(self._tutor(), CourseRequestForm())

    @expose("/demander", methods=("POST",))
    def ask(self):
        """Ask to teach a course; the office approves or refuses."""
        tutor = self._tutor()
        form = CourseRequestForm()
        if form.validate_on_submit():
            course_id = record_id_of(form.course_id.data)
            done = perform(
                lambda: course_requests.request_course(tutor, course_id, form.message.data, utcnow()),
                lambda req: f"Demande envoyée pour « {req.course.title} » : le bureau vous répondra ici.",
                url_for(".index"),
            )
            if done:
                return done
        elif "csrf_token" in form.errors:
            flash(EXPIRED_FORM, "error")
        return self._page(tutor, form), 400


def _course_label(course):
    # Course titles often carry their code and school already (« PHY-1001 Mécanique – Université Laval »).
    return course.title


class CourseRequestView(SecureModelView):
    """Tutors' requests to teach a course: the office approves (the course is assigned) or refuses with a note."""

    allowed_roles = OFFICE
    can_create = False
    can_edit = False
    can_delete = False
    list_template = "admin/course_request_list.html"
    column_list = ["created_at", "tutor", "course", "message", "status", "decided_at", "decision_note"]
    column_details_list = column_list
    column_sortable_list = ["created_at", "status", "decided_at"]
    column_default_sort = ("created_at", True)
    column_searchable_list = ["tutor.display_name", "course.title"]
    column_filters = [FilterEqual(CourseRequest.status, "Statut", options=choices(COURSE_REQUEST_STATUS_LABELS))]
    column_labels = {
        "created_at": "Demandée le",
        "tutor": "Tuteur",
        "course": "Cours",
        "message": "Message du tuteur",
        "status": "Statut",
        "decided_at": "Décidée le",
        "decision_note": "Note",
        "tutor.display_name": "Tuteur",
        "course.title": "Cours",
    }
    column_formatters = {
        "created_at": datetime_column,
        "decided_at": datetime_column,
        "status": label_column(COURSE_REQUEST_STATUS_LABELS),
    }
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-check", ".approve", title="Accepter la demande"),
        EndpointLinkRowAction("fa fa-times", ".refuse", title="Refuser la demande"),
    ]

    @expose("/")
    def index_view(self):
        # The accept and refuse actions show on waiting requests only.
        self._template_args["pending"] = CourseRequestStatus.PENDING.value
        return super().index_view()

    @expose("/accepter/<int:id>", methods=("GET", "POST"))
    def approve(self, id):
        """Accept: the tutor now teaches the course."""
        course_request = self.get_one(str(id))
        form = ApproveForm()
        if form.validate_on_submit():
            done = perform(
                lambda: course_requests.approve(course_request, current_user, utcnow(), form.note.data),
                f"Demande acceptée : {course_request.tutor.display_name} enseigne « {course_request.course.title} ».",
                url_for(".index_view"),
            )
            if done:
                return done
        return self._decision_page("Accepter une demande de cours", course_request, form, "Accepter")

    @expose("/refuser/<int:id>", methods=("GET", "POST"))
    def refuse(self, id):
        """Refuse, with a note the tutor reads."""
        course_request = self.get_one(str(id))
        form = RefuseForm()
        if form.validate_on_submit():
            done = perform(
                lambda: course_requests.refuse(course_request, current_user, form.note.data, utcnow()),
                "Demande refusée ; le tuteur voit le motif.",
                url_for(".index_view"),
            )
            if done:
                return done
        return self._decision_page("Refuser une demande de cours", course_request, form, "Refuser")

    def _decision_page(self, title, course_request, form, submit_label):
        if course_request.status != CourseRequestStatus.PENDING and request.method == "GET":
            label = COURSE_REQUEST_STATUS_LABELS.get(course_request.status, course_request.status).lower()
            flash(f"Cette demande a déjà été traitée : elle est {label}.", "error")
            return redirect(url_for(".index_view"))
        if request.method == "POST" and "csrf_token" in form.errors:
            flash(EXPIRED_FORM, "error")
        summary = [
            f"Tuteur : {course_request.tutor.display_name}",
            f"Cours : {_course_label(course_request.course)}",
            f"Message : {course_request.message or '—'}",
        ]
        return self.render(
            "admin/action_form.html",
            title=title,
            summary=summary,
            form=form,
            submit_label=submit_label,
            back_url=url_for(".index_view"),
        ), form_status()
