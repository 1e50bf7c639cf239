# ruff: noqa: RUF001 - Russian message texts use Cyrillic letters that look Latin
"""Demo data for campaigns: segments, offers, an A/B test with a holdout that has results, a
multiplier campaign, a weekly newsletter and every journey, live."""

import random
from datetime import timedelta
from decimal import Decimal

from django.test.utils import override_settings
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, Delivery, Offer, OfferGrant, Segment, SegmentRule, Variant
from campaigns.selectors import campaign_results
from members import services as member_services
from members.demo import CATEGORIES, demo_program
from members.models import Program

AB_TEST = "Shoe week: A/B test with holdout"
K = SegmentRule.Kind
T = Campaign.Trigger

# name -> (subject per language, body per language)
MESSAGES = {
    "A": (
        (
            "{{ name }}, 25% off shoes this week",
            "{{ name }}, 25% reducere la pantofi săptămâna aceasta",
            "{{ name }}, 25% di sconto sulle scarpe questa settimana",
            "{{ name }}, скидка 25% на обувь на этой неделе",
        ),
        (
            "Hello {{ name }},\n\nThis week only: {{ offer }}. Show the code below at the till or enter it online.",
            "Salut {{ name }},\n\nDoar săptămâna aceasta: {{ offer }}. Arată codul de mai jos la casă.",
            "Ciao {{ name }},\n\nSolo questa settimana: {{ offer }}. Mostra il codice qui sotto alla cassa.",
            "Здравствуйте, {{ name }}!\n\nТолько на этой неделе: {{ offer }}. Покажите код ниже на кассе.",
        ),
    ),
    "B": (
        (
            "A gift for our {{ tier }} members",
            "Un cadou pentru membrii {{ tier }}",
            "Un regalo per i membri {{ tier }}",
            "Подарок для участников уровня {{ tier }}",
        ),
        (
            "{{ name }}, you have {{ balance }} {{ points_name }}. {{ points_to_next_tier }} more and you reach "
            "{{ next_tier }}.\n\n{{ offer }}: valid until {{ expiry }}.",
            "{{ name }}, ai {{ balance }} {{ points_name }}. Încă {{ points_to_next_tier }} și ajungi la "
            "{{ next_tier }}.\n\n{{ offer }}: valabil până la {{ expiry }}.",
            "{{ name }}, hai {{ balance }} {{ points_name }}. Ancora {{ points_to_next_tier }} e raggiungi "
            "{{ next_tier }}.\n\n{{ offer }}: valido fino al {{ expiry }}.",
            "{{ name }}, у вас {{ balance }} {{ points_name }}. Ещё {{ points_to_next_tier }} до уровня "
            "{{ next_tier }}.\n\n{{ offer }}: действует до {{ expiry }}.",
        ),
    ),
}
LANGS = ("en", "ro", "it", "ru")
# A campaign left in draft: preview, test send and the confirmation step can be tried on it.
DRAFT = "Spring catalog: bonus stars"
DRAFT_MESSAGE = (
    (
        "{{ name }}, the spring catalog is here",
        "{{ name }}, catalogul de primăvară a sosit",
        "{{ name }}, è arrivato il catalogo di primavera",
        "{{ name }}, весенний каталог уже здесь",
    ),
    (
        "Hello {{ name }},\n\nThe spring catalog is in store. {{ offer }}: show the code below at the till.",
        "Salut {{ name }},\n\nCatalogul de primăvară a sosit în magazin. {{ offer }}: arată codul de mai jos la casă.",
        "Ciao {{ name }},\n\nIl catalogo di primavera è in negozio. {{ offer }}: mostra il codice qui sotto alla cassa.",
        "Здравствуйте, {{ name }}!\n\nВесенний каталог уже в магазине. {{ offer }}: покажите код ниже на кассе.",
    ),
)


