"""Member-facing forms: survey pages built from the survey's questions, the complaint form, ticket replies."""

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback import scoring
from feedback.models import Answer, Question, Survey, Ticket

MEMBER_CATEGORIES = [(value, label) for value, label in Ticket.Category.choices if value != Ticket.Category.SURVEY]


def field_name(question: Question) -> str:
    return f"q{question.pk}"


class ScoreForm(forms.Form):
    """One radio scale per score question; the scale is the survey kind's."""

    def __init__(
        self,
        *args,
        survey: Survey,
        questions: list[Question],
        answers: dict[int, Answer],
        clicked: str | None = None,
        **kwargs,
    ):
        """`clicked` is the score the member clicked in the email (single-question surveys): preselected only,
        the answer is stored when they submit."""
        super().__init__(*args, **kwargs)
        low, high = scoring.SCALES[survey.kind]
        self.questions = questions
        for question in questions:
            previous = answers.get(question.pk)
            self.fields[field_name(question)] = forms.TypedChoiceField(
                label=question.text,
                help_text=scoring.SCALE_HELP[survey.kind],
                choices=[(n, str(n)) for n in range(low, high + 1)],
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "scale"}),
                initial=previous.score if previous else (clicked if len(questions) == 1 else None),
            )

    def scores(self) -> dict[int, int]:
        return {q.pk: self.cleaned_data[field_name(q)] for q in self.questions}


class FollowUpForm(forms.Form):
    def __init__(self, *args, questions: list[Question], answers: dict[int, Answer], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            previous = answers.get(question.pk)
            initial = previous.text if previous else ""
            if question.kind == Question.Kind.CHOICE:
                field = forms.ChoiceField(
                    label=question.text,
                    choices=[(o, o) for o in question.options],
                    widget=forms.RadioSelect,
                    required=question.required,
                    initial=initial,
                )
            else:
                field = forms.CharField(
                    label=question.text,
                    widget=forms.Textarea(attrs={"rows": 4}),
                    required=question.required,
                    max_length=4000,
                    initial=initial,
                )
            self.fields[field_name(question)] = field

    def answers(self) -> dict[int, str]:
        return {q.pk: self.cleaned_data.get(field_name(q)) or "" for q in self.questions}


class TicketForm(forms.Form):
    category = forms.ChoiceField(label=_("Topic"), choices=MEMBER_CATEGORIES, initial=Ticket.Category.COMPLAINT)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}), max_length=8000)


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=8000)


def add_domain_errors(form: forms.Form, exc) -> None:
    """Show a service's refusal on the form: field errors where they belong, the message on top."""
    for name, errors in exc.fields.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)
