"""Synthetic benchmark data on PostgreSQL: one program, 100k members, 5 tiers, 1M ledger entries
with their lots and purchases (plus what the other apps add through `bench_extras`).

Written with COPY in a few large statements, not through the per-row services: the point is a
realistic volume in minutes. Balances are computed here exactly as the ledger service would, so
`manage.py ledger_check` is clean afterwards.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fidelis_bench .venv/bin/python bench/seed.py [--members 100000]
"""

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, models, transaction

from members.models import LedgerEntry, Member, Partner, PointLot, Program, Purchase, Tier

SLUG = "bench"
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CATEGORIES = ["grocery", "coffee", "shoes", "beauty", "electronics", "books", "garden", "toys"]
TIERS = [
    ("Blue", 0, "1"),
    ("Silver", 300, "1.1"),
    ("Gold", 1000, "1.25"),
    ("Platinum", 3000, "1.5"),
    ("Black", 8000, "2"),
]


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def _code(n: int) -> str:
    out = ""
    for _ in range(8):
        n, r = divmod(n, len(ALPHABET))
        out += ALPHABET[r]
    return "BN" + out[:6]


class Table:
    """COPY rows into a model's table. Columns not given get the field's default (or NULL)."""

    def __init__(self, model: type[models.Model], columns: list[str]):
        fields = [f for f in model._meta.concrete_fields]
        given = set(columns)
        self.model = model
        self.columns = columns + [f.column for f in fields if f.column not in given and f.column != "id"]
        self.fill = tuple(self._default(f) for f in fields if f.column not in given and f.column != "id")

    @staticmethod
    def _default(field: models.Field):
        if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            return datetime.now(UTC)
        value = field.get_default()  # "" for blank text fields, None for nullable ones
        return json.dumps(value) if isinstance(field, models.JSONField) else value

    def copy(self, rows) -> int:
        count = 0
        cols = ", ".join(f'"{c}"' for c in self.columns)
        with (
            connection.cursor() as cursor,
            cursor.connection.cursor().copy(f'COPY "{self.model._meta.db_table}" ({cols}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(row + self.fill)
                count += 1
        return count


def next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1


def reset_sequences(*models_: type[models.Model]) -> None:
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))"
            )


@dataclass
class Ids:
    member: int
    purchase: int
    entry: int
    lot: int


@dataclass
class Rows:
    members: list = field(default_factory=list)
    purchases: list = field(default_factory=list)
    entries: list = field(default_factory=list)
    lots: list = field(default_factory=list)


