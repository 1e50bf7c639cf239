"""What every partner endpoint's serializers share: strict input (unknown fields and wrong JSON
types are errors) and money as a decimal string. The OpenAPI side of it is docs.StrictSerializerSchema."""

import re

from django.http import QueryDict
from rest_framework import serializers

MONEY = {"max_digits": 12, "decimal_places": 2}
MONEY_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


# JSON type each kind of input field takes. DRF would coerce (0 -> "0" for a text field, "5" -> 5 for
# a number, 84.5 -> Decimal for money): a partner sending the wrong type would never learn that its
# payload does not match the published schema. Money is a string, so it keeps its exact decimals.
_JSON_TYPES = (
    (serializers.BooleanField, bool, "true or false"),
    (serializers.IntegerField, int, "an integer"),
    (serializers.DecimalField, str, 'a string such as "12.50"'),
    (serializers.CharField, str, "a string"),
    (serializers.ChoiceField, str, "a string"),
    (serializers.DateTimeField, str, "a string (ISO 8601 date and time)"),
    (serializers.DateField, str, "a string (YYYY-MM-DD)"),
)


class StrictSerializer(serializers.Serializer):
    """Unknown fields are an error, not silently dropped: a partner sending `points_available` or
    `tier` learns at once that it cannot write them (mass assignment), and typos do not go unnoticed.
    In a JSON body each field must also have its documented JSON type (query strings are all text)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["This field cannot be written."] for name in unknown})
            if isinstance(data, QueryDict):
                # DRF skips an optional field sent empty (`?page=`); for a number that is not a value.
                blank = [
                    name
                    for name, field in self.fields.items()
                    if name in data and data.get(name) == "" and not isinstance(field, serializers.CharField)
                ]
                if blank:
                    raise serializers.ValidationError({name: ["A value is required."] for name in blank})
            else:
                wrong = self._wrong_types(data)
                if wrong:
                    raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)

    def _wrong_types(self, data: dict) -> dict[str, list[str]]:
        errors = {}
        for name, field in self.fields.items():
            value = data.get(name)
            if field.read_only or value is None:
                continue  # absent or null: the field's own required/allow_null rules answer
            for kind, json_type, label in _JSON_TYPES:
                if isinstance(field, kind):
                    if not isinstance(value, json_type) or (json_type is int and isinstance(value, bool)):
                        errors[name] = [f"Must be {label}."]
                    elif kind is serializers.DecimalField and not MONEY_TEXT.fullmatch(value):
                        errors[name] = [f"Must be {label}."]  # DRF would also take " 1", "1e3", "NaN"
                    break
        return errors


class ListQuerySerializer(StrictSerializer):
    """The query every list takes; a list's own filters subclass it."""

    cursor = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, help_text="From a list's next/previous link."
    )
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)


def page_serializer(
    name: str, item: serializers.Serializer, **extra: serializers.Field
) -> type[serializers.Serializer]:
    """The schema of one list envelope, `<name>Serializer` (its OpenAPI component is `<name>`)."""
    fields = {
        "next": serializers.URLField(allow_null=True, help_text="The next page's link; null on the last page."),
        "previous": serializers.URLField(allow_null=True, help_text="The previous page's link; null on the first."),
        **extra,
        "results": item,
    }
    return type(f"{name}Serializer", (serializers.Serializer,), fields)
