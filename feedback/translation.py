"""Survey texts members read, one column per language (en, ro, it, ru); admin shows a tab per language."""

from modeltranslation.translator import TranslationOptions, register

from feedback.models import Question, Survey


@register(Survey)
class SurveyTranslation(TranslationOptions):
    fields = ("title", "intro", "thanks")


@register(Question)
class QuestionTranslation(TranslationOptions):
    fields = ("text", "choices")
