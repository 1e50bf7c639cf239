# ruff: noqa: RUF001 - Russian survey texts use Cyrillic letters that look Latin
"""Demo data for feedback: the four survey types, a year of answers with a rising NPS, tickets in every state.

History is written directly to feedback's own tables with past dates (services stamp "now" and would email
every demo member); live behaviour starts from here: new purchases in the demo schedule real invitations.
"""

import random
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from feedback import scoring, services
from feedback.models import Answer, Invitation, Question, Response, Survey, Ticket, TicketMessage
from members.demo import ADMIN_USERNAME, demo_program
from members.models import Member, Program
from members.services import member_nps_set

ANSWERS = 320
SURVEY_WEIGHTS = [50, 25, 15, 10]  # NPS answers dominate, so its monthly trend is readable

SURVEYS = [
    {
        "name": "Relationship NPS",
        "kind": Survey.Kind.NPS,
        "trigger": Survey.Trigger.RELATIONSHIP,
        "every_months": 6,
        "min_spend": Decimal("300"),
        "title": (
            "How likely are you to recommend Fidelis Demo Market?",
            "Cât de probabil este să ne recomandați?",
            "Quanto è probabile che ci consigli?",
            "Насколько вероятно, что вы порекомендуете нас?",
        ),
        "questions": [
            (
                "score",
                (
                    "How likely are you to recommend us to a friend or colleague?",
                    "Cât de probabil este să ne recomandați unui prieten sau coleg?",
                    "Quanto è probabile che ci consigli a un amico o collega?",
                    "Насколько вероятно, что вы порекомендуете нас другу или коллеге?",
                ),
                None,
                None,
            ),
            (
                "text",
                (
                    "We are sorry. What went wrong?",
                    "Ne pare rău. Ce nu a mers bine?",
                    "Ci dispiace. Cosa non ha funzionato?",
                    "Нам жаль. Что пошло не так?",
                ),
                None,
                6,
            ),
            (
                "text",
                (
                    "What would make it a 10?",
                    "Ce ar face din asta un 10?",
                    "Cosa lo renderebbe un 10?",
                    "Что сделало бы оценку 10?",
                ),
                7,
                8,
            ),
        ],
    },
    {
        "name": "After-purchase CSAT",
        "kind": Survey.Kind.CSAT,
        "trigger": Survey.Trigger.PURCHASE,
        "delay_hours": 24,
        "title": (
            "How was your purchase?",
            "Cum a fost cumpărătura?",
            "Com'è andato il tuo acquisto?",
            "Как прошла ваша покупка?",
        ),
        "questions": [
            (
                "score",
                (
                    "How satisfied are you with your last purchase?",
                    "Cât de mulțumit sunteți de ultima cumpărătură?",
                    "Quanto sei soddisfatto del tuo ultimo acquisto?",
                    "Насколько вы довольны последней покупкой?",
                ),
                None,
                None,
            ),
            (
                "choice",
                ("What disappointed you?", "Ce v-a dezamăgit?", "Cosa ti ha deluso?", "Что вас разочаровало?"),
                None,
                2,
            ),
            (
                "text",
                (
                    "Tell us more (optional)",
                    "Spuneți-ne mai multe (opțional)",
                    "Raccontaci di più (facoltativo)",
                    "Расскажите подробнее (необязательно)",
                ),
                None,
                3,
            ),
        ],
    },
    {
        "name": "Support effort (CES)",
        "kind": Survey.Kind.CES,
        "trigger": Survey.Trigger.TICKET,
        "delay_hours": 2,
        "title": (
            "Was it easy to get help?",
            "A fost ușor să primiți ajutor?",
            "È stato facile ricevere aiuto?",
            "Легко ли было получить помощь?",
        ),
        "questions": [
            (
                "score",
                (
                    "The company made it easy for me to handle my issue.",
                    "Compania mi-a făcut ușoară rezolvarea problemei.",
                    "L'azienda mi ha reso facile risolvere il problema.",
                    "Компания сделала решение моей проблемы лёгким.",
                ),
                None,
                None,
            ),
        ],
    },
    {
        "name": "Customer Loyalty Index",
        "kind": Survey.Kind.CLI,
        "trigger": Survey.Trigger.MANUAL,
        "title": ("Three quick questions", "Trei întrebări rapide", "Tre domande veloci", "Три быстрых вопроса"),
        "questions": [
            (
                "score",
                ("Would you recommend us?", "Ne-ați recomanda?", "Ci consiglieresti?", "Порекомендуете ли вы нас?"),
                None,
                None,
            ),
            (
                "score",
                (
                    "Would you buy from us again?",
                    "Ați cumpăra din nou de la noi?",
                    "Compreresti ancora da noi?",
                    "Купите ли вы у нас снова?",
                ),
                None,
                None,
            ),
            (
                "score",
                (
                    "Would you try our other products?",
                    "Ați încerca și alte produse ale noastre?",
                    "Proveresti altri nostri prodotti?",
                    "Попробуете ли вы другие наши продукты?",
                ),
                None,
                None,
            ),
        ],
    },
]
CHOICES = (
    "Quality\nPrice\nStaff\nDelivery",
    "Calitate\nPreț\nPersonal\nLivrare",
    "Qualità\nPrezzo\nPersonale\nConsegna",
    "Качество\nЦена\nПерсонал\nДоставка",
)
COMMENTS = [
    "Long queue at the till.",
    "The product broke after a week.",
    "Points did not show up.",
    "Delivery came two days late.",
    "Staff were unfriendly.",
    "Prices went up again.",
]
TICKETS = [
    # (status, priority, category, opened days ago, overdue?)
    ("new", "normal", "delivery", 0.1, False),
    ("new", "urgent", "points", 0.4, True),
    ("acknowledged", "high", "product", 0.6, False),
    ("in_progress", "normal", "service", 2, False),
    ("in_progress", "high", "complaint", 5, True),
    ("reopened", "normal", "points", 12, False),
    ("resolved", "normal", "delivery", 20, False),
    ("resolved", "low", "suggestion", 40, False),
    ("closed", "high", "complaint", 60, False),
    ("closed", "normal", "praise", 90, False),
]


