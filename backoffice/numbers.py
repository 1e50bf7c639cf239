"""Changelist columns of points, money and counts grouped in the reader's language (12,345 / 12.345 /
12 345). Django groups numbers only when USE_THOUSAND_SEPARATOR is on, and that would also group every id
a template prints into a link; so only the number columns are grouped, here. FidelisAdminSite.register
(backoffice/site.py) adds the mixin to every ModelAdmin, as it does the audit one."""

import functools
from collections.abc import Callable

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from core.formatting import number

NUMBER_FIELDS = (models.IntegerField, models.DecimalField, models.FloatField)


def _groupable(field) -> bool:
    """A quantity: not a key, a choice or a code that happens to be stored as a number."""
    return (
        isinstance(field, NUMBER_FIELDS)
        and not field.primary_key
        and not field.is_relation
        and not field.choices
        and not field.name.endswith(("_id", "code"))
    )


@functools.cache
def grouped_column(field: models.Field) -> Callable:
    """A list_display column showing the field grouped, with its header, sorting and CSS class."""
    places = field.decimal_places if isinstance(field, models.DecimalField) else None

    def column(obj):
        value = getattr(obj, field.attname)
        return None if value is None else number(value, places)

    column.__name__ = field.name  # the cell keeps its class, field-<name>
    return admin.display(description=field.verbose_name, ordering=field.name)(column)


class GroupedNumbersAdminMixin:
    """Swaps the number fields of list_display for grouped columns (editable and link columns stay)."""

    def get_list_display(self, request):
        return [self._grouped(name) for name in super().get_list_display(request)]

    def _grouped(self, name):
        if not isinstance(name, str) or name in self.list_editable or name in (self.list_display_links or ()):
            return name
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return name
        return grouped_column(field) if _groupable(field) else name
