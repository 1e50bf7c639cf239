"""Demo data for rewards: a catalog of every kind, causes, imported gift cards, surprise rules,
challenges with badges, and some redemptions, vouchers used at the till and a staff surprise."""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.errors import DomainError
from members import services as members_services
from members.demo import ADMIN_USERNAME, demo_program
from members.models import Program
from rewards import services
from rewards.models import Badge, Cause, Challenge, Reward, SurpriseRule

# (kind, en, ro, it, ru, points, value, extra fields)
CATALOG = [
    (
        Reward.Kind.PERCENT_DISCOUNT,
        (
            "10% off your next order",
            "10% reducere la următoarea comandă",
            "10% di sconto sul prossimo ordine",
            "Скидка 10% на следующий заказ",
        ),
        500,
        "5",
        {"percent": Decimal("10"), "min_order_value": Decimal("30"), "is_featured": True, "category": "discounts"},
    ),
    (
        Reward.Kind.FIXED_DISCOUNT,
        ("5 EUR voucher", "Voucher de 5 EUR", "Buono da 5 EUR", "Купон на 5 EUR"),
        500,
        "5",
        {"category": "discounts", "min_order_value": Decimal("20")},
    ),
    (
        Reward.Kind.FIXED_DISCOUNT,
        ("15 EUR voucher", "Voucher de 15 EUR", "Buono da 15 EUR", "Купон на 15 EUR"),
        1400,
        "15",
        {"category": "discounts", "min_order_value": Decimal("60"), "limit_per_period": 1},
    ),
    (
        Reward.Kind.FREE_SHIPPING,
        ("Free shipping", "Livrare gratuită", "Spedizione gratuita", "Бесплатная доставка"),
        250,
        "4.99",
        {"category": "shipping", "voucher_valid_days": 60},
    ),
    (
        Reward.Kind.FREE_PRODUCT,
        ("A coffee on us", "O cafea din partea noastră", "Un caffè offerto da noi", "Кофе за наш счёт"),
        150,
        "3",
        {"category": "coffee", "limit_per_period": 1, "limit_period": Reward.Period.WEEK, "voucher_valid_days": 7},
    ),
    (
        Reward.Kind.FREE_PRODUCT,
        ("Canvas tote bag", "Geantă de pânză", "Borsa di tela", "Холщовая сумка"),
        800,
        "8",
        {"category": "gifts", "stock": 50, "limit_per_member": 1},
    ),
    (
        Reward.Kind.EXCLUSIVE,
        (
            "Early access: summer collection",
            "Acces anticipat: colecția de vară",
            "Accesso anticipato: collezione estiva",
            "Ранний доступ: летняя коллекция",
        ),
        300,
        "0",
        {"category": "exclusive", "is_featured": True, "limit_per_member": 1},
    ),
    (
        Reward.Kind.EXCLUSIVE,
        (
            "Limited-edition sneakers",
            "Adidași ediție limitată",
            "Sneakers in edizione limitata",
            "Кроссовки ограниченной серии",
        ),
        3000,
        "60",
        # On sale in a week; paid members (the plan has early access) may redeem them already.
        {"category": "exclusive", "members_only": True, "stock": 5, "limit_per_member": 1, "early_access": True},
    ),
    (
        Reward.Kind.EXPERIENCE,
        (
            "Coffee tasting workshop",
            "Atelier de degustare a cafelei",
            "Laboratorio di degustazione del caffè",
            "Мастер-класс по дегустации кофе",
        ),
        1200,
        "25",
        {"category": "events", "stock": 12, "limit_per_member": 1, "event_place": "Downtown Store, 1st floor"},
    ),
]
GIFT_CARD = (
    "Partner gift card 20 EUR",
    "Card cadou partener 20 EUR",
    "Carta regalo partner 20 EUR",
    "Подарочная карта партнёра 20 EUR",
)
CAUSES = [
    ("Food Bank", "Banca de alimente", "Banco alimentare", "Продовольственный банк", 100, "1"),
    ("Clean Seas", "Mări curate", "Mari puliti", "Чистые моря", 500, "5"),
]


