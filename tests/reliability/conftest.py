"""Real processes for the fault tests: a private broker (a redis-server, or a RabbitMQ vhost) that a test
may kill and restart, a gunicorn app server and a celery worker pointed at it, all on the test database."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from celery import Celery
from django.conf import settings

from tests.conftest import WORKER_COMMAND, _database_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float = 60, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message}")


def _stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class PrivateRedis:
    """A throwaway redis-server of our own (no persistence: a restart loses every queued task, as a
    crashed broker without AOF would)."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.env = {"REDIS_URL": self.url}
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        wait_until(lambda: _pings(client), timeout=10, message=f"redis on {self.port}")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def queue_length(self) -> int:
        """Tasks waiting in any of the queues (kombu keeps each queue as a Redis list of its name)."""
        import redis

        client = redis.Redis(port=self.port)
        return sum(client.llen(name) for name in settings.CELERY_QUEUE_NAMES)


class PrivateRabbit:
    """A virtual host of our own on the local RabbitMQ, reached as the product would (CELERY_BROKER_URL,
    quorum queues, publisher confirms). Killing it deletes the vhost: connections drop and every queued
    task is lost, as with a broker that crashed; starting it makes the vhost anew, empty."""

    def __init__(self, vhost: str):
        self.vhost = vhost
        self.url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
        # Redis stays the cache; the broker is RabbitMQ.
        self.env = {"CELERY_BROKER_URL": self.url, "REDIS_URL": settings.REDIS_URL}

    def _ctl(self, *args: str) -> str:
        return subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True).stdout

    def start(self) -> None:
        self._ctl("add_vhost", self.vhost)
        self._ctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")

    def kill(self) -> None:
        self._ctl("delete_vhost", self.vhost)

    def queue_length(self) -> int:
        """Messages ready or taken but not acknowledged, over every queue of the vhost."""
        out = self._ctl("list_queues", "-p", self.vhost, "--no-table-headers", "messages")
        return sum(int(line) for line in out.split() if line.strip().isdigit())


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


class Processes:
    """Starts app servers and workers with one environment; stops whatever is left at teardown."""

    def __init__(self, tmp_path: Path, env: dict):
        self.tmp_path = tmp_path
        self.env = env
        self.procs: list[subprocess.Popen] = []

    def _popen(self, args: list[str], log_name: str, env: dict) -> subprocess.Popen:
        log = (self.tmp_path / log_name).open("a")
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.tmp_path / name
        return path.read_text()[-4000:] if path.exists() else ""

    def server(self, **extra) -> str:
        """gunicorn with two sync workers; returns its base URL once it answers."""
        port = free_port()
        env = {**self.env, **extra}
        proc = self._popen(
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "--timeout",
                "60",
                "--no-control-socket",
            ],
            "server.log",
            env,
        )
        base = f"http://127.0.0.1:{port}"

        def up():
            if proc.poll() is not None:
                pytest.fail(f"gunicorn exited: {self.log('server.log')}")
            try:
                return requests.get(f"{base}/healthz", timeout=30).status_code in (200, 503)
            except (requests.ConnectionError, requests.Timeout):
                return False

        wait_until(up, timeout=60, message="gunicorn")
        return base

    def worker(self, **extra) -> subprocess.Popen:
        env = {**self.env, **extra}
        log_path = self.tmp_path / "worker.log"
        offset = log_path.stat().st_size if log_path.exists() else 0
        proc = self._popen(
            WORKER_COMMAND,
            "worker.log",
            env,
        )

        def ready():
            # The log line, not a ping: a solo worker that starts on a waiting task answers no ping.
            if proc.poll() is not None:
                pytest.fail(f"celery worker exited: {self.log('worker.log')}")
            with log_path.open() as log:
                log.seek(offset)
                return " ready." in log.read()

        wait_until(ready, timeout=120, message="celery worker")
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            _stop(proc)


def beat_client(broker_url: str) -> Celery:
    """Sends periodic tasks by name to the broker, the way `celery beat` does (with the product's
    queues and routes)."""
    probe = Celery("probe", set_as_current=False)
    probe.config_from_object("django.conf:settings", namespace="CELERY")
    probe.conf.broker_url = broker_url
    probe.conf.broker_transport_options = {"confirm_publish": True} if broker_url.startswith("amqp") else {}
    return probe


@pytest.fixture
def processes(transactional_db, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DATABASE_REPLICA_URL": "",  # the test database's name differs; these processes read the primary
        "ENV_FILE": "/dev/null",
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",  # worker readiness is read from its log
        "EMAIL_URL": f"filemail:///{tmp_path / 'mail'}",  # environ drops one leading slash
    }
    procs = Processes(tmp_path, env)
    yield procs
    procs.stop_all()


def _private_redis():
    """A redis-server on the first free port of 6391-6399 (ours; the shared Redis is never touched)."""
    for port in range(6391, 6400):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return PrivateRedis(port)
    pytest.skip("no free port in 6391-6399 for a private redis-server")


def _private_rabbit():
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("needs RabbitMQ and rabbitmqctl")
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 5672)) != 0:
            pytest.skip("needs RabbitMQ on 127.0.0.1:5672")
    return PrivateRabbit(f"fidelis-test-{os.getpid()}")


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request):
    """The fault tests run on both brokers the product supports: a private Redis and a private RabbitMQ
    vhost, each of which the test may kill and start again."""
    server = _private_redis() if request.param == "redis" else _private_rabbit()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def private_redis():
    """A private Redis broker only (tests of one path that the broker does not change)."""
    server = _private_redis()
    server.start()
    yield server
    server.kill()
