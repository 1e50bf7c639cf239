"""Demo data for members: a program with tiers, partners, rules, a paid plan and a year of history."""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from members import services
from members.auth import demo_member_login
from members.loyalty import loyalty_types_recompute
from members.models import EarningRule, Member, MembershipPlan, Partner, Program, Tier
from members.partners.services import partner_key_demo

DEMO_SLUG = "demo"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "fidelis-demo"  # noqa: S105 - demo only, printed for the newcomer
CATEGORIES = ["grocery", "coffee", "shoes", "beauty", "electronics", "books", "gift-cards"]
FIRST = ["Ana", "Ion", "Maria", "Luca", "Giulia", "Olga", "Dmitri", "Elena", "Marco", "Irina", "Andrei", "Sofia"]
LAST = ["Popescu", "Rossi", "Ivanova", "Ionescu", "Bianchi", "Smirnov", "Marin", "Ferrari", "Petrov", "Stan"]


def demo_program() -> Program | None:
    return Program.objects.filter(slug=DEMO_SLUG).first()


def seed() -> list[str]:
    lines = [_admin_user()]
    program = demo_program()
    if program is None:
        program = _program()
        _members(program)
        _abuse_limits(program)
        _suspect_referral(program)
        lines.append(f"Created demo program '{program.name}' with {program.members.count()} members.")
    else:
        lines.append(f"Demo program '{program.name}' already present ({program.members.count()} members).")
    # A fresh key each run (the previous demo key is revoked): only hashes are stored.
    lines.append(partner_key_demo(partner=program.partners.order_by("pk").first()))
    lines.append(demo_member_login(program=program))  # member pages: a password for ana@example.com
    return lines


def _admin_user() -> str:
    User = get_user_model()
    if not User.objects.filter(username=ADMIN_USERNAME).exists():
        User.objects.create_superuser(ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD)
        return f"Admin login: {ADMIN_USERNAME} / {ADMIN_PASSWORD}  (http://127.0.0.1:8000/admin/)"
    return f"Admin login: {ADMIN_USERNAME} (password unchanged; the demo default is {ADMIN_PASSWORD})"


def _program() -> Program:
    program = Program.objects.create(
        name="Fidelis Demo Market",
        slug=DEMO_SLUG,
        is_default=not Program.objects.filter(is_default=True).exists(),
        currency="EUR",
        points_name_en="stars",
        points_name_ro="stele",
        points_name_it="stelle",
        points_name_ru="звёзды",
        earn_rate=Decimal("1"),
        welcome_bonus=200,
        pending_days=14,
        expiry_policy=Program.Expiry.FIXED,
        expiry_months=24,
        referral_mode=Program.Referral.STEPPED,
        referral_referee_points=100,
        referral_steps=[[1, 150], [3, 250], [5, 400]],
        referral_min_purchase=Decimal("20"),
        burn_rate=Decimal("0.01"),
        burn_min_order=Decimal("30"),
    )
    for level, (name, threshold, mult, color, benefits) in enumerate(
        [
            ("Insider", 0, "1", "#6b7280", "Birthday gift, member prices"),
            ("Silver", 500, "1.25", "#94a3b8", "25% more stars, free shipping over 30 EUR"),
            ("Gold", 1500, "1.5", "#d4a017", "50% more stars, free shipping, early access to sales"),
            ("Platinum", 4000, "2", "#334155", "Double stars, personal shopper, exclusive events"),
        ]
    ):
        Tier.objects.create(
            program=program,
            name=name,
            level=level,
            metric=Tier.Metric.SPEND,
            window=Tier.Window.ROLLING_12,
            threshold=Decimal(threshold),
            earn_multiplier=Decimal(mult),
            color=color,
            benefits=benefits,
        )
    store = Partner.objects.create(program=program, name="Downtown Store")
    Partner.objects.create(program=program, name="Web Shop")
    Partner.objects.create(program=program, name="Partner Pharmacy", earn_multiplier=Decimal("0.5"))
    EarningRule.objects.bulk_create(
        [
            EarningRule(
                program=program, name="No stars on gift cards", kind=EarningRule.Kind.EXCLUSION, category="gift-cards"
            ),
            EarningRule(
                program=program,
                name="Double stars on shoes at weekends",
                kind=EarningRule.Kind.PROMOTION,
                category="shoes",
                multiplier=Decimal("2"),
                weekdays="6,7",
            ),
            EarningRule(
                program=program,
                name="Triple stars on coffee beans",
                kind=EarningRule.Kind.CATEGORY,
                category="coffee",
                multiplier=Decimal("3"),
                stackable=False,
                priority=10,
            ),
            EarningRule(
                program=program,
                name="100 bonus stars on orders over 200 EUR",
                kind=EarningRule.Kind.BONUS,
                points=100,
                min_amount=Decimal("200"),
            ),
            EarningRule(
                program=program,
                name="Downtown Store opening: 1.5x",
                kind=EarningRule.Kind.PARTNER,
                partner=store,
                multiplier=Decimal("1.5"),
                ends_at=timezone.now() + timedelta(days=60),
            ),
            EarningRule(
                program=program,
                name="Product review",
                kind=EarningRule.Kind.ENGAGEMENT,
                action=EarningRule.Action.REVIEW,
                points=50,
                daily_cap=1,
                lifetime_cap=20,
            ),
            EarningRule(
                program=program,
                name="Share on social media",
                kind=EarningRule.Kind.ENGAGEMENT,
                action=EarningRule.Action.SOCIAL_SHARE,
                points=10,
                daily_cap=3,
            ),
            EarningRule(
                program=program,
                name="Survey answered",
                kind=EarningRule.Kind.ENGAGEMENT,
                action=EarningRule.Action.SURVEY,
                points=25,
                daily_cap=1,
            ),
            EarningRule(
                program=program,
                name="Profile completed",
                kind=EarningRule.Kind.ENGAGEMENT,
                action=EarningRule.Action.PROFILE,
                points=50,
                lifetime_cap=1,
            ),
            EarningRule(
                program=program,
                name="Happy birthday",
                kind=EarningRule.Kind.ENGAGEMENT,
                action=EarningRule.Action.BIRTHDAY,
                points=100,
            ),
        ]
    )
    MembershipPlan.objects.create(
        program=program,
        name="Fidelis Plus",
        fee=Decimal("49.00"),
        duration_days=365,
        earn_multiplier=Decimal("1.5"),
        free_shipping=True,
        early_access=True,
        perks="Free shipping on every order, early access to sales, 1.5x stars",
    )
    return program


