"""Form fields of the back office: money in dollars, local date-times, new passwords."""

from datetime import UTC
from decimal import Decimal, InvalidOperation

from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.form import DateTimeField
from wtforms import PasswordField, StringField
from wtforms.validators import ValidationError

from ..accounts import AccountError, check_password_strength
from ..formatting import money
from ..forms import YEAR_OUT_OF_RANGE
from ..localtime import LOCAL_TZ, to_local
from ..models import MAX_INTEGER, YEARS

INVALID_AMOUNT = "Montant invalide : entrez un montant en dollars, par exemple 45,00."
#: Amounts are stored in cents in INTEGER columns.
MAX_AMOUNT = Decimal(MAX_INTEGER).scaleb(-2)
AMOUNT_TOO_LARGE = f"Montant invalide : au plus {money(MAX_INTEGER)}."
INVALID_DATETIME = "Date et heure invalides (format AAAA-MM-JJ HH:MM)."


class MoneyField(StringField):
    """An amount typed in dollars (45, 45.00 or 45,00) and stored as integer cents."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{Decimal(self.data).scaleb(-2):.2f}".replace(".", ",")

    def process_formdata(self, valuelist):
        self.data = None
        text = valuelist[0] if valuelist else ""
        text = "".join(text.split()).replace("$", "").replace(",", ".")
        if not text:
            return
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(INVALID_AMOUNT) from None
        if not amount.is_finite():
            raise ValueError(INVALID_AMOUNT)
        # Before rounding: 1e308 has more digits than the decimal context can quantize.
        if abs(amount) > MAX_AMOUNT:
            raise ValueError(AMOUNT_TOO_LARGE)
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError(INVALID_AMOUNT)
        self.data = int(amount.scaleb(2))


class LocalDateTimeField(DateTimeField):
    """A date and time typed in Québec local time, stored as an aware UTC timestamp."""

    def __init__(self, label=None, validators=None, format=None, **kwargs):
        # The picker sends seconds; people typing usually don't.
        formats = [format] if format else ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        super().__init__(label, validators, format=formats, **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if self.data is None:
            return ""
        return to_local(self.data).strftime(self.format[0])

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(INVALID_DATETIME) from None
        if self.data is not None and self.data.year not in YEARS:
            # Converting 9999-12-31 23:00 local time to UTC would overflow the calendar.
            self.data = None
            raise ValueError(YEAR_OUT_OF_RANGE)
        if self.data is not None and self.data.tzinfo is None:
            self.data = self.data.replace(tzinfo=LOCAL_TZ).astimezone(UTC)


class NewPasswordField(PasswordField):
    """A password typed by an administrator; only its hash is stored, through User.set_password."""

    def pre_validate(self, form):
        if self.data:
            try:
                check_password_strength(self.data)
            except AccountError as error:
                raise ValidationError(str(error)) from None

    def populate_obj(self, obj, name):
        # Empty means "keep the current password" when editing.
        if self.data:
            obj.set_password(self.data)


class ChoiceOrBlankField(QuerySelectField):
    """One of the query's rows, or none when left blank; any other value is refused, never read as blank.

    Flask-Admin's own field takes an unknown id in an optional relation (a student's id for a
    ticket's assignee, say) for "none", and would quietly clear what was there.
    """

    def pre_validate(self, form):
        if self.data is None and self._formdata not in (None, "", "__None"):
            raise ValidationError("Choix invalide : choisissez dans la liste, ou laissez vide.")
        super().pre_validate(form)
