"""Stored texts translated with django-modeltranslation: which languages an object still misses, and
an admin mixin that warns staff about them, so a member never reads an English title by surprise."""

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from modeltranslation.translator import NotRegistered, translator


def translations_missing(obj: models.Model) -> dict[str, list[str]]:
    """{field verbose name: [language names]} for each translated text written in some language and
    empty in another."""
    try:
        fields = translator.get_options_for_model(type(obj)).fields
    except NotRegistered:
        return {}
    names = dict(settings.LANGUAGES)
    missing = {}
    for field in fields:
        values = {code: getattr(obj, f"{field}_{code}", None) for code in names}
        if not any(values.values()):
            continue  # an optional text left empty everywhere is not a missing translation
        empty = [str(names[code]) for code, value in values.items() if not value]
        if empty:
            missing[str(obj._meta.get_field(field).verbose_name)] = empty
    return missing


class MissingTranslationsAdmin:
    """Put before a modeltranslation TranslationAdmin: its change form (and the save) warns about texts
    members would read in English because their language is empty."""

    def _warn_missing(self, request, obj: models.Model) -> None:
        missing = translations_missing(obj)
        if missing:
            detail = "; ".join(f"{field}: {', '.join(langs)}" for field, langs in missing.items())
            messages.warning(
                request,
                format_lazy("{} {}", _("Missing translations (members in these languages read English):"), detail),
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                self._warn_missing(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._warn_missing(request, obj)
