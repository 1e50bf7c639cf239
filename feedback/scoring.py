"""Scales and classification of the four survey types.

Directions differ, so every consumer reads them from here:
- NPS 0-10, higher is better; promoters 9-10, passives 7-8, detractors 0-6; NPS = % promoters - % detractors.
- CSAT 1-5, higher is better; CSAT = share of answers 4 or 5, in percent.
- CES 1-7 agreement that "it was easy", higher is better; CES = mean.
- CLI three answers 1-6 where 1 = definitely yes and 6 = definitely no, so LOWER is better; CLI = mean of the three
  (a response's score is the mean of its three answers; the survey's CLI is the mean of those).
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7), "cli": (1, 6)}
# What the ends of each scale mean, shown to the member above every score question.
SCALE_HELP = {
    "nps": _("0 = not at all likely … 10 = extremely likely"),
    "csat": _("1 = very dissatisfied … 5 = very satisfied"),
    "ces": _("1 = strongly disagree … 7 = strongly agree"),
    "cli": _("1 = definitely yes … 6 = definitely no"),
}
CLI_QUESTIONS = 3
PROMOTER_MIN = 9
PASSIVE_MIN = 7
CSAT_SATISFIED_MIN = 4
CSAT_UNHAPPY_MAX = 2


def nps_category(score: int) -> str:
    if score >= PROMOTER_MIN:
        return "promoter"
    if score >= PASSIVE_MIN:
        return "passive"
    return "detractor"


def response_score(scores: list[int]) -> Decimal:
    """The response's score: the single answer, or the mean of CLI's three, to two decimals."""
    return (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01"))


def needs_follow_up(kind: str, score: Decimal) -> bool:
    """Detractors and unhappy CSAT answers open a ticket, so someone calls them back."""
    return (kind == "nps" and score < PASSIVE_MIN) or (kind == "csat" and score <= CSAT_UNHAPPY_MAX)