def seed() -> list[str]:
    program = demo_program()
    if program is None:
        return ["Campaigns: no demo program, nothing to add."]
    if Campaign.objects.filter(program=program, name=AB_TEST).exists():
        return [f"Campaigns already present ({program.campaigns.count()} campaigns and journeys)."]
    segments = _segments(program)
    offers = _offers(program)
    # The demo addresses are fake: keep the ~50 campaign emails out of the console where `make run` prints.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        ab = _ab_test(program, offers["discount"])
        coffee = _campaign(
            program,
            "Double stars on coffee",
            segment=segments["south"],
            offer=offers["multiplier"],
            subject="{{ name }}, double {{ points_name }} on coffee",
            body="Every coffee you buy this week earns double {{ points_name }}.",
        )
        _send_now(coffee)
        _weekly_newsletter(program, segments["email"])
        _campaign(
            program,
            DRAFT,
            segment=segments["active"],
            offer=offers["bonus"],
            holdout_percent=10,
            budget_offers=20,
            subject="",
            body="",
            variants={"A": DRAFT_MESSAGE},
        )
        journeys = _journeys(program, offers, segments)
        responses = _responses(program, ab)
    groups = {g.label: g for g in campaign_results(campaign=ab)}
    lines = [
        f"Campaigns: {Segment.objects.filter(program=program).count()} segments, {len(offers)} offers, "
        f"{len(journeys)} journeys live, a weekly newsletter scheduled, '{DRAFT}' waiting for its launch.",
        f"Campaigns: '{AB_TEST}' sent to {sum(g.delivered for g in groups.values())} members; "
        f"{responses['buyers']} bought and {responses['redeemed']} used their code within the window.",
    ]
    for label, group in groups.items():
        lift = f", lift {group.lift.difference * 100:+.1f} pts" if group.lift else ""
        lines.append(f"  {label}: {group.members} members, {group.buyers} buyers{lift}")
    return lines


def _segments(program: Program) -> dict[str, Segment]:
    def make(name, description, *rules, combine=Segment.Combine.ANY_GROUP):
        segment = Segment.objects.create(program=program, name=name, description=description, combine=combine)
        for rule in rules:
            SegmentRule.objects.create(segment=segment, **rule)
        return segment

    active = make(
        "Active shoppers",
        "Bought in the last 90 days and at least twice this year.",
        {"kind": K.RECENCY, "days": 90},
        {"kind": K.FREQUENCY, "days": 365, "minimum": 2},
    )
    services.segment_freeze(segment=active, name="Active shoppers (frozen for the spring catalog)")
    top_tier = program.tiers.order_by("-level").first()
    return {
        "active": active,
        "email": make("Email subscribers", "Everyone who accepts emails.", {"kind": K.CONSENT, "values": "email"}),
        "south": make(
            "Romanian and Italian speakers",
            "For the coffee promotion in Romania and Italy.",
            {"kind": K.LANGUAGE, "values": "ro,it"},
        ),
        "vip": make(
            "Promoters or top tier",
            "Advocates to thank: NPS promoters, or members of the highest tier.",
            {"kind": K.NPS, "values": "promoter", "group": 1},
            {"kind": K.TIER, "tier": top_tier, "group": 2},
        ),
        "lapsed": make(
            "Lapsed high spenders",
            "Spent 200+ in the last year but nothing in the last 60 days.",
            {"kind": K.MONETARY, "days": 365, "minimum": 200},
            {"kind": K.RECENCY, "days": 60, "negate": True},
        ),
    }


