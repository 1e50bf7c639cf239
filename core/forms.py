"""Form fields shared by the apps' admin forms."""

from django import forms
from django.core.exceptions import ValidationError

BIGINT_MAX = 2**63 - 1


class IdsMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django looks the chosen ids up (`pk__in`) before checking that they fit the column, so a posted
    id like 99999999999999999999 was a 500 (OverflowError on SQLite, DataError on PostgreSQL);
    here it is the field's ordinary "not a valid value" error."""

    def _check_values(self, value):
        for pk in value:
            try:
                fits = abs(int(str(pk))) <= BIGINT_MAX
            except ValueError:
                continue  # not a number at all: Django's own check reports it
            if not fits:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)
