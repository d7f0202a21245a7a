"""The base of every form, public or back office: no field takes a value the database cannot store."""

from datetime import date

from flask import request
from flask_wtf import FlaskForm
from wtforms.validators import StopValidation

from .models import MAX_INTEGER, YEARS

NUL_CHARACTER = "Ce champ contient un caractère invalide (caractère nul)."
NUMBER_TOO_LARGE = "Nombre invalide : il dépasse les limites permises."
YEAR_OUT_OF_RANGE = f"Date invalide : l'année doit être entre {YEARS.start} et {YEARS.stop - 1}."


def refusal(value):
    """Why no column can store `value` (a French message), or None: NUL, a huge integer, a year near 1 or 9999."""
    if isinstance(value, str) and "\x00" in value:
        return NUL_CHARACTER
    if isinstance(value, int) and not isinstance(value, bool) and not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
        return NUMBER_TOO_LARGE
    if isinstance(value, date) and value.year not in YEARS:
        return YEAR_OUT_OF_RANGE
    return None


def storable(form, field):
    """Validator: the field's text and value are storable (see `refusal`)."""
    for value in [*(getattr(field, "raw_data", None) or ()), field.data]:
        message = refusal(value)
        if message:
            raise StopValidation(message)


class BaseForm(FlaskForm):
    """A Flask-WTF form (CSRF included) read from form data only, whose every field is checked by `storable` first."""

    class Meta:
        def wrap_formdata(self, form, formdata):
            # The site's forms are posted as forms. Flask-WTF reads a JSON body as form data instead,
            # and fails on any JSON but a flat object: a JSON body is no form data.
            if formdata is not None and not hasattr(formdata, "getlist") and form.is_submitted() and request.is_json:
                formdata = request.form
            return super().wrap_formdata(form, formdata)

        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            # First, so that no later validator (a uniqueness check, say) sends the value to the database.
            field.validators = [storable, *field.validators]
            return field
