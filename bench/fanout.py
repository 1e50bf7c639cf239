"""Campaign fan-out benchmark: a broadcast to the bench program's 100k-member segment (or its first
--members N), sent by a real Celery worker (a subprocess, production settings: prefork, Redis broker,
late acks, prefetch 1) either through Django's SMTP backend to a sink on loopback (bench/smtpsink.py,
one message at a time) or, with --provider brevo, through django-anymail's real Brevo backend to a
loopback server speaking Brevo's batch API (bench/brevosink.py: CAMPAIGN_EMAIL_BATCH recipients per
call with their variables, the batch id as idempotency key).

Deliveries/s counts from the launch (the service call that enqueues the fan-out task) to the moment
the sink accepted the last message. Worker memory is the peak of the summed RSS of the worker's
process tree, sampled every 0.2 s (shared pages of the forked children count once per child, so
this overstates the real footprint a little).

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/fanout.py [--provider smtp|brevo] [--members N]
        [--concurrency 2] [--profile]
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from brevosink import BrevoSink
from django.db.models import Count
from smtpsink import SmtpSink

from campaigns import services
from campaigns.models import Campaign, Delivery, Segment, SegmentMember, Variant
from config.celery import app as celery_app
from members.models import Program

# 2 cores: one pool child per core. A chunk is Python work (rendering, building the MIME message:
# about 3 ms of CPU per delivery) between round trips to PostgreSQL and the SMTP server; on an idle
# machine those waits are short, so more children than cores mostly add context switches and memory
# (each child ~100 MiB RSS, much of it shared with the parent). On a loaded machine the waits grow
# and --concurrency 3 or 4 may pay: measure with `bench/fanout.py --concurrency N` where it runs.
CONCURRENCY = 2
SUBJECT = "{{ name }}, your {{ points_name }} are waiting"
BODY = (
    "Hello {{ name }},\n\nyou have {{ balance }} {{ points_name }} and you are {{ tier }}.\n"
    "Come and spend them this week: everything in the catalog is waiting for you.\n"
)


def _tree(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            children.setdefault(_ppid(int(entry)), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _tree_rss_kib(root: int) -> int:
    """Summed VmRSS of the process tree."""
    total = 0
    for pid in _tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def _tree_cpu_seconds(root: int) -> float:
    """User + system CPU time used so far by the live processes of the tree. Unlike wall time it hardly
    depends on what else runs on the machine, so it is what judges a fix on a shared machine."""
    ticks = 0
    for pid in _tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _worker_env(sink) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    if isinstance(sink, BrevoSink):
        return {**env, "EMAIL_URL": "anymail://brevo", "ANYMAIL_API_KEY": sink.api_key, "ANYMAIL_API_URL": sink.url}
    return {**env, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}


class _Brevo(BrevoSink):
    """The Brevo sink started and stopped as a context, like the SMTP sink."""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _accepted(sink) -> int:
    """Messages the sink accepted: SMTP messages, or recipients of Brevo batch calls."""
    return sink.delivered if isinstance(sink, BrevoSink) else sink.messages


def _calls(sink) -> int:
    return sink.calls if isinstance(sink, BrevoSink) else sink.connections


def _wait_ready(proc: subprocess.Popen, name: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the bench worker exited at start (see its log)")
        if celery_app.control.ping(destination=[name], timeout=0.5):
            return
    raise SystemExit("the bench worker did not answer a ping")


def campaign_for_bench(program: Program, members: int | None = None) -> tuple[Campaign, int]:
    """A fresh broadcast to the seeded everyone-segment, or to a static list of its first `members` (a new
    campaign each run: deliveries are unique per campaign), and how many emails it should send."""
    segment = Segment.objects.get(program=program, name="Everyone (bench)")
    if members:
        segment, _ = Segment.objects.get_or_create(
            program=program, name=f"First {members} (bench)", defaults={"kind": Segment.Kind.STATIC}
        )
        if not segment.entries.exists():
            ids = program.members.filter(consent_email=True).order_by("pk").values_list("pk", flat=True)[:members]
            SegmentMember.objects.bulk_create([SegmentMember(segment=segment, member_id=i) for i in ids], 5000)
    campaign = Campaign.objects.create(
        program=program, name=f"Bench fan-out {datetime.now(UTC):%Y-%m-%d %H:%M:%S}", segment=segment
    )
    Variant.objects.create(campaign=campaign, name="A", subject=SUBJECT, body=BODY)
    from campaigns.selectors import campaign_audience

    return campaign, campaign_audience(campaign=campaign).filter(consent_email=True).count()


def fanout_bench(
    program: Program,
    *,
    concurrency: int = CONCURRENCY,
    profile: Path | None = None,
    provider: str = "smtp",
    members: int | None = None,
) -> dict:
    campaign, expected = campaign_for_bench(program, members)
    celery_app.control.purge()  # a task left over from an interrupted run would skew the timing
    name = f"benchfan-{os.getpid()}@localhost"
    with _Brevo(keep=False) if provider == "brevo" else SmtpSink() as sink:
        log = open(Path(tempfile.gettempdir()) / f"bench-worker-{os.getpid()}.log", "w")  # noqa: SIM115
        worker = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "WARNING",
                "--concurrency",
                str(concurrency),
                "-n",
                name,
            ],
            cwd=ROOT,
            env=_worker_env(sink),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        spies: list[subprocess.Popen] = []
        try:
            _wait_ready(worker, name)
            idle_rss, idle_cpu = _tree_rss_kib(worker.pid), _tree_cpu_seconds(worker.pid)
            if profile:
                spies = _profile_children(worker.pid, profile)
            started = time.monotonic()
            services.campaign_launch(campaign=campaign)
            peak, last_progress, seen = idle_rss, time.monotonic(), 0
            while _accepted(sink) < expected and time.monotonic() - last_progress < 60:
                time.sleep(0.2)
                peak = max(peak, _tree_rss_kib(worker.pid))
                if _accepted(sink) != seen:
                    seen, last_progress = _accepted(sink), time.monotonic()
            finished = sink.last_at or time.monotonic()
            cpu = _tree_cpu_seconds(worker.pid) - idle_cpu
        finally:
            for spy in spies:
                spy.send_signal(signal.SIGINT)
            for spy in spies:
                spy.wait(60)
            worker.terminate()
            worker.wait(60)
            log.close()
    statuses = dict(Delivery.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("pk")).order_by())
    seconds = finished - started
    return {
        "campaign": campaign.pk,
        "expected": expected,
        "sent": statuses.get(Delivery.Status.SENT, 0),
        "statuses": statuses,
        "smtp_messages": _accepted(sink),
        "smtp_connections": _calls(sink),
        "seconds": seconds,
        "rate": _accepted(sink) / seconds if seconds > 0 else 0.0,
        "worker_cpu_seconds": cpu,
        "cpu_ms_per_delivery": 1000 * cpu / max(_accepted(sink), 1),
        "idle_rss_mib": idle_rss / 1024,
        "peak_rss_mib": peak / 1024,
        "concurrency": concurrency,
        "provider": provider,
    }


def _profile_children(worker_pid: int, out: Path) -> list[subprocess.Popen]:
    """py-spy on each pool child (the parent only routes tasks)."""
    spy = Path(sys.executable).parent / "py-spy"
    children = [
        int(p)
        for p in os.listdir("/proc")
        if p.isdigit() and Path(f"/proc/{p}/stat").exists() and _ppid(int(p)) == worker_pid
    ]
    return [
        subprocess.Popen(
            [
                str(spy),
                "record",
                "--pid",
                str(pid),
                "--rate",
                "200",
                "--format",
                "speedscope",
                "-o",
                f"{out}-{pid}.json",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in children
    ]


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


def fmt(result: dict) -> str:
    failed = result["expected"] - result["smtp_messages"]
    return (
        f"{result['provider']}: {result['smtp_messages']:,} emails in {result['seconds']:.1f} s = {result['rate']:,.0f} deliveries/s, "
        f"worker {result['cpu_ms_per_delivery']:.2f} ms CPU each, peak RSS {result['peak_rss_mib']:,.0f} MiB"
        + (f", {failed:,} NOT SENT" if failed else "")
    )


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description="Campaign fan-out benchmark (needs the bench data).")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--provider", choices=("smtp", "brevo"), default="smtp")
    parser.add_argument("--members", type=int, help="only the first N members of the segment (e.g. 10000)")
    parser.add_argument("--profile", type=Path, help="py-spy speedscope output prefix, one file per pool child")
    args = parser.parse_args()
    result = fanout_bench(
        Program.objects.get(slug="bench"),
        concurrency=args.concurrency,
        profile=args.profile,
        provider=args.provider,
        members=args.members,
    )
    print(json.dumps(result, indent=1, default=str))
    print(fmt(result))
