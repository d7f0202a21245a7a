"""« Mon profil »: what the office knows of the tutor, the presentation and contact they keep, their calendar feed."""

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from wtforms import StringField, TextAreaField

from .. import ical, tutor_profile
from ..extensions import db
from ..forms import BaseForm
from ..public.forms import CalendarFeedForm
from .base import OwnRowsModelView, form_status, perform
from .columns import money_column

EXPIRED = "Le formulaire a expiré : rechargez la page et recommencez."


class ProfileForm(BaseForm):
    # Read as typed: tutor_profile.update_contact says what is wrong with a value, in French.
    bio = TextAreaField("Présentation", render_kw={"rows": 6, "maxlength": tutor_profile.BIO_MAX_LENGTH})
    contact_email = StringField(
        "Adresse courriel de contact", render_kw={"type": "email", "maxlength": tutor_profile.EMAIL_MAX_LENGTH}
    )
    phone = StringField("Téléphone", render_kw={"type": "tel", "maxlength": 40})


class MyProfileView(OwnRowsModelView):
    """The tutor's own profile: bio and contact are theirs; the office sets name, courses, status and rate."""

    owner_column = "id"
    can_create = False
    can_delete = False
    column_details_list = ["display_name", "bio", "contact_email", "phone", "courses", "active", "hourly_rate_cents"]
    column_labels = {
        "display_name": "Nom affiché",
        "bio": "Présentation",
        "contact_email": "Adresse courriel de contact",
        "phone": "Téléphone",
        "courses": "Cours enseignés",
        "active": "Actif",
        "hourly_rate_cents": "Mon taux horaire",
    }
    column_formatters = {"hourly_rate_cents": money_column}
    # The edit page's form, also Flask-Admin's (the office's fields are not in it).
    form = ProfileForm

    def _tutor(self):
        return self.get_one(str(self.current_tutor_id()))

    @expose("/")
    def index_view(self):
        tutor = self._tutor()
        token = tutor.user.calendar_token
        feed_url = (
            current_app.config["PUBLIC_BASE_URL"] + url_for("public.calendar_feed", token=token) if token else None
        )
        return self.render("admin/my_profile.html", tutor=tutor, feed_url=feed_url)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """Change the presentation and contact details; nothing else of the profile is the tutor's to change."""
        tutor = self.get_one(request.args.get("id", ""))
        form = ProfileForm(obj=tutor)
        if form.validate_on_submit():
            done = perform(
                lambda: tutor_profile.update_contact(tutor, form.bio.data, form.contact_email.data, form.phone.data),
                "Profil enregistré.",
                url_for(".index_view"),
            )
            if done:
                return done
        elif "csrf_token" in form.errors:
            flash(EXPIRED, "error")
        return self.render(
            "admin/action_form.html",
            title="Modifier mon profil",
            summary=["Votre nom affiché, vos cours, votre statut et votre taux horaire sont gérés par 4AS."],
            form=form,
            submit_label="Enregistrer",
            back_url=url_for(".index_view"),
        ), form_status()

    @expose("/calendrier", methods=("POST",))
    def calendar(self):
        """Create, renew (the old address stops working) or revoke the private feed of the tutor's sessions."""
        user = self._tutor().user
        form = CalendarFeedForm()
        if not form.validate_on_submit():
            expired = "csrf_token" in form.errors
            flash(EXPIRED if expired else "Action inconnue.", "error")
            return redirect(url_for(".index_view"))
        message = ical.change_feed(user, form.action.data)
        db.session.commit()
        flash(message, "success")
        return redirect(url_for(".index_view", _anchor="calendrier"))
