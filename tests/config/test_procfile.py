"""`make run` starts the Procfile's process types with honcho: one Ctrl-C stops them all, the scheduler
included (it used to survive in a process group of its own, and the next run had two)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import _database_url

ROOT = Path(__file__).resolve().parents[2]
HONCHO = Path(sys.executable).parent / "honcho"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children_of(pid: int) -> set[int]:
    """Every descendant of pid, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_procfile_declares_web_one_worker_per_queue_and_beat(settings):
    types = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line[:1].isalpha())
    assert {"web", "worker", "beat"} <= set(types)
    assert {f"worker-{queue}" for queue in settings.CELERY_QUEUE_NAMES} <= set(types)
    assert all(command.strip().startswith("deploy/entrypoint.sh ") for command in types.values())


@pytest.mark.postgres  # the processes share the (migrated) test database, which SQLite's in-memory one cannot
@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_web_and_beat(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(WEB_SERVER="runserver", HOST="127.0.0.1", ENV_FILE="/dev/null", DEBUG="true", PYTHON=sys.executable)
    env.update(DATABASE_URL=_database_url(), DATABASE_REPLICA_URL="")
    log = (tmp_path / "honcho.log").open("w")
    honcho = subprocess.Popen(
        [str(HONCHO), "start", "--port", str(port), "web", "beat"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            pytest.fail((tmp_path / "honcho.log").read_text()[-3000:])
        started = _children_of(honcho.pid)
        commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ") for pid in started)
        assert "runserver" in commands and "beat" in commands

        honcho.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
        honcho.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(pid) for pid in started):
            time.sleep(0.3)
        assert not [pid for pid in started if _alive(pid)], (tmp_path / "honcho.log").read_text()[-3000:]
    finally:
        if honcho.poll() is None:
            honcho.kill()
        log.close()
