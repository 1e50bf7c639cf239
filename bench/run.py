"""`make bench`: Fidelis under load on this machine, next to its baselines, as one table.

Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); seeds bench data if absent (bench/seed.py).
The app runs under gunicorn; load comes from wrk (Debian package) in a separate process over
loopback; the raw-SQL baseline is pgbench running the very statements the earn endpoint issued
(captured from the query log, parameterized); the framework floor is a bare Django view served
by the same gunicorn settings. Everything is bounded in time. Results go to bench/RESULTS.md.
"""

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from members.models import Member, Partner, Program
from members.partners.services import partner_key_create
from rewards.models import Reward

PORT = int(os.environ.get("BENCH_PORT", "8190"))  # another bench on the machine may hold 8190
# 2 cores shared by gunicorn, PostgreSQL and the load generator: requests are short and spend
# about half their time waiting on PostgreSQL, so 4 sync workers (2 per core) keep both cores
# busy without the context-switch cost that more processes or threads showed (see RESULTS.md).
GUNICORN = ["--workers", "4", "--worker-class", "sync", "--backlog", "256", "--keep-alive", "5"]
DURATION = 12  # seconds per load run
ANALYSIS = "## Targets and what limits each figure\n"
BALANCE = "/api/v1/members/{member}/balance"
REPEAT_SET = 100  # members whose balance the repeat run reads (each read many times in a run)
PARTS = ("api", "redeem", "fanout", "jobs", "admin", "selectors")  # --only chooses among these


# Every figure's goal (issue 17), printed next to it; MET records which were reached in this run.
GOALS = {
    "earn POST /transactions, 8 clients": ">= 0.5 x raw; p99 < 50 ms idle",
    "earn POST /transactions, 32 clients": ">= 0.5 x raw",
    "balance": ">= 0.5 x floor",
    "campaign fan-out": ">= 2,000 deliveries/s",
    "redeem check": "0 overdrafts",
    "job: release": "< 30 s at 1M",
    "job: expire": "< 30 s at 1M",
    "job: tier review": "< 30 s at 1M",
    "admin: member search": "< 200 ms at 1M",
    "admin: dashboard, custom period": "< 2 s at 1M",
    "admin: dashboard": "< 500 ms at 1M",
}
MET: dict[str, bool] = {}


def goal_of(measure: str) -> str:
    text = next((g for prefix, g in GOALS.items() if measure.startswith(prefix)), "")
    if not text or measure not in MET:
        return text
    return f"{text}: {'met' if MET[measure] else 'missed'}"


@contextlib.contextmanager
def on_database(name: str):
    """Run Django's queries against another database of the same server (the 1M bench data)."""
    settings_dict = connection.settings_dict
    previous = settings_dict["NAME"]
    connection.close()
    settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = previous


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


class Server:
    def __init__(self, env: dict):
        self.env = env

    def __enter__(self):
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--pythonpath",
                str(ROOT / "bench"),
                *GUNICORN,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120  # four workers importing Django on a busy machine
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.proc.terminate()  # never leave it holding the port
        raise SystemExit("gunicorn did not come up")

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:  # workers still busy: do not hide the error that got us here
            self.proc.kill()
            self.proc.wait()


def wrk(script: str, connections: int, env: dict, path: str = "/") -> dict:
    out = sh(
        [
            "wrk",
            "-t",
            str(min(connections, 2)),
            "-c",
            str(connections),
            "-d",
            f"{DURATION}s",
            "--timeout",
            "5s",
            "-s",
            str(ROOT / "bench" / script),
            f"http://127.0.0.1:{PORT}{path}",
        ],
        env={**os.environ, **env},
        timeout=DURATION + 60,
    ).stdout
    result = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
    result["rps"] = result["requests"] / result["seconds"]
    return result


# --- the raw-SQL baseline ---------------------------------------------------------------------


