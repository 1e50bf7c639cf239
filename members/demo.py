"""Demo data for members: a program with tiers, partners, rules, a paid plan and a year of history."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import DateTimeField, ExpressionWrapper, OuterRef, Subquery
from django.utils import timezone

from members import services
from members.api.imports import import_job_create, import_job_run
from members.auth import demo_member_login
from members.loyalty import loyalty_types_recompute
from members.models import (
    CustomEventType,
    EarningRule,
    ImportJob,
    LedgerEntry,
    Member,
    MembershipPlan,
    Partner,
    PointLot,
    PointsPrice,
    Program,
    Purchase,
    Tier,
)
from members.partners.services import partner_key_demo
from members.selectors import add_months

DEMO_SLUG = "demo"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "fidelis-demo"  # noqa: S105 - demo only, printed for the newcomer
CATEGORIES = ["grocery", "coffee", "shoes", "beauty", "electronics", "books", "gift-cards"]
FIRST = ["Ana", "Ion", "Maria", "Luca", "Giulia", "Olga", "Dmitri", "Elena", "Marco", "Irina", "Andrei", "Sofia"]
LAST = ["Popescu", "Rossi", "Ivanova", "Ionescu", "Bianchi", "Smirnov", "Marin", "Ferrari", "Petrov", "Stan"]

# Every stored text members read, in en, ro, it, ru: the browser test checks translated pages
# against this catalog (no English text of it may show on a Romanian, Italian or Russian page).
TIERS = [
    (
        ("Insider", "Insider", "Insider", "Инсайдер"),
        0,
        "1",
        "#6b7280",
        (
            "Birthday gift, member prices",
            "Cadou de ziua ta, prețuri pentru membri",
            "Regalo di compleanno, prezzi riservati",
            "Подарок на день рождения, цены для участников",
        ),
    ),
    (
        ("Silver", "Argint", "Argento", "Серебро"),  # noqa: RUF001 - Russian text
        500,
        "1.25",
        "#94a3b8",
        (
            "25% more stars, free shipping over 30 EUR",
            "Cu 25% mai multe stele, livrare gratuită peste 30 EUR",
            "25% di stelle in più, spedizione gratuita oltre 30 EUR",
            "На 25% больше звёзд, бесплатная доставка от 30 EUR",  # noqa: RUF001 - Russian text
        ),
    ),
    (
        ("Gold", "Aur", "Oro", "Золото"),
        1500,
        "1.5",
        "#d4a017",
        (
            "50% more stars, free shipping, early access to sales",
            "Cu 50% mai multe stele, livrare gratuită, acces anticipat la reduceri",
            "50% di stelle in più, spedizione gratuita, accesso anticipato ai saldi",
            "На 50% больше звёзд, бесплатная доставка, ранний доступ к распродажам",  # noqa: RUF001 - Russian text
        ),
    ),
    (
        ("Platinum", "Platină", "Platino", "Платина"),
        4000,
        "2",
        "#334155",
        (
            "Double stars, personal shopper, exclusive events",
            "Stele duble, consultant personal, evenimente exclusive",
            "Stelle doppie, personal shopper, eventi esclusivi",
            "Двойные звёзды, личный консультант, закрытые мероприятия",
        ),
    ),
]
RULE_NAMES = {
    "gift_cards": (
        "No stars on gift cards",
        "Fără stele pe carduri cadou",
        "Niente stelle sulle carte regalo",
        "Без звёзд за подарочные карты",
    ),
    "shoes": (
        "Double stars on shoes at weekends",
        "Stele duble pe pantofi în weekend",
        "Stelle doppie sulle scarpe nel fine settimana",
        "Двойные звёзды за обувь по выходным",
    ),
    "coffee": (
        "Triple stars on coffee beans",
        "Stele triple pe cafea boabe",
        "Stelle triple sul caffè in grani",
        "Тройные звёзды за кофе в зёрнах",
    ),
    "bonus": (
        "100 bonus stars on orders over 200 EUR",
        "100 de stele bonus la comenzi peste 200 EUR",
        "100 stelle bonus per ordini oltre 200 EUR",
        "100 бонусных звёзд за заказ от 200 EUR",
    ),
    "store": (
        "Downtown Store opening: 1.5x",
        "Deschiderea magazinului din centru: 1,5x",
        "Apertura del negozio in centro: 1,5x",
        "Открытие магазина в центре: 1,5x",
    ),
    "review": ("Product review", "Recenzie de produs", "Recensione di un prodotto", "Отзыв о товаре"),  # noqa: RUF001 - Russian text
    "share": (
        "Share on social media",
        "Distribuire pe rețelele sociale",
        "Condivisione sui social",
        "Публикация в соцсетях",
    ),
    "survey": ("Survey answered", "Sondaj completat", "Sondaggio compilato", "Ответ на опрос"),
    "profile": ("Profile completed", "Profil completat", "Profilo completato", "Профиль заполнен"),
    "birthday": ("Happy birthday", "La mulți ani", "Buon compleanno", "С днём рождения"),  # noqa: RUF001 - Russian text
}
PLAN = {
    "name": ("Fidelis Plus", "Fidelis Plus", "Fidelis Plus", "Fidelis Plus"),
    "perks": (
        "Free shipping on every order, early access to sales, 1.5x stars",
        "Livrare gratuită la fiecare comandă, acces anticipat la reduceri, stele x1,5",
        "Spedizione gratuita su ogni ordine, accesso anticipato ai saldi, stelle x1,5",
        "Бесплатная доставка каждого заказа, ранний доступ к распродажам, звёзды x1,5",
    ),
}


def _translated(field: str, texts: tuple[str, ...]) -> dict[str, str]:
    return {f"{field}_{lang}": text for lang, text in zip(("en", "ro", "it", "ru"), texts, strict=True)}


def stored_texts() -> dict[str, tuple[str, ...]]:
    """The demo's stored texts by key, each (en, ro, it, ru): what a translated page must not show in English."""
    texts = {f"tier:{t[0][0]}": t[0] for t in TIERS} | {f"tier-benefits:{t[0][0]}": t[4] for t in TIERS}
    texts |= {f"rule:{key}": names for key, names in RULE_NAMES.items()}
    return texts | {f"plan:{key}": value for key, value in PLAN.items()}


