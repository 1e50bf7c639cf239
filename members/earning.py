"""What earns how many points: the earning rules' quote of a basket (points and a breakdown out)
and the referral reward of a program. Pure: writes nothing.

How rules combine (also in the README):
- base points = eligible amount x program earn rate. The eligible amount is the order total minus
  the part paid with points minus shipping and tax lines minus the lines that an exclusion rule
  matches (gift cards, ...). Only product lines earn; discount lines lower them in proportion;
- category/SKU rules (and promotions restricted to a category or SKU) add (multiplier - 1) x the
  base points of each line they match; promotions and partner rules without a category add
  (multiplier - 1) x the base points of the whole eligible basket; bonus rules add fixed points
  when the eligible amount reaches their minimum;
- a rule tied to a partner applies only to that partner's purchases; a rule with weekdays only on
  those days, one with happy hours only between them (both on the program's clock), and only
  between its start and end;
- stacking, within one scope (a line, the basket, the bonuses): the matching rules are taken by
  priority, highest first. Stackable rules add up. A non-stackable rule never combines with another
  rule of its scope: it applies alone if it comes first, and is skipped otherwise;
- the member's tier, the partner's standing multiplier and a paid plan's multiplier then each
  add (multiplier - 1) x (base + rule points);
- each component is rounded with the program's rounding mode; the total is their sum, never
  below zero.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.utils import timezone

from members.models import EarningRule, MembershipPlan, Partner, Program, Tier
from members.selectors import program_rules
from members.zones import program_zone

ZERO = Decimal("0")
_ROUNDING = {
    Program.Rounding.DOWN: ROUND_FLOOR,
    Program.Rounding.NEAREST: ROUND_HALF_UP,
    Program.Rounding.UP: ROUND_CEILING,
}


@dataclass(frozen=True)
class Line:
    sku: str
    category: str
    amount: Decimal


@dataclass
class Quote:
    points: int = 0
    breakdown: list[dict] = field(default_factory=list)
    eligible_amount: Decimal = ZERO
    revision: int | None = None  # the rule revision quoted (members.models.RuleRevision id)

    def add(self, label: str, points: int, *, kind: str, rule: EarningRule | None = None) -> None:
        if points:
            self.breakdown.append({"kind": kind, "label": label, "points": points, "rule": rule.pk if rule else None})
            self.points += points


def _is_product(item: dict) -> bool:
    return item.get("kind", "product") in ("product", "")


def _line_amount(item: dict) -> Decimal:
    return Decimal(str(item.get("unit_price", 0))) * Decimal(str(item.get("quantity", 1)))


def lines_from_items(items: list[dict]) -> list[Line]:
    """The product lines of a basket (the only ones that earn); shipping, tax and discount lines are not products."""
    return [
        Line(sku=str(item.get("sku", "")), category=str(item.get("category", "")), amount=_line_amount(item))
        for item in items
        if _is_product(item)
    ]


def _not_product_totals(items: list[dict]) -> tuple[Decimal, Decimal]:
    """(shipping + tax, discounts) of a basket; discounts are negative."""
    paid_extra = sum((_line_amount(i) for i in items if i.get("kind") in ("shipping", "tax")), ZERO)
    discounts = sum((_line_amount(i) for i in items if i.get("kind") == "discount"), ZERO)
    return paid_extra, discounts


def _in_hours(rule: EarningRule, hour: int) -> bool:
    if rule.from_hour is None or rule.until_hour is None:
        return True
    if rule.from_hour < rule.until_hour:
        return rule.from_hour <= hour < rule.until_hour
    return hour >= rule.from_hour or hour < rule.until_hour  # past midnight


def rules_in_force(program: Program, at: datetime) -> list[EarningRule]:
    """The program's rules that apply at `at` (dates, weekdays and happy hours on the program's
    clock), from the per-program cache."""
    local = at.astimezone(program_zone(program))
    weekday = str(local.isoweekday())
    return [
        r
        for r in program_rules(program).rules
        if (r.starts_at is None or r.starts_at <= at)
        and (r.ends_at is None or r.ends_at >= at)
        and (not r.weekdays or weekday in r.weekdays.replace(" ", "").split(","))
        and _in_hours(r, local.hour)
    ]


def _round(program: Program, value: Decimal) -> int:
    return int(value.quantize(Decimal("1"), rounding=_ROUNDING[program.rounding]))


def _matches(rule: EarningRule, line: Line) -> bool:
    if rule.sku:
        return rule.sku == line.sku
    return bool(rule.category) and rule.category == line.category


def _pick(rules: list[EarningRule]) -> list[EarningRule]:
    """The rules of one scope that apply: by priority, stackable ones add up; a non-stackable one
    applies alone when it comes first and is skipped when another rule already applies."""
    ordered = sorted(rules, key=lambda r: (-r.priority, r.pk or 0))
    if ordered and not ordered[0].stackable:
        return ordered[:1]
    return [r for r in ordered if r.stackable]


def earn_quote(
    *,
    program: Program,
    amount: Decimal,
    at: datetime,
    items: list[dict] | None = None,
    paid_with_points: Decimal = ZERO,
    tier: Tier | None = None,
    partner: Partner | None = None,
    plan: MembershipPlan | None = None,
    rules: list[EarningRule] | None = None,
) -> Quote:
    rules = rules_in_force(program, at) if rules is None else rules
    rules = [r for r in rules if not r.partner_id or (partner is not None and r.partner_id == partner.pk)]
    lines = lines_from_items(items or [])
    paid_extra, discounts = _not_product_totals(items or [])
    share = Decimal(1)
    products = sum((ln.amount for ln in lines), ZERO)
    if discounts and products > 0:
        # Discount lines lower what the product lines earn, spread over them in proportion.
        share = max(ZERO, (products + discounts) / products)
    if paid_with_points and amount > 0:
        # The part paid with points earns nothing; it is spread over the lines in proportion.
        share *= (amount - paid_with_points) / amount
        paid_extra *= (amount - paid_with_points) / amount
    if share != 1:
        lines = [Line(sku=ln.sku, category=ln.category, amount=ln.amount * share) for ln in lines]
    by_kind: dict[str, list[EarningRule]] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind, []).append(rule)

    exclusions = by_kind.get(EarningRule.Kind.EXCLUSION, [])
    excluded = [ln for ln in lines if any(_matches(r, ln) for r in exclusions)]
    eligible_lines = [ln for ln in lines if ln not in excluded]
    # Shipping and tax are paid but earn nothing.
    earning = amount - paid_with_points - paid_extra - sum((ln.amount for ln in excluded), ZERO)
    eligible = max(ZERO, earning).quantize(Decimal("0.01"))

    quote = Quote(eligible_amount=eligible, revision=program_rules(program).revision_id)
    rate = program.earn_rate
    quote.add(f"{eligible} {program.currency} x {rate.normalize():f}", _round(program, eligible * rate), kind="base")
    for line in excluded:
        quote.breakdown.append({"kind": "excluded", "label": line.sku or line.category, "points": 0, "rule": None})

    line_rules = [
        r
        for r in by_kind.get(EarningRule.Kind.CATEGORY, [])
        + by_kind.get(EarningRule.Kind.SKU, [])
        + [p for p in by_kind.get(EarningRule.Kind.PROMOTION, []) if p.category or p.sku]
    ]
    extras: dict[int, Decimal] = {}
    for line in eligible_lines:
        for rule in _pick([r for r in line_rules if _matches(r, line)]):
            extras[rule.pk] = extras.get(rule.pk, ZERO) + line.amount * rate * (rule.multiplier - 1)

    basket_rules = [p for p in by_kind.get(EarningRule.Kind.PROMOTION, []) if not (p.category or p.sku)]
    basket_rules += [r for r in by_kind.get(EarningRule.Kind.PARTNER, []) if partner is not None]
    for rule in _pick(basket_rules):
        extras[rule.pk] = extras.get(rule.pk, ZERO) + eligible * rate * (rule.multiplier - 1)

    bonuses = [r for r in by_kind.get(EarningRule.Kind.BONUS, []) if eligible >= r.min_amount]
    rules_by_pk = {r.pk: r for r in rules}
    for rule in _pick(bonuses):
        extras[rule.pk] = extras.get(rule.pk, ZERO) + rule.points

    for pk, extra in extras.items():
        rule = rules_by_pk[pk]
        quote.add(rule.name, _round(program, extra), kind=rule.kind, rule=rule)

    subtotal = Decimal(quote.points)
    for label, kind, multiplier in (
        (tier.name if tier else "", "tier", tier.earn_multiplier if tier else None),
        (partner.name if partner else "", "partner", partner.earn_multiplier if partner else None),
        (plan.name if plan else "", "plan", plan.earn_multiplier if plan else None),
    ):
        if multiplier is not None and multiplier != 1:
            quote.add(f"{label} x{multiplier}", _round(program, subtotal * (multiplier - 1)), kind=kind)
    if quote.points < 0:
        quote.add("No negative earning", -quote.points, kind="floor")
    return quote


def referral_points_for(program: Program, nth: int) -> int:
    """Points the referrer gets for their nth successful referral."""
    if program.referral_mode == Program.Referral.SINGLE:
        return program.referral_referrer_points
    if program.referral_mode == Program.Referral.STEPPED:
        points = 0
        for from_count, step_points in sorted(program.referral_steps or []):
            if nth >= from_count:
                points = step_points
        return points
    return 0


@dataclass
class WaysToEarn:
    """What a member can earn and how, for the ways-to-earn page (members.views.ways_to_earn)."""

    program: Program
    bonuses: list[EarningRule]  # purchase rules: category, SKU, partner, promotion, fixed bonus
    exclusions: list[EarningRule]
    actions: list[EarningRule]  # engagement: review, share, survey, profile, birthday
    referral_steps: list[tuple[int, int]]  # (from the nth friend, points each); single mode: one step from 1
    tiers: list[Tier]
    plans: list[MembershipPlan]


def ways_to_earn(program: Program, *, now: datetime | None = None) -> WaysToEarn:
    """The program's earning rules that apply now or later (not those that ended), its referral
    steps, tiers and plans. Three queries (the tiers come from the rules cache)."""
    now = now or timezone.now()
    rules = list(
        EarningRule.objects.filter(program_id=program.pk, is_active=True)
        .exclude(ends_at__lte=now)
        .select_related("partner")
        .order_by("kind", "-priority", "pk")
    )
    by_kind: dict[str, list[EarningRule]] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind, []).append(rule)
    steps: list[tuple[int, int]] = []
    if program.referral_mode == Program.Referral.SINGLE and program.referral_referrer_points:
        steps = [(1, program.referral_referrer_points)]
    elif program.referral_mode == Program.Referral.STEPPED:
        steps = [(int(count), int(points)) for count, points in sorted(program.referral_steps or [])]
    return WaysToEarn(
        program=program,
        bonuses=[r for r in rules if r.kind not in (EarningRule.Kind.ENGAGEMENT, EarningRule.Kind.EXCLUSION)],
        exclusions=by_kind.get(EarningRule.Kind.EXCLUSION, []),
        actions=by_kind.get(EarningRule.Kind.ENGAGEMENT, []),
        referral_steps=steps,
        tiers=[tier for tier in program_rules(program).tiers if not tier.invitation_only],
        plans=list(MembershipPlan.objects.filter(program_id=program.pk, is_active=True).order_by("fee")),
    )