def capture_earn(key: str, member: Member) -> list[str]:
    """The statements one earn request issues (after a warm-up request), as executed."""
    client = Client()

    def post(external_id: str) -> None:
        body = json.dumps({"member": member.number, "external_id": external_id, "amount": "42.50", "currency": "EUR"})
        response = client.post(
            "/api/v1/transactions",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Api-Key {key}",
            HTTP_IDEMPOTENCY_KEY=external_id,
        )
        assert response.status_code == 201, response.content

    post(f"capture-warm-{time.time_ns()}")
    with CaptureQueriesContext(connection) as captured:
        post(f"capture-{time.time_ns()}")
    return [q["sql"] for q in captured.captured_queries]


def to_pgbench(statements: list[str], member: Member, first_member_id: int, n_members: int) -> str:
    """Parameterize the captured statements: a random member, unique keys, and the ids that
    INSERT ... RETURNING produced fed to later statements through pgbench's \\gset."""
    lines = [
        f"\\set mid random({first_member_id}, {first_member_id + n_members - 1})",
        "\\set uniq random(1, 1000000000000)",
    ]
    inserted = [re.match(r'INSERT INTO "(\w+)"', sql).group(1) for sql in statements if " RETURNING " in sql]
    returned: dict[str, str] = {}  # literal id -> pgbench variable
    with connection.cursor() as cursor:
        for i, sql in enumerate(statements):
            if " RETURNING " not in sql or " UNNEST(" in sql:
                continue
            table = re.match(r'INSERT INTO "(\w+)"', sql).group(1)
            if inserted.count(table) == 1:  # its id can be found again; ids of repeated inserts are never reused
                cursor.execute(f'SELECT max(id) FROM "{table}"')
                returned[str(cursor.fetchone()[0])] = f"r{i}_id"
    for i, sql in enumerate(statements):
        sql = sql.replace(f"'{member.number}'", "(SELECT number FROM members_member WHERE id = :mid)")
        sql = re.sub(rf"\b{member.pk}\b", ":mid", sql)
        sql = re.sub(r"'capture-\d+'", "'raw-' || :client_id || '-' || :uniq", sql)
        for value, var in returned.items():
            sql = re.sub(rf"\b{value}\b", f":{var}", sql)
        # A multi-row INSERT (bulk_create's UNNEST) returns several ids, which \\gset refuses;
        # nothing later refers to them.
        single = " RETURNING " in sql and " UNNEST(" not in sql
        lines.append(sql + (f" \\gset r{i}_" if single else ";"))
    return "\n".join(lines) + "\n"


def raw_copy_create() -> str:
    """The raw replay writes the captured literals (balances included) into random members, so it
    runs on a throwaway copy of the bench database, never on the data the app is measured on."""
    name = f"{settings.DATABASES['default']['NAME']}_raw"
    connection.close()
    admin = ["psql", *_pg_args(), "-d", "postgres", "-q", "-c"]
    sh([*admin, f'DROP DATABASE IF EXISTS "{name}"'])
    sh([*admin, f'CREATE DATABASE "{name}" TEMPLATE "{settings.DATABASES["default"]["NAME"]}"'], timeout=600)
    return name


def raw_copy_drop(name: str) -> None:
    sh(["psql", *_pg_args(), "-d", "postgres", "-q", "-c", f'DROP DATABASE IF EXISTS "{name}"'])


def _pg_args() -> list[str]:
    db = settings.DATABASES["default"]
    return ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]