def _offers(program: Program) -> dict[str, Offer]:
    def make(key, name, kind, titles, **fields):
        return key, Offer.objects.create(
            program=program,
            name=name,
            kind=kind,
            **{f"title_{lang}": title for lang, title in zip(LANGS, titles, strict=True)},
            **fields,
        )

    offers = dict(
        [
            make(
                "discount",
                "25% off shoes for a week",
                Offer.Kind.DISCOUNT,
                ("25% off shoes", "25% reducere la pantofi", "25% di sconto sulle scarpe", "Скидка 25% на обувь"),
                discount_percent=25,
                category="shoes",
                valid_days=7,
            ),
            make(
                "multiplier",
                "Double stars on coffee",
                Offer.Kind.MULTIPLIER,
                ("Double stars on coffee", "Stele duble la cafea", "Stelle doppie sul caffè", "Двойные звёзды за кофе"),
                multiplier=Decimal("2"),
                category="coffee",
                valid_days=7,
            ),
            make(
                "bonus",
                "150 stars on a purchase over 50",
                Offer.Kind.BONUS,
                (
                    "150 bonus stars on your next purchase over 50 EUR",
                    "150 stele bonus la următoarea cumpărătură de peste 50 EUR",
                    "150 stelle bonus sul prossimo acquisto oltre 50 EUR",
                    "150 бонусных звёзд за следующую покупку от 50 EUR",
                ),
                points=150,
                min_amount=Decimal("50"),
                valid_days=30,
            ),
            make(
                "shipping",
                "Free shipping",
                Offer.Kind.FREE_SHIPPING,
                (
                    "Free shipping on your next order",
                    "Livrare gratuită la următoarea comandă",
                    "Spedizione gratuita sul prossimo ordine",
                    "Бесплатная доставка следующего заказа",
                ),
                valid_days=14,
            ),
            make(
                "gift",
                "Gift with purchase",
                Offer.Kind.GIFT,
                (
                    "A beauty gift with any purchase",
                    "Un cadou beauty la orice cumpărătură",
                    "Un regalo beauty con ogni acquisto",
                    "Подарок к любой покупке",
                ),
                valid_days=14,
            ),
        ]
    )
    reward = program.rewards.filter(is_active=True, points_cost__gt=0).order_by("points_cost").first()
    if reward is not None:
        key, offer = make(
            "reward",
            f"Free: {reward.title}",
            Offer.Kind.REWARD,
            (reward.title,) * 4,
            reward=reward,
            valid_days=30,
        )
        offers[key] = offer
    return offers


def _campaign(program, name, *, subject, body, variants=None, **fields) -> Campaign:
    campaign = Campaign.objects.create(program=program, name=name, quiet_start=21, quiet_end=9, **fields)
    if variants is None:
        Variant.objects.create(campaign=campaign, name="A", subject=subject, body=body, sms_body=subject)
    for name_, (subjects, bodies) in (variants or {}).items():
        Variant.objects.create(
            campaign=campaign,
            name=name_,
            **{f"subject_{lang}": s for lang, s in zip(LANGS, subjects, strict=True)},
            **{f"body_{lang}": b for lang, b in zip(LANGS, bodies, strict=True)},
            sms_body=subjects[0],
        )
    return campaign