def _member(mid: int, program, tiers, partners, now, rng: random.Random, ids: Ids, out: Rows) -> None:
    """One member's history: welcome gift, purchases (pending for 14 days), redemptions spending the
    soonest-expiring lots, and the cached balances that the ledger service would hold."""
    enrolled = now - timedelta(days=rng.randint(1, 3 * 365), seconds=rng.randint(0, 86400))
    member_lots = []  # [lot id, member, entry, points, remaining, pending, available_at, expires_at]
    credits = 0

    def credit(kind, points, at, available_at, purchase=None, partner=None, amount=None, breakdown="[]"):
        nonlocal credits
        out.entries.append(
            (
                ids.entry,
                program.pk,
                mid,
                kind,
                points,
                amount,
                "EUR" if amount else "",
                partner,
                purchase,
                "",
                "",
                breakdown,
                at,
            )
        )
        pending = available_at > now or rng.random() < 0.02  # a backlog for the release job
        member_lots.append([ids.lot, mid, ids.entry, points, points, pending, available_at, at + timedelta(days=730)])
        ids.entry += 1
        ids.lot += 1
        credits += points

    credit("welcome", 200, enrolled, enrolled)
    spend_12m = Decimal(0)
    last_purchase = None
    for _ in range(rng.choice([0, 3, 5, 7, 8, 10, 12, 14, 16])):
        at = enrolled + (now - enrolled) * rng.random()
        amount = Decimal(rng.randint(500, 25000)) / 100
        partner = rng.choice(partners).pk
        points = int(amount)
        out.purchases.append(
            (ids.purchase, program.pk, mid, partner, f"B{ids.purchase}", amount, "EUR", at, points, "[]")
        )
        breakdown = json.dumps([{"kind": "base", "label": f"{amount} EUR x 1", "points": points, "rule": None}])
        credit("earn", points, at, at + timedelta(days=14), ids.purchase, partner, amount, breakdown)
        ids.purchase += 1
        if at > now - timedelta(days=365):
            spend_12m += amount
        last_purchase = max(last_purchase or at, at)
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        available = sum(lot[4] for lot in member_lots if not lot[5])
        if available < 100:
            break
        spend = left = rng.randint(100, available)
        for lot in sorted((lot for lot in member_lots if not lot[5] and lot[4]), key=lambda lot: (lot[7], lot[0])):
            use = min(lot[4], left)
            lot[4] -= use
            left -= use
            if not left:
                break
        at = now - timedelta(days=rng.randint(0, 60))
        out.entries.append(
            (ids.entry, program.pk, mid, "redeem", -spend, None, "", None, None, "bench", "Reward", "[]", at)
        )
        ids.entry += 1
    out.lots += member_lots
    available = sum(lot[4] for lot in member_lots if not lot[5])
    pending = sum(lot[4] for lot in member_lots if lot[5])
    tier = max((t for t in tiers if spend_12m >= t.threshold), key=lambda t: t.level)
    number = str(30_000_000_000 + mid)
    out.members.append(
        (
            mid,
            program.pk,
            number + _luhn(number),
            f"m{mid}@bench.example",
            f"+3934{mid:08d}",
            rng.choice(["Ana", "Luca", "Olga", "Ion"]),
            f"Bench{mid}",
            "en",
            True,
            rng.random() < 0.4,
            _code(mid),
            tier.pk,
            available,
            pending,
            credits,
            "active",
            enrolled,
            last_purchase or enrolled,
            last_purchase,
        )
    )


def seed(n_members: int, rng: random.Random) -> dict:
    now = datetime.now(UTC)
    program = Program.objects.create(
        name="Bench program",
        slug=SLUG,
        currency="EUR",
        points_name="points",
        earn_rate=Decimal("1"),
        welcome_bonus=200,
        pending_days=14,
        expiry_policy=Program.Expiry.FIXED,
        expiry_months=24,
        referral_mode=Program.Referral.SINGLE,
        referral_referrer_points=100,
        burn_rate=Decimal("0.01"),
    )
    tiers = [
        Tier.objects.create(
            program=program,
            name=n,
            level=i,
            metric=Tier.Metric.SPEND,
            window=Tier.Window.ROLLING_12,
            threshold=Decimal(t),
            earn_multiplier=Decimal(m),
        )
        for i, (n, t, m) in enumerate(TIERS)
    ]
    partners = [Partner.objects.create(program=program, name=f"Bench shop {i}") for i in range(10)]

    ids = Ids(next_id(Member), next_id(Purchase), next_id(LedgerEntry), next_id(PointLot))
    out = Rows()
    for i in range(n_members):
        _member(ids.member + i, program, tiers, partners, now, rng, ids, out)
    members, purchases, entries, lots = out.members, out.purchases, out.entries, out.lots

    counts = {}
    with transaction.atomic():
        counts["members"] = Table(
            Member,
            [
                "id",
                "program_id",
                "number",
                "email",
                "phone",
                "first_name",
                "last_name",
                "language",
                "consent_email",
                "consent_sms",
                "referral_code",
                "tier_id",
                "points_available",
                "points_pending",
                "points_lifetime",
                "status",
                "enrolled_at",
                "last_activity_at",
                "last_purchase_at",
            ],
        ).copy(members)
        counts["purchases"] = Table(
            Purchase,
            [
                "id",
                "program_id",
                "member_id",
                "partner_id",
                "external_id",
                "amount",
                "currency",
                "occurred_at",
                "points",
                "items",
            ],
        ).copy(purchases)
        counts["ledger entries"] = Table(
            LedgerEntry,
            [
                "id",
                "program_id",
                "member_id",
                "kind",
                "points",
                "amount",
                "currency",
                "partner_id",
                "purchase_id",
                "reference",
                "reason",
                "breakdown",
                "created_at",
            ],
        ).copy(entries)
        counts["lots"] = Table(
            PointLot, ["id", "member_id", "entry_id", "points", "remaining", "pending", "available_at", "expires_at"]
        ).copy(tuple(lot) for lot in lots)
        reset_sequences(Member, Purchase, LedgerEntry, PointLot)
    counts.update(seed_extras(program, n_members, member_id_first=ids.member, rng=rng, now=now))
    return counts


