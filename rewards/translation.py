"""Member-facing catalog texts in every configured language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from rewards.models import Badge, Cause, Challenge, Reward, SurpriseRule


@register(Reward)
class RewardTranslation(TranslationOptions):
    fields = ("title", "description")


@register(Cause)
class CauseTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Challenge)
class ChallengeTranslation(TranslationOptions):
    fields = ("title", "description")


@register(Badge)
class BadgeTranslation(TranslationOptions):
    fields = ("name", "description")


@register(SurpriseRule)
class SurpriseRuleTranslation(TranslationOptions):
    fields = ("message",)