def seed() -> list[str]:
    program = demo_program()
    if program is None:
        return ["Feedback: no demo program, nothing to add."]
    if Survey.objects.filter(program=program).exists():
        return [
            f"Feedback: demo surveys already present ({Response.objects.filter(survey__program=program).count()} "
            "answers)."
        ]
    rng = random.Random(7)
    staff = _team()
    surveys = [_survey(program, spec) for spec in SURVEYS]
    members = list(Member.objects.filter(program=program).order_by("pk"))
    answered = _history(surveys, members, rng, staff)
    tickets = _tickets(program, members, rng, staff)
    return [
        f"Feedback: {len(surveys)} surveys (NPS, CSAT, CES, CLI), {answered} answers over 12 months, "
        f"{tickets} tickets in every state; metrics at /admin/feedback/survey/metrics/."
    ]


def _team():
    """The admin leads the feedback team, so escalations have somebody to notify."""
    leads, _ = Group.objects.get_or_create(name=services.TEAM_LEADS_GROUP)
    admin = get_user_model().objects.filter(username=ADMIN_USERNAME).first()
    if admin is not None:
        admin.groups.add(leads)
    return admin


def _translated(field: str, values: tuple[str, ...]) -> dict[str, str]:
    return {f"{field}_{lang}": value for lang, value in zip(("en", "ro", "it", "ru"), values, strict=True)}


def _survey(program: Program, spec: dict) -> Survey:
    fields = {k: v for k, v in spec.items() if k not in ("title", "questions")}
    survey = Survey.objects.create(program=program, **fields, **_translated("title", spec["title"]))
    for position, (kind, texts, low, high) in enumerate(spec["questions"]):
        Question.objects.create(
            survey=survey,
            position=position,
            kind=kind,
            min_score=low,
            max_score=high,
            **_translated("text", texts),
            **(_translated("choices", CHOICES) if kind == "choice" else {}),
        )
    return survey


def _score(survey: Survey, progress: float, rng: random.Random) -> list[int]:
    """Answers that improve over the year, so the trend shows the program working."""
    good = rng.random() < 0.25 + 0.45 * progress
    bad = not good and rng.random() < 0.55 - 0.4 * progress
    low, high = scoring.SCALES[survey.kind]
    count = scoring.CLI_QUESTIONS if survey.kind == Survey.Kind.CLI else 1
    if survey.kind == Survey.Kind.CLI:  # 1 = definitely yes
        return [rng.choice([1, 2]) if good else rng.choice([4, 5, 6]) if bad else 3 for _ in range(count)]
    if survey.kind == Survey.Kind.NPS:
        return [rng.choice([9, 10]) if good else rng.randint(0, 6) if bad else rng.choice([7, 8])]
    middle = (low + high) // 2
    return [
        rng.choice([high, high - 1]) if good else rng.randint(low, low + 1) if bad else rng.choice([middle, high - 1])
    ]


