"""What a pooled redemption costs next to a member's own: statements and milliseconds per redemption
(in-process service calls, no HTTP) for a member without a household, and for households of 2, 4
and 8 whose redeemer has no points of their own (every redemption draws on the others' lots).

    DATABASE_URL=... .venv/bin/python bench/household.py [-n 100]

Creates its own program (slug bench-household-<time>) in the configured database and leaves it there.
"""

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection
from django.test.utils import CaptureQueriesContext

from members import services
from members.models import Member, Program
from rewards import services as rewards_services
from rewards.models import Reward


def _members(program: Program, n: int, tag: str) -> list[Member]:
    return [
        services.member_enroll(program=program, email=f"{tag}-{i}@bench.invalid", first_name=f"M{i}") for i in range(n)
    ]


def _setup(program: Program, size: int, redemptions: int, cost: int) -> Member:
    """The redeemer: alone (size 1) with the points, or in a household whose other members hold them
    in many small lots (10 points each), so a redemption walks several lots of several members."""
    members = _members(program, size, f"h{size}")
    redeemer = members[0]
    if size == 1:
        services.points_grant(member=redeemer, points=redemptions * cost, reason="bench")
        return redeemer
    services.household_create(member=redeemer)
    for other in members[1:]:
        invitation = services.household_invite(member=Member.objects.get(pk=redeemer.pk), invitee=other.number)
        services.household_invitation_accept(invitation=invitation, member=other)
        for _ in range(redemptions * cost // 10 // (size - 1) + 1):
            services.points_grant(member=other, points=10, reason="bench")
    return Member.objects.select_related("program").get(pk=redeemer.pk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100)
    args = parser.parse_args()
    stamp = time.time_ns()
    program = Program.objects.create(
        name=f"Bench households {stamp}", slug=f"bench-household-{stamp}", currency="EUR", household_max_members=8
    )
    reward = Reward.objects.create(
        program=program, kind=Reward.Kind.FIXED_DISCOUNT, title="Bench", points_cost=50, value=Decimal("5")
    )
    print(f"{connection.vendor}, {args.n} redemptions of {reward.points_cost} points each")
    print(f"{'household':>10} {'statements':>11} {'ms median':>10} {'ms p95':>8}")
    for size in (1, 2, 4, 8):
        redeemer = _setup(program, size, args.n, reward.points_cost)
        timings, statements = [], []
        for _ in range(args.n):
            connection.queries_log.clear()  # the log keeps 9,000 statements; the count needs room
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                rewards_services.reward_redeem(member=redeemer, reward=reward, from_household=size > 1)
                timings.append((time.perf_counter() - started) * 1000)
            statements.append(len(queries.captured_queries))
        p95 = sorted(timings)[int(len(timings) * 0.95) - 1]
        label = "none" if size == 1 else str(size)
        print(f"{label:>10} {statistics.median(statements):>11.0f} {statistics.median(timings):>10.2f} {p95:>8.2f}")


if __name__ == "__main__":
    main()
