"""Why a ledger entry happened, in the reader's language: the member's history, dashboard and CSV.

An earn entry explains itself by its rule breakdown, whose labels name stored content (a rule, a
tier): they are shown under the name the reader's language gives them now. Every other entry gets
one sentence from its kind and reason, so no line of the history is left without a why.
"""

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from members.models import LedgerEntry, Program
from members.selectors import program_rules
from members.texts import languages


def why_names(program: Program) -> tuple[dict[int, str], dict[str, str]]:
    """Rule names by id, and tier names in any language -> in the active one (cached: no query)."""
    rules = program_rules(program)
    by_any_language = {}
    for tier in rules.tiers:
        for code in languages():
            written = getattr(tier, f"name_{code}", None)
            if written:
                by_any_language[written] = tier.name
    return {rule.pk: rule.name for rule in rules.rules}, by_any_language


def _number(text: str) -> str:
    """A number written by the earning code ("84.50", "1.5") in the reader's locale ("84,50", "1,5")."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    places = -value.as_tuple().exponent if value.as_tuple().exponent < 0 else 0
    return number_format(value, places, force_grouping=True)


def _label(item: dict, entry: LedgerEntry, rule_names: dict[int, str], tier_names: dict[str, str]) -> str:
    label = item.get("label")
    if item.get("kind") == "base" and isinstance(label, str):  # "84.50 EUR x 1"
        amount, _sep, rest = label.partition(" ")
        currency, sep, rate = rest.partition(" x ")
        if sep:
            return f"{_number(amount)} {currency} x {_number(rate)}"
    if item.get("kind") in ("engagement", "event") and entry.reason_params is not None:
        return entry.member_reason  # the rule's name in every language, stored with the entry
    if item.get("rule") in rule_names:
        return rule_names[item["rule"]]
    if item.get("kind") == "tier" and isinstance(label, str):
        name, sep, multiplier = label.rpartition(" x")
        if sep and name in tier_names:
            return f"{tier_names[name]} x{_number(multiplier)}"
    return label


def entry_why(entry: LedgerEntry) -> str:
    """One sentence for an entry without a rule breakdown."""
    kind, reason = entry.kind, entry.member_reason
    Kind = LedgerEntry.Kind
    if kind == Kind.WELCOME:
        return _("A welcome gift for joining the program.")
    if kind == Kind.REDEEM:
        if entry.reference.startswith("rewards.burnhold:"):
            return _("You paid with points at checkout.")
        return _("You redeemed: %(what)s") % {"what": reason} if reason else _("You redeemed a reward.")
    if kind == Kind.REFUND:
        return _("Points given back: %(why)s") % {"why": reason} if reason else _("Points given back.")
    if kind == Kind.REFERRAL:
        if (entry.reason_params or {}).get("nth"):
            return _("A friend you invited made their first purchase (friend no. %(nth)s).") % {
                "nth": entry.reason_params["nth"]
            }
        return _("You joined with a friend's invitation and made your first purchase.")
    if kind == Kind.REVERSE:
        return _("Part of a purchase was refunded, so the points it earned were taken back.")
    if kind == Kind.ENGAGEMENT:
        return _("Reward for: %(what)s") % {"what": reason} if reason else _("Reward for taking part.")
    if kind == Kind.ADJUST:
        return _("Corrected by our team.")
    if kind == Kind.EXPIRE and not reason:
        return _("The points reached their expiry date.")
    return reason or str(entry.get_kind_display())


def entries_explain(
    entries: Iterable[LedgerEntry], program: Program, *, names: tuple[dict, dict] | None = None
) -> list[LedgerEntry]:
    """Set `why_items` (the breakdown with labels in the reader's language, lot bookkeeping left out),
    `why` (a sentence when there is no breakdown) and `why_revision` (the number of the rule revision
    that produced it, or None) on each entry. No query (the rule and tier
    names come from the rules cache; pass `names=why_names(program)` when explaining row by row)."""
    entries = list(entries)
    rule_names, tier_names = names or why_names(program)
    revision_numbers = program_rules(program).revision_numbers
    for entry in entries:
        # Which version of the rules produced it (members.models.RuleRevision), by number.
        entry.why_revision = revision_numbers.get(entry.rule_revision_id)
        entry.why_items = [
            {**item, "label": _label(item, entry, rule_names, tier_names)}
            for item in entry.breakdown or []
            if item.get("label") is not None
        ]
        entry.why = "" if entry.why_items else entry_why(entry)
    return entries