def _history(surveys: list[Survey], members: list[Member], rng: random.Random, staff) -> int:
    now = timezone.now()
    answered = 0
    latest_nps: dict[int, tuple[datetime, int]] = {}
    partners = list(surveys[0].program.partners.all())
    for i in range(int(ANSWERS * 1.6)):
        survey = rng.choices(surveys, weights=SURVEY_WEIGHTS)[0]
        member = rng.choice(members)
        days_ago = rng.randint(1, 360)
        sent_at = now - timedelta(days=days_ago, hours=rng.randint(0, 10))
        responds = rng.random() < 0.62
        invitation = Invitation.objects.create(
            survey=survey,
            member=member,
            trigger=survey.trigger,
            reference=f"demo:{i}",
            partner=rng.choice(partners) if partners and survey.trigger == Survey.Trigger.PURCHASE else None,
            channel=survey.channel,
            status=Invitation.Status.ANSWERED if responds else Invitation.Status.SENT,
            language=member.language,
            nonce=secrets.token_urlsafe(9),
            send_at=sent_at,
            sent_at=sent_at,
            expires_at=sent_at + timedelta(days=survey.expiry_days),
            reminded_at=None if responds else sent_at + timedelta(days=survey.reminder_days),
        )
        if not responds:
            continue
        scores = _score(survey, 1 - days_ago / 360, rng)
        completed = sent_at + timedelta(hours=rng.randint(1, 40))
        score = scoring.response_score(scores)
        response = Response.objects.create(
            invitation=invitation,
            survey=survey,
            member=member,
            language=member.language,
            score=score,
            category=scoring.nps_category(int(score)) if survey.kind == Survey.Kind.NPS else "",
            started_at=completed - timedelta(minutes=2),
            completed_at=completed,
        )
        questions = list(survey.questions.all())
        Answer.objects.bulk_create(
            [
                Answer(response=response, question=q, score=s)
                for q, s in zip([q for q in questions if q.kind == Question.Kind.SCORE], scores, strict=True)
            ]
        )
        if scoring.needs_follow_up(survey.kind, score):
            comment = rng.choice(COMMENTS)
            text_question = next((q for q in questions if q.kind == Question.Kind.TEXT), None)
            if text_question is not None:
                Answer.objects.create(response=response, question=text_question, text=comment)
            response.ticket = _ticket(
                member,
                services.follow_up_subject(survey, score),
                comment,
                Ticket.Category.SURVEY,
                Ticket.Priority.HIGH,
                completed,
                staff,
                contacted_after=timedelta(hours=rng.choice([3, 20, 30, 70])),
                status="closed" if days_ago > 14 else "in_progress",
            )
            response.save(update_fields=["ticket"])
        if survey.kind == Survey.Kind.NPS and (member.pk not in latest_nps or completed > latest_nps[member.pk][0]):
            latest_nps[member.pk] = (completed, int(score))
        answered += 1
    for member in members:
        if member.pk in latest_nps:
            member_nps_set(member=member, score=latest_nps[member.pk][1])
    return answered


def _ticket(
    member, subject, body, category, priority, opened_at, staff, *, contacted_after=None, status="closed", overdue=False
) -> Ticket:
    ack_hours, resolve_hours = services.sla_hours(member.program_id, priority)
    due = opened_at + timedelta(hours=resolve_hours)
    ticket = Ticket.objects.create(
        program_id=member.program_id,
        member=member,
        subject=subject,
        category=category,
        priority=priority,
        channel=Ticket.Channel.SURVEY if category == Ticket.Category.SURVEY else Ticket.Channel.MEMBER_PAGE,
        status=status,
        assignee=staff if status != "new" else None,
        language=member.language,
        created_at=opened_at,
        acknowledge_due_at=opened_at + timedelta(hours=ack_hours),
        due_at=due,
        confirmed_at=opened_at,
    )
    TicketMessage.objects.create(ticket=ticket, kind=TicketMessage.Kind.CUSTOMER, body=body, created_at=opened_at)
    updates: dict = {}
    if status != "new":
        updates["acknowledged_at"] = opened_at + timedelta(minutes=40)
    if contacted_after is not None and status != "new":
        updates["first_contact_at"] = opened_at + contacted_after
        TicketMessage.objects.create(
            ticket=ticket,
            kind=TicketMessage.Kind.REPLY,
            author=staff,
            body="Thank you for telling us. We are sorry; here is what we are doing about it.",
            created_at=updates["first_contact_at"],
            emailed_at=updates["first_contact_at"],
        )
    if status in ("resolved", "closed"):
        updates["resolved_at"] = opened_at + contacted_after + timedelta(hours=6) if contacted_after else due
    if status == "closed":
        updates["closed_at"] = updates["resolved_at"] + timedelta(days=2)
    if overdue:
        updates["due_at"] = timezone.now() - timedelta(hours=2)
        if status == "in_progress":  # escalated once already, and late again
            missed = opened_at + timedelta(hours=resolve_hours)
            updates.update(escalations=1, escalated_at=missed, overdue_since=missed)
    if updates:
        Ticket.objects.filter(pk=ticket.pk).update(**updates)
    return ticket


def _tickets(program: Program, members: list[Member], rng: random.Random, staff) -> int:
    now = timezone.now()
    for status, priority, category, days_ago, overdue in TICKETS:
        member = rng.choice(members)
        _ticket(
            member,
            f"{Ticket.Category(category).label}: {rng.choice(COMMENTS).lower().rstrip('.')}",
            rng.choice(COMMENTS),
            category,
            priority,
            now - timedelta(days=days_ago),
            staff,
            contacted_after=None if status in ("new", "acknowledged") else timedelta(hours=5),
            status=status,
            overdue=overdue,
        )
    return len(TICKETS) + Ticket.objects.filter(program=program, channel=Ticket.Channel.SURVEY).count()