def pgbench(script: str, clients: int, database: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "earn.sql"
        path.write_text(script)
        out = sh(
            [
                "pgbench",
                "-n",
                *_pg_args(),
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(DURATION),
                "-f",
                str(path),
                "-l",
                "--log-prefix",
                str(Path(tmp) / "log"),
                database,
            ],
            timeout=DURATION + 60,
        ).stdout
        latencies = sorted(
            int(line.split()[2]) / 1000 for f in Path(tmp).glob("log*") for line in f.read_text().splitlines()
        )
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    return {"rps": tps, "p50_ms": statistics.median(latencies), "p99_ms": latencies[int(len(latencies) * 0.99)]}


# --- redemption: one hot member and random members ----------------------------------------------

REDEEM_BUDGET = 50_000  # redemptions the hot member can afford: far more than a run can make


def redeem_setup(program: Program) -> tuple[Reward, Member]:
    """The cheapest unlimited reward anyone may redeem, and a hot member granted enough points for it
    (through the ledger service, so the ledger check stays clean)."""
    from members.services import points_grant

    reward = (
        Reward.objects.filter(
            program=program,
            is_active=True,
            stock__isnull=True,
            tiers__isnull=True,
            members_only=False,
            limit_per_member__isnull=True,
            limit_per_period__isnull=True,
            code_source=Reward.CodeSource.GENERATED,
        )
        .order_by("points_cost", "pk")
        .first()
    )
    hot = Member.objects.filter(program=program, status=Member.Status.ACTIVE).order_by("pk").first()
    needed = reward.points_cost * REDEEM_BUDGET
    if hot.points_available < needed:
        points_grant(member=hot, points=needed - hot.points_available, reason="bench: hot member for redemptions")
        hot.refresh_from_db()
    return reward, hot


def redeem_check(program: Program, reward, since: datetime) -> dict:
    """No overdraft and a clean ledger after the redemption runs: no negative balance, every cached
    balance equal to its ledger and lots (members.selectors.ledger_mismatches), and the completed
    redemptions times the cost equal to the points their ledger entries spent."""
    from django.db.models import Sum

    from members.models import LedgerEntry
    from members.selectors import ledger_mismatches
    from rewards.models import Redemption

    redemptions = Redemption.objects.filter(
        reward=reward, created_at__gte=since, status=Redemption.Status.COMPLETED, source=Redemption.Source.REDEEM
    )
    references = [f"rewards.redemption:{pk}" for pk in redemptions.values_list("pk", flat=True)]
    spent = -(
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REDEEM, reference__in=references).aggregate(s=Sum("points"))[
            "s"
        ]
        or 0
    )
    started = time.perf_counter()
    mismatches = ledger_mismatches()
    return {
        "redeemed": len(references),
        "spent": spent,
        "spent_ok": spent == len(references) * reward.points_cost,
        "negative": Member.objects.filter(program=program, points_available__lt=0).count()
        + Member.objects.filter(program=program, points_pending__lt=0).count(),
        "mismatches": len(mismatches),
        "check_seconds": time.perf_counter() - started,
    }


def redeem_rows(program: Program, load_env: dict) -> list[tuple[str, str, str, str]]:
    reward, hot = redeem_setup(program)
    since = datetime.now(UTC)
    balance_before = hot.points_available
    env = {**load_env, "BENCH_REWARD": str(reward.pk)}
    rows = []
    for label, extra in (("one hot member", {"BENCH_HOT_MEMBER": hot.number}), ("random members", {})):
        result = wrk("redeem.lua", 8, {**env, **extra})
        rows.append(
            (
                f"redeem POST /redemptions, {label}, 8 clients",
                f"{result['rps']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms"
                + (f", {result['errors']} socket errors" if result["errors"] else ""),
                "",
                f"{result['created']:,} redeemed, {result['refused']:,} refused (409), {result['other']:,} other",
            )
        )
    check = redeem_check(program, reward, since)
    hot.refresh_from_db()
    hot_spent = balance_before - hot.points_available
    ok = check["negative"] == 0 and check["mismatches"] == 0 and check["spent_ok"]
    MET["redeem check (after both runs)"] = ok
    rows.append(
        (
            "redeem check (after both runs)",
            f"{check['redeemed']:,} redemptions x {reward.points_cost} = {check['spent']:,} points spent"
            f"{'' if check['spent_ok'] else ' MISMATCH'}; hot member -{hot_spent:,}",
            f"{check['negative']} negative balances, {check['mismatches']} ledger mismatches",
            "0 overdrafts" if ok else "FAILED",
        )
    )
    return rows


# --- campaign fan-out ---------------------------------------------------------------------------


