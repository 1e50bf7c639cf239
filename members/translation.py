"""Stored texts of members' models that staff write per language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from members.models import Program


@register(Program)
class ProgramTranslation(TranslationOptions):
    # What members call the program's points ("stars", "stele", "stelle", "звёзды"), in their language.
    fields = ("points_name",)
