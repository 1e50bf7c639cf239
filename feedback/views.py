"""Member pages: answering a survey through its signed link (no login), the complaint form and ticket thread."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from core.errors import DomainError
from feedback import selectors, services
from feedback.forms import FollowUpForm, MessageForm, ScoreForm, TicketForm, add_domain_errors
from feedback.models import Ticket
from members import auth
from members.models import Member
from members.views import DashboardPanel, dashboard_panel, member_required


def _answer_language(request, invitation) -> str:
    """The member's language from the invitation, unless they picked another one on the page."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return chosen if chosen in dict(settings.LANGUAGES) else invitation.language


@never_cache
def answer(request, token: str):
    try:
        invitation = services.invitation_open(token=token)
    except DomainError as exc:
        return render(request, "feedback/survey_closed.html", {"error": exc}, status=exc.status)
    language = _answer_language(request, invitation)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    survey = invitation.survey
    response = selectors.response_for_invitation(invitation=invitation)
    answers = selectors.answers_by_question(response=response)
    # A member who gave the score and left comes back to the follow-up questions (resumed answer).
    step = "follow" if response and response.score is not None and request.GET.get("step") != "score" else "score"
    if request.method == "POST" and request.POST.get("step") == "score":
        step = "score"
    if step == "score":
        form = ScoreForm(
            request.POST or None,
            survey=survey,
            questions=selectors.score_questions(survey=survey),
            answers=answers,
            clicked=request.GET.get("score"),
        )
    else:
        form = FollowUpForm(
            request.POST or None,
            questions=selectors.follow_ups_for(survey=survey, score=response.score),
            answers=answers,
        )
    status = 200
    if request.method == "POST" and not auth.within_limit(
        "survey", auth.client_address(request), settings.SURVEY_SUBMISSIONS_PER_WINDOW
    ):
        form.is_valid()  # bound errors first, so the refusal below is not overwritten
        form.add_error(None, _("Too many answers from your connection. Please try again in a few minutes."))
        status = 429
    elif request.method == "POST" and form.is_valid():
        try:
            if step == "score":
                response = services.response_score(invitation=invitation, scores=form.scores(), language=language)
            else:
                response = services.response_finish(invitation=invitation, answers=form.answers(), language=language)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            if response.completed_at:
                return render(request, "feedback/survey_thanks.html", {"survey": survey, "response": response})
            return redirect(request.path)
    return render(
        request,
        "feedback/survey.html",
        {"survey": survey, "invitation": invitation, "form": form, "step": step, "response": response},
        status=status,
    )


@member_required
def tickets(request):
    member = request.member
    form = TicketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_open(
                member=member,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                category=form.cleaned_data["category"],
                channel=Ticket.Channel.MEMBER_PAGE,
                language=translation.get_language(),
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(
                request,
                _("Thank you. We have received your message and will answer by %(date)s.")
                % {"date": _date(ticket.due_at)},
            )
            return redirect("feedback:ticket", pk=ticket.pk)
    return render(
        request,
        "feedback/tickets.html",
        {"form": form, "tickets": selectors.member_tickets(member=member), "surveys": _pending_surveys(member)},
    )


def _pending_surveys(member: Member) -> list[dict]:
    """Each unanswered survey with the member's own signed link (the same one the invitation carried)."""
    return [
        {"invitation": invitation, "url": reverse("feedback:answer", args=[services.invitation_token(invitation)])}
        for invitation in selectors.member_pending_surveys(member=member)[:OPEN_ON_DASHBOARD]
    ]


def _date(value) -> str:
    return date_format(localtime(value), "DATETIME_FORMAT")


@member_required
def ticket(request, pk: int):
    member = request.member
    ticket = get_object_or_404(selectors.member_tickets(member=member), pk=pk)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ticket_customer_message(ticket=ticket, member=member, body=form.cleaned_data["body"])
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Your message was added."))
            return redirect("feedback:ticket", pk=ticket.pk)
    return render(
        request,
        "feedback/ticket.html",
        {"ticket": ticket, "thread": selectors.ticket_public_messages(ticket=ticket), "form": form},
    )


OPEN_ON_DASHBOARD = 3


@dashboard_panel
def tickets_panel(member: Member) -> DashboardPanel | None:
    """The member's open tickets on their dashboard, so a reply from the team is not missed."""
    open_tickets = list(
        selectors.member_tickets(member=member).filter(status__in=Ticket.OPEN_STATUSES)[:OPEN_ON_DASHBOARD]
    )
    return DashboardPanel(
        "feedback/_dashboard_panel.html", {"tickets": open_tickets, "surveys": _pending_surveys(member)}
    )