def demo_program() -> Program | None:
    return Program.objects.filter(slug=DEMO_SLUG).first()


def demo_entries_date(moments: dict[int, datetime]) -> None:
    """Date entries another app's demo recorded today when they would have happened (entry id ->
    moment), as _date_history does for members' own. Demo only: the ledger is otherwise never rewritten."""
    for entry_id, moment in moments.items():
        LedgerEntry.objects.filter(pk=entry_id).update(created_at=moment)


def seed() -> list[str]:
    lines = [_admin_user()]
    program = demo_program()
    if program is None:
        program = _program()
        # The launch rules as revision 1: every purchase of the history below names it.
        services.rule_revision_capture(program=program, author=_admin(), note="Launch rules")
        _members(program)
        _abuse_limits(program)
        _suspect_referral(program)
        _partner_features(program)
        _money(program)
        _household(program)
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
        return f"Admin login: {ADMIN_USERNAME} / {ADMIN_PASSWORD}  ({settings.SITE_URL}/admin/)"
    return f"Admin login: {ADMIN_USERNAME} (password unchanged; the demo default is {ADMIN_PASSWORD})"


def _admin():
    return get_user_model().objects.get(username=ADMIN_USERNAME)


def _program() -> Program:
    program = Program.objects.create(
        name="Fidelis Demo Market",
        slug=DEMO_SLUG,
        is_default=not Program.objects.filter(is_default=True).exists(),
        currency="EUR",
        time_zone="Europe/Bucharest",
        # Loyalty types a little stricter on deals than the defaults (admin: the "Loyalty types" section).
        loyalty_price_share=40,
        loyalty_convenience_min_purchases=5,
        **_translated("points_name", ("stars", "stele", "stelle", "звёзд")),
        **_translated("points_forms", ("star|stars", "stea|stele|de stele", "stella|stelle", "звезда|звезды|звёзд")),
        **_translated("brand_name", ("Demo Market", "Demo Market", "Demo Market", "Демо Маркет")),
        terms_url="https://example.com/demo-market/terms",
        privacy_url="https://example.com/demo-market/privacy",
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
    for level, (names, threshold, mult, color, benefits) in enumerate(TIERS):
        Tier.objects.create(
            program=program,
            **_translated("name", names),
            **_translated("benefits", benefits),
            level=level,
            metric=Tier.Metric.SPEND,
            window=Tier.Window.ROLLING_12,
            threshold=Decimal(threshold),
            earn_multiplier=Decimal(mult),
            color=color,
        )
    store = Partner.objects.create(program=program, name="Downtown Store")
    Partner.objects.create(program=program, name="Web Shop")
    Partner.objects.create(program=program, name="Partner Pharmacy", earn_multiplier=Decimal("0.5"))
    EarningRule.objects.bulk_create(
        [
            EarningRule(
                program=program,
                **_translated("name", RULE_NAMES["gift_cards"]),
                kind=EarningRule.Kind.EXCLUSION,
                category="gift-cards",
            ),
            EarningRule(
                program=program,
                **_translated("name", RULE_NAMES["shoes"]),
                kind=EarningRule.Kind.PROMOTION,
                category="shoes",
                multiplier=Decimal("2"),
                weekdays="6,7",
            ),
            EarningRule(
                program=program,
                **_translated("name", RULE_NAMES["coffee"]),
                kind=EarningRule.Kind.CATEGORY,
                category="coffee",
                multiplier=Decimal("3"),
                stackable=False,
                priority=10,
            ),
            EarningRule(
                program=program,
                **_translated("name", RULE_NAMES["bonus"]),
                kind=EarningRule.Kind.BONUS,
                points=100,
                min_amount=Decimal("200"),
            ),
            EarningRule(
                program=program,
                **_translated("name", RULE_NAMES["store"]),
                kind=EarningRule.Kind.PARTNER,
                partner=store,
                multiplier=Decimal("1.5"),
                ends_at=timezone.now() + timedelta(days=60),
            ),
            EarningRule(
                program=program,
                **_translated("name", RULE_NAMES["review"]),
                kind=EarningRule.Kind.ENGAGEMENT,
                action=EarningRule.Action.REVIEW,
                points=50,
                daily_cap=1,
                lifetime_cap=20,
            ),
            EarningRule(
                program=program,
                **_translated("name", RULE_NAMES["share"]),
                kind=EarningRule.Kind.ENGAGEMENT,
                action=EarningRule.Action.SOCIAL_SHARE,
                points=10,
                daily_cap=3,
            ),
            EarningRule(
                program=program,
                **_translated("name", RULE_NAMES["survey"]),
                kind=EarningRule.Kind.ENGAGEMENT,
                action=EarningRule.Action.SURVEY,
                points=25,
                daily_cap=1,
            ),
            EarningRule(
                program=program,
                **_translated("name", RULE_NAMES["profile"]),
                kind=EarningRule.Kind.ENGAGEMENT,
                action=EarningRule.Action.PROFILE,
                points=50,
                lifetime_cap=1,
            ),
            EarningRule(
                program=program,
                **_translated("name", RULE_NAMES["birthday"]),
                kind=EarningRule.Kind.ENGAGEMENT,
                action=EarningRule.Action.BIRTHDAY,
                points=100,
            ),
        ]
    )
    MembershipPlan.objects.create(
        program=program,
        **_translated("name", PLAN["name"]),
        **_translated("perks", PLAN["perks"]),
        fee=Decimal("49.00"),
        duration_days=365,
        earn_multiplier=Decimal("1.5"),
        free_shipping=True,
        early_access=True,
    )
    return program


def _abuse_limits(program: Program) -> None:
    """Generous daily limits (members.checks), set once the history is in: the whole year was recorded
    today, and the busiest demo member has 21 purchases, so a newcomer's first tries still earn."""
    Program.objects.filter(pk=program.pk).update(
        member_daily_earns=30, member_daily_points=20_000, partner_daily_earns=5_000, partner_daily_points=500_000
    )


def _partner_features(program: Program) -> None:
    """What the partner API's newer writes need to be tried at once: transfers allowed (up to 500 a
    time, 1,000 a day), a custom event type partners report ("store_visit"), and a card for Ana."""
    Program.objects.filter(pk=program.pk).update(transfer_max_points=500, transfer_daily_points=1000)
    CustomEventType.objects.create(
        program=program,
        key="store_visit",
        points=10,
        daily_cap=1,
        **_translated("name", ("Store visit", "Vizită în magazin", "Visita in negozio", "Посещение магазина")),
    )
    services.card_issue(member=program.members.get(email="ana@example.com"), source="demo")


OPENING_CSV = (
    "email,first_name,last_name,points,expires_at,earned_at,reference\n"
    "mara.vlad@example.com,Mara,Vlad,1200,{later},2025-11-02,OLD-1001\n"
    "mara.vlad@example.com,Mara,Vlad,300,{soon},2025-06-14,OLD-1002\n"
    "dan.moraru@example.com,Dan,Moraru,450,{later},2025-09-30,OLD-1003\n"
)


def _money(program: Program) -> None:
    """Purchases in other currencies (USD and RON rates, one purchase of Ana's in dollars), points
    sold (a partner's sale to Ana; the member page sells only once staff give the program a payment
    page) and an opening-balances import of two members moving from the old platform."""
    today = timezone.localdate()
    for currency, rates in (("USD", ((365, "0.9100"), (30, "0.9250"))), ("RON", ((365, "0.2010"),))):
        for days_ago, rate in rates:
            services.exchange_rate_set(
                program=program, currency=currency, valid_from=today - timedelta(days=days_ago), rate=Decimal(rate)
            )
    ana = program.members.get(email="ana@example.com")
    partner = program.partners.order_by("pk").first()
    dollars, _ = services.purchase_record(
        member=ana, partner=partner, external_id="DEMO-USD-1", amount=Decimal("64.00"), currency="USD"
    )
    # Dated at the purchase like the rest of the demo's history (_date_history).
    LedgerEntry.objects.filter(purchase=dollars).update(created_at=dollars.occurred_at)
    PointsPrice.objects.create(program=program, price=Decimal("1.00"), block=100, min_points=100, max_points=5000)
    services.points_sell(member=ana, points=500, payment_reference="DEMO-TILL-0001", partner=partner)
    content = OPENING_CSV.format(soon=today + timedelta(days=60), later=today + timedelta(days=365))
    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    job = import_job_create(
        partner=None, program=program, kind=ImportJob.Kind.OPENING_BALANCES, content=content, created_by=admin
    )
    while import_job_run(job_id=job.pk):
        pass


def _household(program: Program) -> None:
    """Households allowed (up to 4 members, partner redemptions from the pool by default), and Ana's:
    she invited the second demo member, who accepted."""
    Program.objects.filter(pk=program.pk).update(household_max_members=4, household_pool_default=True)
    program.refresh_from_db()
    ana = program.members.get(email="ana@example.com")
    partner = program.members.exclude(pk=ana.pk).order_by("pk").first()
    services.household_create(member=ana, name="Ana's household")
    invitation = services.household_invite(member=program.members.get(pk=ana.pk), invitee=partner.number)
    services.household_invitation_accept(invitation=invitation, member=partner)


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


def _date_history(program: Program) -> None:
    """The year of history was recorded today: date each entry (and its lot) when it happened, as if
    the program had run live: a purchase's entries at the purchase, the welcome gift at enrolment,
    a review a few days after joining. Demo only: the ledger is otherwise never rewritten."""
    entries = LedgerEntry.objects.filter(program=program)
    at_purchase = Subquery(Purchase.objects.filter(pk=OuterRef("purchase_id")).values("occurred_at")[:1])
    entries.filter(purchase__isnull=False).update(created_at=at_purchase)
    joined = Subquery(Member.objects.filter(pk=OuterRef("member_id")).values("enrolled_at")[:1])
    entries.filter(kind=LedgerEntry.Kind.WELCOME).update(created_at=joined)
    entries.filter(kind=LedgerEntry.Kind.ENGAGEMENT).update(
        created_at=ExpressionWrapper(joined + timedelta(days=3), output_field=DateTimeField())
    )
    lots = PointLot.objects.filter(entry__program=program)
    entry_at = Subquery(LedgerEntry.objects.filter(pk=OuterRef("entry_id")).values("created_at")[:1])
    lots.update(available_at=entry_at)
    if program.expiry_policy == Program.Expiry.FIXED:
        # Expiry counts from the earning date; the demo's year is within its 24 months, so no lot
        # becomes due and every balance stays what the ledger says.
        dated = list(lots.select_related("entry").only("id", "entry__created_at"))
        for lot in dated:
            lot.expires_at = add_months(lot.entry.created_at, program.expiry_months)
        PointLot.objects.bulk_update(dated, ["expires_at"], batch_size=500)


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
            # Members abroad choose their zone (quiet hours, birthdays); the rest live on the program's.
            time_zone={2: "Europe/Rome", 3: "Europe/Moscow"}.get(i % 4, ""),
            consent_email=rng.random() < 0.8,
            consent_sms=rng.random() < 0.4,
            referral_code=referrer.referral_code if referrer else "",
        )
        members.append(member)
    # The year of history is imported today: the customers joined before it, and its purchases are
    # dated up to a year back and are past their return window (partners may back-date 30 days, and
    # the return window counts from recording, so the program allows it only while the history loads).
    # They joined over the year, one every few days, so the enrolment chart has twelve months.
    joined_days_ago = {member.pk: 365 - i * 6 for i, member in enumerate(members)}
    for member in members:
        member.enrolled_at = now - timedelta(days=joined_days_ago[member.pk], hours=rng.randint(0, 10))
    Member.objects.bulk_update(members, ["enrolled_at"])
    Program.objects.filter(pk=program.pk).update(backdate_days=366, pending_days=0)
    program.refresh_from_db()
    for member in members:
        # Spend varies a lot, like real customers: a few whales, many occasional shoppers.
        visits = rng.choice([0, 1, 2, 3, 5, 8, 13, 21])
        bargain_hunter = rng.random() < 0.2
        for v in range(visits):
            days_ago = rng.randint(0, joined_days_ago[member.pk] - 1)
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
    _date_history(program)
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
