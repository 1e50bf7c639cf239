from modeltranslation.translator import TranslationOptions, register

from campaigns.models import Offer, Variant


@register(Variant)
class VariantTranslation(TranslationOptions):
    fields = ("subject", "body", "sms_body")


@register(Offer)
class OfferTranslation(TranslationOptions):
    fields = ("title", "description")