def _send_now(campaign: Campaign) -> None:
    """Launch and send in this process, so the results exist when the seed ends (with Redis, the worker's
    copy of the fan-out then finds every delivery already made)."""
    campaign = services.campaign_launch(campaign=campaign)
    low = campaign.program.members.order_by("pk").values_list("pk", flat=True).first() or 0
    high = (campaign.program.members.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    services.campaign_chunk(campaign=campaign, occurrence="", low=low, high=high)


def _ab_test(program: Program, offer: Offer) -> Campaign:
    campaign = _campaign(
        program,
        AB_TEST,
        subject="",
        body="",
        variants=MESSAGES,
        offer=offer,
        channel_sms=True,
        holdout_percent=25,
        attribution_days=14,
        cap_messages=3,
        cap_days=7,
        budget_offers=500,
    )
    _send_now(campaign)
    return campaign


def _weekly_newsletter(program: Program, segment: Segment) -> Campaign:
    now = timezone.localtime()
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    campaign = _campaign(
        program,
        "Weekly newsletter",
        segment=segment,
        subject="{{ name }}, this week at Fidelis Demo Market",
        body="You have {{ balance }} {{ points_name }}. New in the catalog this week: ...",
        send_at=monday,
        recurrence=Campaign.Recurrence.WEEKLY,
        cap_messages=3,
        cap_days=7,
    )
    services.campaign_launch(campaign=campaign)
    return campaign


def _journeys(program: Program, offers: dict[str, Offer], segments: dict[str, Segment]) -> list[Campaign]:
    specs = [
        ("Welcome", T.ENROLLED, 0, offers["bonus"], None, "Welcome, {{ name }}!", "{{ offer }}. Code: {{ code }}."),
        ("Happy birthday", T.BIRTHDAY, 7, offers["gift"], None, "Happy birthday, {{ name }}", "{{ offer }}."),
        (
            "Points about to expire",
            T.POINTS_EXPIRING,
            0,
            None,
            None,
            "{{ name }}, some {{ points_name }} expire soon",
            "You have {{ balance }} {{ points_name }}; spend them before they expire.",
        ),
        ("Tier reached", T.TIER_REACHED, 0, None, None, "Welcome to {{ tier }}", "You are now {{ tier }}."),
        (
            "Tier about to be lost",
            T.TIER_EXPIRING,
            0,
            offers["shipping"],
            None,
            "Keep your {{ tier }} status",
            "A purchase or two keeps you in {{ tier }}. {{ offer }} to help: {{ code }}.",
        ),
        (
            "Win-back",
            T.WIN_BACK,
            90,
            offers["shipping"],
            segments["lapsed"],
            "We miss you, {{ name }}",
            "{{ offer }} with code {{ code }}, until {{ expiry }}.",
        ),
        (
            "Post-purchase follow-up",
            T.POST_PURCHASE,
            3,
            None,
            None,
            "How was your order, {{ name }}?",
            "Thank you! You now have {{ balance }} {{ points_name }}.",
        ),
        (
            "Abandoned redemption",
            T.ABANDONED_REDEMPTION,
            0,
            offers.get("reward"),
            None,
            "You can now afford the reward you looked at",
            "You have {{ balance }} {{ points_name }}: enough for it now.",
        ),
    ]
    journeys = []
    for name, trigger, days, offer, segment, subject, body in specs:
        journey = _campaign(
            program,
            name,
            subject=subject,
            body=body,
            trigger=trigger,
            trigger_days=days,
            offer=offer if trigger != T.ABANDONED_REDEMPTION else None,
            segment=segment,
            cap_messages=4,
            cap_days=7,
        )
        services.campaign_launch(campaign=journey)
        journeys.append(journey)
    return journeys


def _responses(program: Program, campaign: Campaign) -> dict[str, int]:
    """Members react: a quarter of the holdout buys anyway, almost half of those who got the offer do,
    and most of those use their code."""
    rng = random.Random(8)
    partner = program.partners.filter(is_active=True).order_by("pk").first()
    counts = {"buyers": 0, "redeemed": 0}
    deliveries = Delivery.objects.filter(campaign=campaign).select_related("member").order_by("pk")
    for delivery in deliveries:
        chance = 0.25 if delivery.holdout else (0.45 if delivery.status == Delivery.Status.SENT else 0.2)
        if rng.random() >= chance:
            continue
        items = [
            {"sku": f"SHOE-{rng.randint(10, 99)}", "category": "shoes", "quantity": 1, "unit_price": "59.90"},
            {
                "sku": f"SKU-{rng.randint(100, 999)}",
                "category": rng.choice(CATEGORIES),
                "quantity": 1,
                "unit_price": "12.50",
            },
        ]
        purchase, _ = member_services.purchase_record(
            member=delivery.member,
            partner=partner,
            external_id=f"campaign-demo-{delivery.pk}",
            amount=Decimal("72.40"),
            currency=program.currency,
            items=items,
        )
        counts["buyers"] += 1
        grant = OfferGrant.objects.filter(delivery=delivery).first()
        if grant is not None and rng.random() < 0.8:
            services.offer_grant_redeem(code=grant.code, reference=f"purchase:{purchase.pk}")
            counts["redeemed"] += 1
    return counts