def seed() -> list[str]:
    program = demo_program()
    if program is None:
        return ["Rewards: no demo program, nothing to add."]
    if program.rewards.exists():
        return [f"Rewards catalog already present ({program.rewards.count()} rewards)."]
    now = timezone.now()
    rewards = _catalog(program, now)
    badges, challenges = _challenges(program, now)
    rules = _rules(program, rewards)
    counts = _activity(program, rewards)
    revisions = _rule_revisions(program, rewards)
    return [
        f"Rewards: {len(rewards)} rewards of every kind, {program.causes.count()} causes, {len(rules)} surprise rules, "
        f"{len(challenges)} challenges, {len(badges)} badges.",
        f"Rewards: {counts['redeemed']} redemptions, {counts['consumed']} vouchers used, "
        f"{counts['surprises']} staff surprises.",
        f"Rule revisions: {revisions} (admin > Rule revisions: history, simulation, the scheduled draft).",
    ]


def _rule_revisions(program: Program, rewards: dict[str, Reward]) -> str:
    """The history of the rules after revision 1 (members' launch rules): the catalog's prices
    recorded, a published change of the coffee rule and a price, and a draft scheduled next week
    that raises the top tier's threshold and the base rate. Runs with the catalog, so once."""
    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    members_services.rule_revision_capture(program=program, author=admin, note="Catalog prices of the launch")
    coffee = program.earning_rules.get(category="coffee")
    voucher = max(rewards.values(), key=lambda r: r.points_cost)
    autumn = members_services.rule_revision_draft_create(
        program=program, author=admin, note="Coffee x2.5 instead of x3; a cheaper big voucher"
    )
    members_services.rule_revision_draft_update(
        revision=autumn,
        values={
            "rules": {coffee.pk: {"multiplier": "2.5"}},
            "prices": {voucher.pk: {"points_cost": voucher.points_cost - 100}},
        },
        author=admin,
    )
    members_services.rule_revision_publish(revision=autumn, actor=admin)
    top = program.tiers.order_by("-level").first()
    spring = members_services.rule_revision_draft_create(
        program=program, author=admin, note="Spring: 1.1 points per EUR, the top tier 10% harder"
    )
    members_services.rule_revision_draft_update(
        revision=spring,
        values={
            "program": {program.pk: {"earn_rate": "1.1"}},
            "tiers": {top.pk: {"threshold": str((top.threshold * Decimal("1.1")).quantize(Decimal("1")))}},
        },
        author=admin,
    )
    spring = members_services.rule_revision_schedule(
        revision=spring, effective_at=timezone.now() + timedelta(days=7), actor=admin
    )
    return f"3 published, r{spring.number} scheduled for {spring.effective_at:%Y-%m-%d}"


def _translated(field: str, texts: tuple[str, ...]) -> dict[str, str]:
    return {f"{field}_{lang}": text for lang, text in zip(("en", "ro", "it", "ru"), texts, strict=True)}


def reward_description(titles: tuple[str, ...]) -> tuple[str, ...]:
    """A catalog reward's description in en, ro, it, ru (the browser test checks none shows in English)."""
    en, ro, it, ru = titles
    return (
        f"{en}. Redeem it with your stars and show the code at the till or online.",
        f"{ro}. Folosește-ți stelele și arată codul la casă sau online.",
        f"{it}. Riscattalo con le tue stelle e mostra il codice alla cassa o online.",
        f"{ru}. Обменяйте звёзды и покажите код на кассе или онлайн.",
    )


