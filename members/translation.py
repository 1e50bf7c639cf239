"""Program texts members read, one column per language (en, ro, it, ru); the admin shows a field per
language and warns about the empty ones (core.translations)."""

from modeltranslation.translator import TranslationOptions, register

from members.models import CustomEventType, EarningRule, MembershipPlan, Program, Tier


@register(Program)
class ProgramTranslation(TranslationOptions):
    fields = ("points_name", "points_forms", "brand_name")


@register(Tier)
class TierTranslation(TranslationOptions):
    fields = ("name", "benefits")


@register(MembershipPlan)
class MembershipPlanTranslation(TranslationOptions):
    fields = ("name", "perks")


@register(EarningRule)
class EarningRuleTranslation(TranslationOptions):
    fields = ("name",)


@register(CustomEventType)
class CustomEventTypeTranslation(TranslationOptions):
    fields = ("name",)
