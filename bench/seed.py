"""Synthetic benchmark data on PostgreSQL: one program, 5 tiers, N members (100k by default, or 1M)
with about 10 ledger entries each (1M, or 10M at 1M members), their lots and purchases (plus what
the other apps add through `seed_extras`).

Written with COPY (psycopg 3), CHUNK members at a time, not through the per-row services: the
point is a realistic volume in minutes. Balances are computed here exactly as the ledger service
would, so `manage.py ledger_check` is clean afterwards. Prints how long each phase took.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fidelis_bench .venv/bin/python bench/seed.py [100k|1M|<n>]
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


CHUNK = 50_000  # members generated and copied at a time (bounds memory at any size)
STARTED = time.perf_counter()
MEMBER_COLUMNS = [
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
]
PURCHASE_COLUMNS = [
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
]
ENTRY_COLUMNS = [
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
    first_member = ids.member
    tables = {
        "members": Table(Member, MEMBER_COLUMNS),
        "purchases": Table(Purchase, PURCHASE_COLUMNS),
        "ledger entries": Table(LedgerEntry, ENTRY_COLUMNS),
        "lots": Table(
            PointLot, ["id", "member_id", "entry_id", "points", "remaining", "pending", "available_at", "expires_at"]
        ),
    }
    counts = dict.fromkeys(tables, 0)
    # Generated and copied CHUNK members at a time: at 1M members the rows of one go (about 30M
    # tuples) would not fit in memory. One transaction, so a failed run leaves no half-seeded program.
    with transaction.atomic(), connection.cursor() as cursor:
        # The generated rows reference only rows this script wrote, so the per-row foreign-key
        # triggers (one lookup per row, most of COPY's time at 1M) are skipped for this transaction.
        cursor.execute("SET LOCAL session_replication_role = replica")
        for start in range(0, n_members, CHUNK):
            out = Rows()
            for i in range(start, min(start + CHUNK, n_members)):
                _member(first_member + i, program, tiers, partners, now, rng, ids, out)
            counts["members"] += tables["members"].copy(out.members)
            counts["purchases"] += tables["purchases"].copy(out.purchases)
            counts["ledger entries"] += tables["ledger entries"].copy(out.entries)
            counts["lots"] += tables["lots"].copy(tuple(lot) for lot in out.lots)
            if n_members > CHUNK:
                done = min(start + CHUNK, n_members)
                print(f"{done:>9,} members, {time.perf_counter() - STARTED:6.0f} s", file=sys.stderr, flush=True)
        reset_sequences(Member, Purchase, LedgerEntry, PointLot)
    counts.update(seed_extras(program, n_members, member_id_first=first_member, rng=rng, now=now))
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


def size(text: str) -> int:
    """100k, 1M, 250000 -> a number of members."""
    text = text.strip().lower().replace("_", "").replace(",", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    try:
        value = int(float(text[:-1] if factor > 1 else text) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 100k, 1M, 250000)") from None
    if value < 1:
        raise argparse.ArgumentTypeError("at least one member")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=size, default=None, help="members: 100k (default), 1M, or a number")
    parser.add_argument("--members", type=size, default=None, help="the same as SIZE (kept for old scripts)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    n_members = args.size or args.members or 100_000
    if connection.vendor != "postgresql":
        sys.exit("bench/seed.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    if Program.objects.filter(slug=SLUG).exists():
        print("bench data already present; drop the database to reseed")
        return
    started = time.perf_counter()
    counts = seed(n_members, random.Random(args.seed))
    copied = time.perf_counter()
    with connection.cursor() as cursor:
        # VACUUM too: it sets the visibility map, so the dashboard's covering indexes answer from
        # the index alone, as they do on a database autovacuum has been through.
        cursor.execute("VACUUM (ANALYZE)")
    for name, count in counts.items():
        print(f"{name:>16}: {count:>11,}")
    print(f"{'generate + COPY':>16}: {copied - started:9.1f} s")
    print(f"{'VACUUM ANALYZE':>16}: {time.perf_counter() - copied:9.1f} s")
    print(f"{'seconds':>16}: {time.perf_counter() - started:9.1f}")


if __name__ == "__main__":
    main()