def _catalog(program: Program, now) -> dict[str, Reward]:
    rewards = {}
    gold_and_up = list(program.tiers.filter(level__gte=2))
    for kind, titles, points, value, extra in CATALOG:
        extra = dict(extra)
        if extra.get("early_access"):
            extra["starts_at"] = now + timedelta(days=7)
        if kind == Reward.Kind.EXPERIENCE:
            extra["event_at"] = (now + timedelta(days=21)).replace(hour=18, minute=0, second=0, microsecond=0)
        reward = Reward.objects.create(
            program=program,
            kind=kind,
            points_cost=points,
            value=Decimal(value),
            **_translated("description", reward_description(titles)),
            **_translated("title", titles),
            **extra,
        )
        if titles[0].startswith("Early access"):
            reward.tiers.set(gold_and_up)
        rewards[titles[0]] = reward
    for en, ro, it, ru, points, value in CAUSES:
        cause = Cause.objects.create(
            program=program,
            **_translated("name", (en, ro, it, ru)),
            **_translated(
                "description",
                (
                    f"Every donation goes in full to {en}.",
                    f"Fiecare donație ajunge integral la {ro}.",
                    f"Ogni donazione va interamente a {it}.",
                    f"Каждое пожертвование целиком получает {ru}.",
                ),
            ),
        )
        rewards[en] = Reward.objects.create(
            program=program,
            kind=Reward.Kind.CHARITY,
            cause=cause,
            points_cost=points,
            value=Decimal(value),
            category="charity",
            **_translated(
                "title",
                (
                    f"Donate {value} EUR to {en}",
                    f"Donează {value} EUR pentru {ro}",
                    f"Dona {value} EUR a {it}",
                    f"Пожертвовать {value} EUR: {ru}",
                ),
            ),
        )
    gift_card = Reward.objects.create(
        program=program,
        kind=Reward.Kind.FIXED_DISCOUNT,
        points_cost=1800,
        value=Decimal("20"),
        category="gift-cards",
        voucher_valid_days=365,
        **_translated("title", GIFT_CARD),
    )
    rng = random.Random(7)
    codes = ["code", *(f"PGC-{rng.randrange(10**8):08d}" for _ in range(25))]
    services.voucher_codes_import(reward=gift_card, data="\n".join(codes))
    rewards[GIFT_CARD[0]] = gift_card
    return rewards


# (badge icon, badge names, challenge titles, descriptions, metric, target, days, points); texts in en, ro, it, ru
CHALLENGES = [
    (
        "☕",
        ("Regular", "Client fidel", "Cliente abituale", "Завсегдатай"),
        ("Three visits", "Trei vizite", "Tre visite", "Три визита"),
        (
            "Shop three times before the challenge ends.",
            "Fă trei cumpărături înainte de finalul provocării.",
            "Fai tre acquisti prima della fine della sfida.",
            "Сделайте три покупки до конца испытания.",
        ),
        Challenge.Metric.PURCHASES,
        3,
        45,
        150,
    ),
    (
        "🧭",
        ("Explorer", "Explorator", "Esploratore", "Исследователь"),
        ("Explore four departments", "Explorează patru raioane", "Esplora quattro reparti", "Четыре отдела"),
        (
            "Buy from four different departments.",
            "Cumpără din patru raioane diferite.",
            "Acquista in quattro reparti diversi.",
            "Купите товары в четырёх разных отделах.",
        ),
        Challenge.Metric.CATEGORIES,
        4,
        60,
        0,
    ),
    (
        "✍️",
        ("Critic", "Critic", "Critico", "Критик"),
        ("Review two products", "Recenzează două produse", "Recensisci due prodotti", "Два отзыва"),
        (
            "Review two products you bought.",
            "Scrie recenzii pentru două produse cumpărate.",
            "Recensisci due prodotti che hai acquistato.",
            "Напишите отзывы о двух купленных товарах.",  # noqa: RUF001 - Russian text
        ),
        Challenge.Metric.REVIEWS,
        2,
        90,
        100,
    ),
]