def seed_extras(program: Program, n_members: int, *, member_id_first: int, rng: random.Random, now: datetime) -> dict:
    """50 rewards, 20 campaigns on a segment, 50k completed NPS answers (the other apps' volumes)."""
    from campaigns.models import Campaign, Segment
    from feedback.models import Answer, Invitation, Question, Response, Survey
    from rewards.models import Reward

    kinds = [Reward.Kind.FIXED_DISCOUNT, Reward.Kind.FREE_SHIPPING, Reward.Kind.FREE_PRODUCT, Reward.Kind.EXCLUSIVE]
    Reward.objects.bulk_create(
        [
            Reward(
                program=program,
                kind=kinds[i % len(kinds)],
                title=f"Bench reward {i}",
                points_cost=100 * (1 + i % 20),
                value=Decimal(1 + i % 20),
                stock=None if i % 3 else 1000,
                is_active=True,
                is_featured=i < 5,
            )
            for i in range(50)
        ]
    )
    segment = Segment.objects.create(program=program, name="Everyone (bench)")
    Campaign.objects.bulk_create(
        [Campaign(program=program, name=f"Bench campaign {i}", segment=segment) for i in range(20)]
    )

    survey = Survey.objects.create(program=program, name="Bench NPS", kind=Survey.Kind.NPS, title="How likely...")
    question = Question.objects.create(survey=survey, position=0, kind=Question.Kind.SCORE, text="How likely...")
    n = min(50_000, n_members)
    first_inv, first_resp = next_id(Invitation), next_id(Response)
    members = rng.sample(range(member_id_first, member_id_first + n_members), n)
    sent = [now - timedelta(days=rng.randint(1, 365), seconds=rng.randint(0, 86400)) for _ in range(n)]
    scores = [rng.choice([0, 3, 5, 6, 7, 8, 8, 9, 9, 10, 10]) for _ in range(n)]
    counts = {}
    with transaction.atomic():
        counts["invitations"] = Table(
            Invitation,
            [
                "id",
                "survey_id",
                "member_id",
                "trigger",
                "reference",
                "channel",
                "status",
                "language",
                "nonce",
                "send_at",
                "sent_at",
            ],
        ).copy(
            (
                first_inv + i,
                survey.pk,
                members[i],
                "manual",
                f"bench:{i}",
                "email",
                "answered",
                "en",
                f"n{i}",
                sent[i],
                sent[i],
            )
            for i in range(n)
        )
        counts["survey responses"] = Table(
            Response,
            [
                "id",
                "invitation_id",
                "survey_id",
                "member_id",
                "language",
                "score",
                "category",
                "started_at",
                "completed_at",
            ],
        ).copy(
            (
                first_resp + i,
                first_inv + i,
                survey.pk,
                members[i],
                "en",
                scores[i],
                "promoter" if scores[i] >= 9 else "passive" if scores[i] >= 7 else "detractor",
                sent[i] + timedelta(hours=2),
                sent[i] + timedelta(hours=2, minutes=3),
            )
            for i in range(n)
        )
        Table(Answer, ["response_id", "question_id", "score"]).copy(
            (first_resp + i, question.pk, scores[i]) for i in range(n)
        )
        reset_sequences(Invitation, Response, Answer)
    counts["rewards"], counts["campaigns"] = 50, 20
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/seed.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    if Program.objects.filter(slug=SLUG).exists():
        print("bench data already present; drop the database to reseed")
        return
    started = time.perf_counter()
    counts = seed(args.members, random.Random(args.seed))
    with connection.cursor() as cursor:
        # VACUUM too: it sets the visibility map, so the dashboard's covering indexes answer from
        # the index alone, as they do on a database autovacuum has been through.
        cursor.execute("VACUUM (ANALYZE)")
    for name, count in counts.items():
        print(f"{name:>16}: {count:>9,}")
    print(f"{'seconds':>16}: {time.perf_counter() - started:9.1f}")


if __name__ == "__main__":
    main()
