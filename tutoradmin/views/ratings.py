"""The office's ratings (SPEC §9, operations): the list, tutors' averages, hiding and showing a comment again.

Administrators and staff only. A hidden comment stays here for the office to read; the score still
counts in every average.
"""

from flask import abort, flash, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from .. import ratings
from ..extensions import db
from ..forms import BaseForm
from ..models import Rating, Tutor, utcnow
from ..pagination import paginate
from ..params import ParamError, parse_optional_id, parse_page
from .base import OFFICE, SecureView, form_status, perform

PER_PAGE = 50
BAD_SCORE = "Note invalide : choisissez de 1 à 5."


class HideCommentForm(BaseForm):
    reason = TextAreaField(
        "Motif",
        validators=[
            DataRequired("Indiquez pourquoi ce commentaire est masqué."),
            Length(max=ratings.HIDE_REASON_MAX_LENGTH),
        ],
    )


class ShowCommentForm(BaseForm):
    note = TextAreaField("Note (facultative)", validators=[Length(max=ratings.HIDE_REASON_MAX_LENGTH)])


def _filters(args):
    """(tutor id, score) from the query string, or ParamError in French."""
    tutor_id = parse_optional_id(args.get("tuteur"))
    score = args.get("note") or None
    if score is not None:
        if not (score.isascii() and score.isdigit() and int(score) in ratings.SCORES):
            raise ParamError(BAD_SCORE)
        score = int(score)
    return tutor_id, score


class RatingView(SecureView):
    """Every rating with its session, filters by tutor and score, and the tutors' averages."""

    allowed_roles = OFFICE

    def _args(self):
        """The list's query string (filters and page), kept across the hide and show forms."""
        return {key: request.args[key] for key in ("tuteur", "note", "page") if request.args.get(key)}

    def _page(self, error=None, status=200, hide_form=None, hiding=None):
        try:
            tutor_id, score = _filters(request.args)
        except ParamError as exc:
            tutor_id, score, error, status = None, None, str(exc), 400
        page = paginate(ratings.office_list(tutor_id, score), parse_page(request.args.get("page")), PER_PAGE, False)
        tutors = db.session.execute(select(Tutor.id, Tutor.display_name).order_by(Tutor.display_name, Tutor.id)).all()
        return self.render(
            "admin/ratings.html",
            page=page,
            averages=ratings.tutor_averages(),
            tutors=tutors,
            tutor_id=tutor_id,
            score=score,
            scores=list(ratings.SCORES),
            args=self._args(),
            error=error,
            hide_form=hide_form or HideCommentForm(formdata=None),
            hiding=hiding,
            show_form=ShowCommentForm(formdata=None),
            reason_max=ratings.HIDE_REASON_MAX_LENGTH,
        ), status

    @expose("/")
    def index(self):
        return self._page()

    def _rating(self, rating_id):
        rating = db.session.get(Rating, rating_id)
        if rating is None:
            abort(404)
        return rating

    @expose("/masquer/<int:rating_id>", methods=("POST",))
    def hide_comment(self, rating_id):
        """Hide a comment with a reason (audited): the tutor no longer sees it, its score still counts."""
        rating = self._rating(rating_id)
        form = HideCommentForm()
        if form.validate_on_submit():
            done = perform(
                lambda: ratings.hide_comment(rating, current_user, form.reason.data, utcnow()),
                "Commentaire masqué : le tuteur ne le voit plus ; la note compte toujours.",
                url_for(".index", **self._args()),
            )
            if done:
                return done
        else:
            for error in [*form.errors.get("csrf_token", []), *form.reason.errors]:
                flash(error, "error")
        return self._page(status=form_status(), hide_form=form, hiding=rating.id)

    @expose("/reafficher/<int:rating_id>", methods=("POST",))
    def show_comment(self, rating_id):
        """Show a hidden comment again (audited)."""
        rating = self._rating(rating_id)
        form = ShowCommentForm()
        if form.validate_on_submit():
            done = perform(
                lambda: ratings.show_comment(rating, current_user, utcnow(), form.note.data),
                "Commentaire réaffiché.",
                url_for(".index", **self._args()),
            )
            if done:
                return done
        else:
            for error in [*form.errors.get("csrf_token", []), *form.note.errors]:
                flash(error, "error")
        return self._page(status=form_status())