def _challenges(program: Program, now) -> tuple[list[Badge], list[Challenge]]:
    start = now - timedelta(days=20)
    badges, challenges = [], []
    for icon, badge_names, titles, description, metric, target, days, points in CHALLENGES:
        badge = Badge.objects.create(program=program, icon=icon, **_translated("name", badge_names))
        badges.append(badge)
        challenges.append(
            Challenge.objects.create(
                program=program,
                metric=metric,
                target=Decimal(target),
                starts_at=start,
                ends_at=start + timedelta(days=days),
                points=points,
                badge=badge,
                **_translated("description", description),
                **_translated("title", titles),
            )
        )
    # The purchases of the last weeks happened before the challenges existed: count them as the
    # purchase handler would have.
    for member in program.members.all():
        for purchase in member.purchases.filter(occurred_at__gte=start).order_by("occurred_at"):
            services.challenge_progress_on_purchase(purchase=purchase)
    return badges, challenges


def _rules(program: Program, rewards: dict[str, Reward]) -> list[SurpriseRule]:
    specs = [
        (
            "10th purchase: a coffee on us",
            SurpriseRule.Trigger.NTH_PURCHASE,
            10,
            "A coffee on us",
            False,
            (
                "Ten visits! The next coffee is on us.",
                "Zece vizite! Următoarea cafea e din partea noastră.",
                "Dieci visite! Il prossimo caffè lo offriamo noi.",
                "Десять визитов! Следующий кофе за наш счёт.",
            ),
        ),
        (
            "Welcome back after 90 days",
            SurpriseRule.Trigger.COMEBACK,
            90,
            "5 EUR voucher",
            True,
            (
                "We missed you! Here are 5 EUR for your next order.",
                "Ne-ai lipsit! Iată 5 EUR pentru următoarea comandă.",
                "Ci sei mancato! Ecco 5 EUR per il prossimo ordine.",
                "Мы скучали! Вот 5 EUR на следующий заказ.",
            ),
        ),
        (
            "Membership anniversary",
            SurpriseRule.Trigger.ANNIVERSARY,
            1,
            "Free shipping",
            True,
            (
                "Happy anniversary! Free shipping on us.",
                "La mulți ani de membru! Livrarea e din partea noastră.",
                "Buon anniversario! La spedizione la offriamo noi.",
                "С годовщиной! Доставка за наш счёт.",  # noqa: RUF001 - Russian text
            ),
        ),
    ]
    return [
        SurpriseRule.objects.create(
            program=program,
            name=name,
            trigger=trigger,
            n=n,
            reward=rewards[reward],
            repeatable=repeat,
            **_translated("message", message),
        )
        for name, trigger, n, reward, repeat, message in specs
    ]


def _activity(program: Program, rewards: dict[str, Reward]) -> dict[str, int]:
    rng = random.Random(11)
    partners = list(program.partners.all())
    counts = {"redeemed": 0, "consumed": 0, "surprises": 0}
    choices = [r for r in rewards.values() if r.kind != Reward.Kind.EXPERIENCE or r.stock]
    # Ana is who newcomers sign in as (and the cluster check's buyer): her points stay for them to spend.
    spenders = program.members.filter(points_available__gte=150).exclude(email="ana@example.com")
    for member in spenders.order_by("id"):
        for reward in rng.sample(choices, k=3):
            try:
                redemption = services.reward_redeem(member=member, reward=reward)
            except DomainError:
                continue  # not enough stars left, tier, limit: the catalog shows why
            counts["redeemed"] += 1
            voucher = getattr(redemption, "voucher", None)
            if voucher is not None and rng.random() < 0.4:
                services.voucher_consume(
                    code=voucher.code,
                    partner=rng.choice(partners),
                    order_reference=f"DEMO-ORDER-{redemption.pk}",
                    order_total=max(reward.min_order_value, Decimal("45.00")),
                )
                counts["consumed"] += 1
    staff = get_user_model().objects.filter(is_superuser=True).order_by("id").first()
    for member in program.members.order_by("-points_lifetime")[:3]:
        services.surprise_grant(
            member=member,
            reward=rewards["Canvas tote bag"],
            message="Thank you for being one of our best customers this year!",
            created_by=staff,
        )
        counts["surprises"] += 1
    return counts
