"""Where one request's CPU time goes: N in-process requests to the earn or balance endpoint on the bench
data, with their statements, Redis round trips and a cProfile summary (cumulative, top functions).

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/hotpath.py earn|balance [-n 200] [--top 25]

In-process (Django's test client, no gunicorn, no socket), so the figures are Python CPU per
request, comparable before/after a change on the same machine in the same minute.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import redis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from members.models import Member, Partner, Program
from members.partners.services import partner_key_create

ROUND_TRIPS = {"n": 0, "commands": []}
_execute_command = redis.Redis.execute_command
_pipeline_execute = redis.client.Pipeline.execute


def _counted(self, *args, **kwargs):
    ROUND_TRIPS["n"] += 1
    ROUND_TRIPS["commands"].append(str(args[0]))
    return _execute_command(self, *args, **kwargs)


def _counted_pipeline(self, *args, **kwargs):
    ROUND_TRIPS["n"] += 1
    ROUND_TRIPS["commands"].append("pipeline(" + " ".join(str(c[0][0]) for c in self.command_stack) + ")")
    return _pipeline_execute(self, *args, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", choices=["earn", "balance"])
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    program = Program.objects.get(slug="bench")
    partner = Partner.objects.filter(program=program).order_by("pk").first()
    _, key = partner_key_create(partner=partner, name=f"profile {time.time_ns()}")
    numbers = list(
        Member.objects.filter(program=program, status="active")
        .order_by("?")
        .values_list("number", flat=True)[: 2 * args.n + 1]
    )
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}

    def request(i: int) -> None:
        number = numbers[i % len(numbers)]
        if args.path == "balance":
            response = client.get(f"/api/v1/members/{number}/balance", **auth)
            assert response.status_code == 200, response.content
            return
        uniq = f"profile-{time.time_ns()}-{i}"
        body = json.dumps({"member": number, "external_id": uniq, "amount": "42.50", "currency": "EUR"})
        response = client.post(
            "/api/v1/transactions", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=uniq, **auth
        )
        assert response.status_code == 201, response.content

    request(-1)  # warm-up: caches, connections
    redis.Redis.execute_command = _counted
    redis.client.Pipeline.execute = _counted_pipeline
    with CaptureQueriesContext(connection) as captured:
        ROUND_TRIPS["n"], ROUND_TRIPS["commands"] = 0, []
        request(0)
    statements, round_trips, commands = len(captured.captured_queries), ROUND_TRIPS["n"], list(ROUND_TRIPS["commands"])
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(1, args.n + 1):
        request(i)
    wall, cpu = (time.perf_counter() - started) / args.n, (time.process_time() - cpu) / args.n
    profiler = cProfile.Profile(time.process_time)  # CPU time: waiting on PostgreSQL or Redis does not count
    profiler.enable()
    for i in range(args.n + 1, 2 * args.n + 1):
        request(i)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())
    print(f"{args.path}: {statements} statements, {round_trips} Redis round trips per request: {' '.join(commands)}")
    print(
        f"{args.path}: {wall * 1000:.2f} ms wall, {cpu * 1000:.2f} ms CPU per request (n={args.n}, without the profiler)"
    )
    for q in captured.captured_queries:
        print("  ", q["sql"][:160])


if __name__ == "__main__":
    main()