def fanout_rows(program: Program) -> list[tuple[str, str, str, str]]:
    """The bulk path (anymail's Brevo backend, batches with per-recipient variables) at 10k and 100k, and
    the one-by-one SMTP path at 10k next to it (at 100k it takes about 20 minutes)."""
    from fanout import fanout_bench, fmt

    runs = [
        ("brevo", 10_000, "Brevo batch API sink on loopback (bench/brevosink.py)"),
        ("brevo", None, "Brevo batch API sink on loopback (bench/brevosink.py)"),
        ("smtp", 10_000, "SMTP sink on loopback (bench/smtpsink.py)"),
    ]
    rows = []
    for provider, members, sink in runs:
        result = fanout_bench(program, provider=provider, members=members)
        size = f"{members // 1000}k" if members else "100k"
        label = f"campaign fan-out ({provider}), {size} segment, worker --concurrency {result['concurrency']}"
        MET[label] = result["rate"] >= 2000
        rows.append(
            (
                label,
                fmt(result),
                sink,
                f"{result['rate'] / 2000:.2f} x target 2,000/s",
            )
        )
    return rows


# --- in-process timings (periodic jobs, admin pages, selectors) -------------------------------


def timed(fn, repeat: int = 1) -> float:
    """Best of `repeat` wall-clock runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def admin_timings(program: Program) -> list[tuple[str, float]]:
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    member = Member.objects.filter(program=program).order_by("-points_lifetime").first()

    def get(path: str):
        def run():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        return run

    pages = [
        ("admin: member changelist", "/admin/members/member/"),
        ("admin: member search", f"/admin/members/member/?q={member.last_name}"),
        ("admin: member detail + ledger", f"/admin/members/member/{member.pk}/change/"),
        # The default period (last 30 days) comes from the summary the job below stored.
        ("admin: dashboard", f"/admin/?program={program.pk}"),
        ("admin: dashboard, custom period (computed live)", f"/admin/?program={program.pk}&{_custom_period()}"),
    ]
    return [(name, timed(get(path), repeat=3)) for name, path in pages]


def rolled_back(job):
    """The job in a transaction rolled back at the end (its chunks' transactions become savepoints,
    and the events it records are never published): every run, before and after a change and at
    both sizes, finds the same due rows, and the bench database stays as seeded."""

    def run():
        with transaction.atomic():
            job()
            transaction.set_rollback(True)

    return run


def _custom_period() -> str:
    """The last 30 days as a custom period: the dashboard computes it live."""
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    return f"period=custom&start={today - timedelta(days=29)}&end={today}"


def backlog_then_a_day(job) -> tuple[float, float]:
    """The seed never ran the jobs, so at "now" release and expiry meet a backlog (a year of lots past
    their date). In one transaction rolled back at the end: the job as of yesterday (the backlog),
    then as of now (the last day's due lots: what a live program's hourly runs meet in a day)."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    with transaction.atomic():
        backlog = timed(lambda: job(now=now - timedelta(days=1)))
        day = timed(lambda: job(now=now))
        transaction.set_rollback(True)
    return backlog, day


def job_timings() -> list[tuple[str, float]]:
    from backoffice.dashboard import dashboard_summaries_refresh
    from campaigns.services import campaign_results_refresh
    from members import metrics, services

    release_backlog, release_day = backlog_then_a_day(services.points_release_pending)
    expiry_backlog, expiry_day = backlog_then_a_day(services.points_expire_due)
    return [
        ("job: release pending points, the seed's backlog", release_backlog),
        ("job: release pending points, the last day's due lots", release_day),
        ("job: expire due lots, the seed's backlog", expiry_backlog),
        ("job: expire due lots, the last day's due lots", expiry_day),
        ("job: tier review", timed(rolled_back(services.tiers_review))),
        # The dashboard reads closed months from these snapshots, the campaign results and the
        # preset periods' pages from the summaries: all filled before the admin timings.
        ("job: dashboard snapshots", timed(metrics.metric_snapshots_refresh)),
        ("job: campaign results per variant", timed(campaign_results_refresh)),
        ("job: dashboard summaries (6 preset periods)", timed(dashboard_summaries_refresh)),
    ]


def selector_timings(program: Program) -> list[tuple[str, float]]:
    from datetime import timedelta

    from django.utils import timezone

    from feedback.selectors import feedback_scores
    from members.metrics import Scope, member_metrics

    end = timezone.now()
    scope = Scope(program=program, start=end - timedelta(days=365), end=end)
    return [
        # CRR, churn, repeat rate, AOV, frequency and CLV come out of one member_metrics call.
        ("selector: CRR + CLV (member_metrics, 12 months)", timed(lambda: member_metrics(scope=scope), repeat=2)),
        (
            "selector: NPS (feedback_scores, 12 months)",
            timed(lambda: feedback_scores(program=program, start=scope.start, end=end), repeat=2),
        ),
    ]


