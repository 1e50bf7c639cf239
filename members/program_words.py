"""A program's rules said in words, in the active language (the partner API's `Accept-Language`):
earning rules, the base rate, expiry and tier qualification. Pure: reads the objects it is given."""

from datetime import datetime
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.models import EarningRule, Program, Tier


def _number(value: Decimal) -> str:
    """2.00 -> "2", 1.50 -> "1.5"."""
    return format(value.normalize(), "f")


def _money(value: Decimal, program: Program) -> str:
    return f"{value.quantize(Decimal('0.01'))} {program.currency}"


def _date(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")


def earning_in_words(program: Program) -> str:
    return _("%(points)s %(points_name)s per 1 %(currency)s spent") % {
        "points": _number(program.earn_rate),
        "points_name": program.points_name,
        "currency": program.currency,
    }


def expiry_in_words(program: Program) -> str:
    if program.expiry_policy == Program.Expiry.FIXED:
        return _("Points expire %(months)d months after they are earned, oldest first.") % {
            "months": program.expiry_months
        }
    if program.expiry_policy == Program.Expiry.INACTIVITY:
        return _("All points expire after %(months)d months without activity.") % {"months": program.expiry_months}
    return _("Points never expire.")


def tier_in_words(tier: Tier, program: Program) -> str:
    if tier.level == 0 and not tier.threshold:
        return _("Every member starts here.")
    target = {
        Tier.Metric.SPEND: lambda: _("Spend %(amount)s") % {"amount": _money(tier.threshold, program)},
        Tier.Metric.POINTS: lambda: (
            _("Earn %(points)s %(points_name)s")
            % {"points": _number(tier.threshold), "points_name": program.points_name}
        ),
        Tier.Metric.REFERRALS: lambda: _("Refer %(count)s new members") % {"count": _number(tier.threshold)},
    }[tier.metric]()
    window = {
        Tier.Window.CALENDAR_YEAR: _("in a calendar year"),
        Tier.Window.ROLLING_12: _("in the last 12 months"),
        Tier.Window.LIFETIME: _("in all"),
    }[tier.window]
    words = f"{target} {window}."
    if tier.invitation_only:
        words += " " + _("By invitation only.")
    return words


def _what(rule: EarningRule, program: Program) -> str:
    values = {
        "multiplier": _number(rule.multiplier),
        "points": rule.points,
        "points_name": program.points_name,
        "category": rule.category,
        "sku": rule.sku,
        "partner": rule.partner.name if rule.partner_id else "",
        "action": rule.get_action_display(),
    }
    kind = EarningRule.Kind
    if rule.kind == kind.EXCLUSION:
        if rule.sku:
            return _("No %(points_name)s on the product %(sku)s") % values
        return _("No %(points_name)s on the category %(category)s") % values
    if rule.kind == kind.BONUS:
        return _("%(points)s bonus %(points_name)s on a purchase") % values
    if rule.kind == kind.ENGAGEMENT:
        return _("%(points)s %(points_name)s for: %(action)s") % values
    if rule.kind == kind.PARTNER:
        return _("%(multiplier)s times the %(points_name)s on purchases at %(partner)s") % values
    if rule.kind == kind.PROMOTION:
        return _("%(multiplier)s times the %(points_name)s on the whole basket") % values
    if rule.sku:
        return _("%(multiplier)s times the %(points_name)s on the product %(sku)s") % values
    return _("%(multiplier)s times the %(points_name)s on the category %(category)s") % values


def rule_in_words(rule: EarningRule, program: Program) -> str:
    """One sentence: what the rule gives, then its conditions (minimum, caps, dates, weekdays)."""
    parts = [_what(rule, program)]
    if rule.min_amount:
        parts.append(_("from %(amount)s") % {"amount": _money(rule.min_amount, program)})
    if rule.daily_cap:
        parts.append(
            ngettext("at most %(count)d time a day", "at most %(count)d times a day", rule.daily_cap)
            % {"count": rule.daily_cap}
        )
    if rule.lifetime_cap:
        parts.append(
            ngettext("at most %(count)d time in all", "at most %(count)d times in all", rule.lifetime_cap)
            % {"count": rule.lifetime_cap}
        )
    if rule.starts_at:
        parts.append(_("from %(date)s") % {"date": _date(rule.starts_at)})
    if rule.ends_at:
        parts.append(_("until %(date)s") % {"date": _date(rule.ends_at)})
    days = [d for d in rule.weekdays.replace(" ", "").split(",") if d.isdigit() and 1 <= int(d) <= 7]
    if days:
        parts.append(_("on %(days)s") % {"days": ", ".join(str(WEEKDAYS[int(d) - 1]) for d in days)})
    return ", ".join(parts) + "."
