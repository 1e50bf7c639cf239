"""Without Redis there is no worker, yet periodic work must happen: `celery beat` runs it itself."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from members import services
from members.models import PointLot
from tests.conftest import _database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_beat_without_a_broker_releases_pending_points(program, partner, member, tmp_path):
    program.pending_days = 1
    program.save()
    services.purchase_record(member=member, partner=partner, external_id="till-1", amount=Decimal("40"), currency="EUR")
    # As if it had been recorded almost a day ago: its points become spendable a few seconds from now.
    PointLot.objects.filter(member=member).update(available_at=timezone.now() + timedelta(seconds=3))
    member.refresh_from_db()
    assert (member.points_pending, member.points_available) == (40, 0)
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="release now", task="members.tasks.points_release_pending", interval=every_second)

    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(DATABASE_URL=_database_url(), ENV_FILE="/dev/null", DEBUG="true", CONN_MAX_AGE="0")
    log = (tmp_path / "beat.log").open("w")
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "--pidfile=", f"--schedule={tmp_path / 'beat'}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and member.points_pending:
            time.sleep(0.5)
            member.refresh_from_db()
    finally:
        beat.terminate()
        beat.wait(timeout=15)
        log.close()
    assert (member.points_pending, member.points_available) == (0, 40), (tmp_path / "beat.log").read_text()[-2000:]