def _abuse_limits(program: Program) -> None:
    """Generous daily limits (members.checks), set once the history is in: the whole year was recorded
    today, and the busiest demo member has 21 purchases, so a newcomer's first tries still earn."""
    Program.objects.filter(pk=program.pk).update(
        member_daily_earns=30, member_daily_points=20_000, partner_daily_earns=5_000, partner_daily_points=500_000
    )


def _suspect_referral(program: Program) -> None:
    """One case waiting in admin > Review cases: Ana "refers" herself through a +tag address."""
    ana = program.members.get(email="ana@example.com")
    services.member_enroll(
        program=program,
        email="ana+friend@example.com",
        first_name="Anna",
        last_name="P.",
        referral_code=ana.referral_code,
    )


def _members(program: Program) -> None:
    rng = random.Random(42)  # the same demo every time
    partners = list(program.partners.all())
    now = timezone.now()
    members: list[Member] = []
    for i in range(60):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        referrer = members[rng.randrange(len(members))] if members and rng.random() < 0.2 else None
        email = "ana@example.com" if i == 0 else f"{first.lower()}.{last.lower()}{i}@example.com"
        member = services.member_enroll(
            program=program,
            email=email,
            first_name=first,
            last_name=last,
            phone=f"+4072{i:07d}",
            birth_date=date(1960 + rng.randrange(45), rng.randint(1, 12), rng.randint(1, 28)),
            language=["en", "ro", "it", "ru"][i % 4],
            consent_email=rng.random() < 0.8,
            consent_sms=rng.random() < 0.4,
            referral_code=referrer.referral_code if referrer else "",
        )
        members.append(member)
    # The year of history is imported today: the customers joined before it, and its purchases are
    # dated up to a year back and are past their return window (partners may back-date 30 days, and
    # the return window counts from recording, so the program allows it only while the history loads).
    Member.objects.filter(pk__in=[m.pk for m in members]).update(enrolled_at=now - timedelta(days=400))
    for member in members:
        member.enrolled_at = now - timedelta(days=400)
    Program.objects.filter(pk=program.pk).update(backdate_days=366, pending_days=0)
    program.refresh_from_db()
    for member in members:
        # Spend varies a lot, like real customers: a few whales, many occasional shoppers.
        visits = rng.choice([0, 1, 2, 3, 5, 8, 13, 21])
        bargain_hunter = rng.random() < 0.2
        for v in range(visits):
            days_ago = rng.randint(0, 360)
            basket = [
                {
                    "sku": f"SKU-{rng.randint(100, 999)}",
                    "category": rng.choice(CATEGORIES),
                    "quantity": rng.randint(1, 3),
                    "unit_price": str(Decimal(rng.randint(500, 9000)) / 100),
                }
                for _ in range(rng.randint(1, 4))
            ]
            amount = sum(Decimal(item["unit_price"]) * item["quantity"] for item in basket)
            discounted = rng.random() < (0.7 if bargain_hunter else 0.1)
            purchase, _ = services.purchase_record(
                member=member,
                partner=rng.choice(partners),
                external_id=f"DEMO-{member.number}-{v}",
                amount=amount,
                currency="EUR",
                occurred_at=now - timedelta(days=days_ago, hours=rng.randint(0, 12)),
                items=basket,
                discount_amount=(amount * Decimal("0.1")).quantize(Decimal("0.01")) if discounted else Decimal("0"),
            )
            if rng.random() < 0.05:
                services.purchase_reverse(purchase=purchase, amount=(amount / 2).quantize(Decimal("0.01")))
    Program.objects.filter(pk=program.pk).update(backdate_days=30, pending_days=14)
    program.refresh_from_db()
    services.points_release_pending()
    for member in members[::4]:
        services.points_engage(member=member, action=EarningRule.Action.REVIEW, reference="demo-review")
    for member in members:
        member.refresh_from_db(fields=["points_available"])
        if member.points_available >= 300 and rng.random() < 0.5:
            services.points_spend(member=member, points=member.points_available * 3 // 4, reason="Demo voucher")
    plan = program.plans.first()
    for member in members[1::9]:
        services.plan_subscribe(member=member, plan=plan, paid_by="demo", payment_reference=f"demo-{member.number}")
    # Two members asked for the plan on /membership/ and have not paid: no perks until staff record
    # the payment (admin → Subscriptions → "Record the payment") or a partner posts it.
    for member in members[5::29][:2]:
        services.plan_subscribe(member=member, plan=plan, paid_by="member")
    for member in members[2::11]:
        services.member_nps_set(member=member, score=rng.choice([6, 8, 9, 10]))
    loyalty_types_recompute()