# --- main ---------------------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "?",
    )
    mem = (
        int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")))
        // 2**20
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB, PostgreSQL {pg}, Python {platform.python_version()}"


def main() -> None:
    global DURATION
    parser = argparse.ArgumentParser(description="Benchmark Fidelis against its baselines.")
    parser.add_argument("--members", type=int, default=100_000, help="bench data size when seeding")
    parser.add_argument("--seconds", type=int, default=DURATION, help="duration of each load run")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument(
        "--large",
        default=os.environ.get("BENCH_DB_LARGE", ""),
        help="a second database on the same server seeded with bench/seed.py 1M: jobs, admin pages and "
        "selectors are timed on it too, with the growth exponent between the two sizes",
    )
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated parts to run ({','.join(PARTS)}); prints only, RESULTS.md needs a full run",
    )
    args = parser.parse_args()
    parts = set(args.only.split(",")) if args.only else set(PARTS)
    if parts - set(PARTS):
        sys.exit(f"unknown parts: {', '.join(sorted(parts - set(PARTS)))}; choose from {', '.join(PARTS)}")
    DURATION = args.seconds
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        sys.exit("make bench needs DATABASE_URL=postgres://... and REDIS_URL=redis://...")
    if not shutil.which("wrk") or not shutil.which("pgbench"):
        sys.exit("make bench needs wrk and pgbench: apt-get install -y wrk postgresql-client")
    if not Program.objects.filter(slug="bench").exists():
        sh([sys.executable, str(ROOT / "bench" / "seed.py"), "--members", str(args.members)], timeout=1800)
    program = Program.objects.get(slug="bench")
    partner = Partner.objects.filter(program=program).order_by("pk").first()
    _, key = partner_key_create(partner=partner, name=f"bench {datetime.now(UTC):%Y-%m-%d %H:%M}")
    ids = list(Member.objects.filter(program=program).order_by("pk").values_list("pk", flat=True))
    members_file = Path(tempfile.mkstemp(prefix="bench-members-")[1])
    numbers = list(Member.objects.filter(program=program).values_list("number", flat=True))
    members_file.write_text("\n".join(numbers) + "\n")
    repeat_file = Path(tempfile.mkstemp(prefix="bench-repeat-")[1])
    repeat_file.write_text("\n".join(numbers[:: max(1, len(numbers) // REPEAT_SET)][:REPEAT_SET]) + "\n")
    probe = Member.objects.get(pk=ids[len(ids) // 2 + 7])
    raw_script = to_pgbench(capture_earn(key, probe), probe, ids[0], len(ids))
    statements = raw_script.count(";\n") + raw_script.count("\\gset")

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "ROOT_URLCONF": "floor",
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_RATE": "100000000/min",
    }
    load_env = {"BENCH_KEY": key, "BENCH_MEMBERS": str(members_file)}
    rows: list[tuple[str, str, str, str]] = []
    raw_db = raw_copy_create() if "api" in parts else None
    with Server(env):
        # API and raw runs alternate, so drift in the machine's load touches both alike.
        for clients in (8, 32) if "api" in parts else ():
            api = wrk("earn.lua", clients, load_env)
            raw = pgbench(raw_script, clients, raw_db)
            label = f"earn POST /transactions, {clients} clients"
            MET[label] = api["rps"] / raw["rps"] >= 0.5 and (clients != 8 or api["p99_ms"] < 50)
            rows.append(
                (
                    label,
                    _fmt(api),
                    _fmt(raw, "raw SQL"),
                    f"{api['rps'] / raw['rps']:.2f} x raw",
                )
            )
        if "api" in parts:
            floor = wrk("get.lua", 8, {**load_env, "BENCH_PATH": "/bench/floor"})
            read = wrk("get.lua", 8, {**load_env, "BENCH_PATH": "/api/v1/members/{member}/balance"})
            MET["balance GET /members/{n}/balance, 8 clients"] = read["rps"] / floor["rps"] >= 0.5
            rows.append(
                (
                    "balance GET /members/{n}/balance, 8 clients",
                    _fmt(read),
                    _fmt(floor, "floor"),
                    f"{read['rps'] / floor['rps']:.2f} x floor",
                )
            )
            # A till or an app asking again for the same members: answers come from the cache.
            repeat = wrk("get.lua", 8, {**load_env, "BENCH_MEMBERS": str(repeat_file), "BENCH_PATH": BALANCE})
            MET[f"balance, {REPEAT_SET:,} members read again and again, 8 clients"] = (
                repeat["rps"] / floor["rps"] >= 0.5
            )
            rows.append(
                (
                    f"balance, {REPEAT_SET:,} members read again and again, 8 clients",
                    _fmt(repeat),
                    _fmt(floor, "floor"),
                    f"{repeat['rps'] / floor['rps']:.2f} x floor",
                )
            )
        if "redeem" in parts:
            rows += redeem_rows(program, load_env)
    if raw_db:
        raw_copy_drop(raw_db)
    if "fanout" in parts:
        rows += fanout_rows(program)

    def timings() -> tuple[int, list[tuple[str, float]]]:
        here = Program.objects.get(slug="bench")
        return Member.objects.filter(program=here).count(), (
            (job_timings() if "jobs" in parts else [])
            + (admin_timings(here) if "admin" in parts else [])
            + (selector_timings(here) if "selectors" in parts else [])
        )

    n_small, small = timings()
    n_large, large = 0, {}
    if args.large and {"jobs", "admin", "selectors"} & parts:
        with on_database(args.large):
            n_large, measured = timings()
            large = dict(measured)
    for name, seconds in small:
        if name in large:
            # Growth exponent k in t ~ n^k: 1 is linear in members, below 1 grows slower.
            k = math.log(large[name] / seconds) / math.log(n_large / n_small)
            value = f"{n_small:,}: {seconds * 1000:,.0f} ms; {n_large:,}: {large[name] * 1000:,.0f} ms"
            rows.append((name, value, "", f"growth exponent {k:.2f}"))
            limit = _limit_ms(goal_of(name))
            if limit is not None:
                MET[name] = large[name] * 1000 < limit
        else:
            rows.append((name, f"{seconds * 1000:,.0f} ms", "", ""))
    members_file.unlink()
    repeat_file.unlink()

    table = _table(rows)
    print(table)
    print(f"\nraw-SQL baseline: the {statements} statements one earn request issued, replayed by pgbench")
    if not args.no_write and not args.only:
        results = ROOT / "bench" / "RESULTS.md"
        # The hand-written analysis below the table (profiles, what limits each figure) is kept.
        notes = results.read_text().partition(ANALYSIS)[2] if results.exists() else ""
        results.write_text(
            f"# Benchmark results\n\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.\n"
            f"Data: {len(ids):,} members, bench/seed.py. gunicorn {' '.join(GUNICORN)}; load: wrk, {DURATION} s per run.\n\n"
            f"{table}\n\nRaw-SQL baseline: the {statements} statements one earn request issued (query log), replayed by pgbench.\n"
            f"\n{ANALYSIS}{notes}"
        )


def _limit_ms(goal: str) -> float | None:
    """'< 30 s at 1M' -> 30000; '< 200 ms at 1M' -> 200."""
    found = re.match(r"< ([\d,.]+) (ms|s) at 1M", goal)
    if not found:
        return None
    return float(found.group(1).replace(",", "")) * (1000 if found.group(2) == "s" else 1)


def _fmt(result: dict, label: str = "") -> str:
    prefix = f"{label}: " if label else ""
    errors = f", {result['non2xx'] + result['errors']} errors" if result.get("non2xx") or result.get("errors") else ""
    return f"{prefix}{result['rps']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms{errors}"


def _table(rows: list[tuple[str, str, str, str]]) -> str:
    header = ("measure", "Fidelis", "baseline", "ratio", "goal")
    rows = [(*row, goal_of(row[0])) for row in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
