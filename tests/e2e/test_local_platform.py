"""`hp up`: the whole platform on this machine, on ports of its own and a state folder of its
own, driven the way a developer drives it (the `hp` command) and used through its load
balancer over TLS."""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pyotp
import pytest
from benchmarks.kill_api_master import RECOVERY_GOAL_SECONDS, kill_under_load
from playwright.sync_api import Browser, expect

from health_platform.local.config import COMPONENTS, PORT_NAMES
from health_platform.local.ports import free_ports
from health_platform.local.processes import group_members, runs_in
from tests.api.conftest import HEART_RATE_BODY, PASSWORD
from tests.e2e.conftest import new_email, register
from tests.e2e.test_browser_journeys import PDF, sign_in

PORT_FLAGS = PORT_NAMES
# Raised through `hp up`'s own flags: the tests here write from one address, fast.
RATE_FLAGS = ("--rate-per-address=100000", "--rate-per-user=100000", "--login-rate=1000")


def hp(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "health_platform.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Platform:
    state: Path
    ports: dict[str, int]

    @property
    def flags(self) -> list[str]:
        return ["--state-dir", str(self.state)]

    @property
    def url(self) -> str:
        return f"https://localhost:{self.ports['https']}"

    @property
    def certificate(self) -> str:
        return str(self.state / "tls" / "localhost.crt")

    def client(self) -> httpx.Client:
        trust = ssl.create_default_context(cafile=self.certificate)
        return httpx.Client(base_url=self.url, verify=trust, timeout=30)

    def pid(self, component: str) -> int:
        return int((self.state / "run" / f"{component}.pid").read_text())

    def up(self) -> subprocess.CompletedProcess[str]:
        ports = [f"--{name}-port={port}" for name, port in self.ports.items()]
        return hp("up", *self.flags, *ports, *RATE_FLAGS)

    def processes(self) -> list[psutil.Process]:
        """What runs in this platform's state folder (every component does)."""
        return [p for p in psutil.process_iter() if runs_in(p.pid, self.state)]


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    state = Path(tempfile.mkdtemp(prefix="hp-local-"))
    state.chmod(0o755)
    running = Platform(state, dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True)))
    try:
        started = running.up()
        assert started.returncode == 0, started.stdout + started.stderr
        yield running
    finally:
        hp("down", *running.flags)
        reset = hp("reset", "local", "--yes", "--delete-backups", *running.flags)
        assert reset.returncode == 0, reset.stderr


def wait_until(check: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def status_of(client: httpx.Client, path: str) -> int | None:
    """The answer's status; None when none came within a second (a stopped upstream)."""
    try:
        return client.get(path, timeout=1).status_code
    except httpx.TimeoutException:
        return None


def signed_up(client: httpx.Client) -> str:
    """A new patient, signed in on `client`; returns the CSRF token."""
    email = new_email()
    register(client, email, "Local")
    login = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return str(login.json()["csrf_token"])


def upload_scan(client: httpx.Client, csrf: str) -> httpx.Response:
    uploaded = client.post(
        "/api/documents",
        params={"filename": "scan.pdf"},
        content=PDF,
        headers={"X-CSRF-Token": csrf},
    )
    assert uploaded.status_code == 201, uploaded.text
    return uploaded


def test_every_component_is_healthy_behind_tls(platform: Platform) -> None:
    with platform.client() as client:
        assert client.get("/health").status_code == 200
    shown = hp("status", "local", *platform.flags)
    assert shown.returncode == 0
    for component in COMPONENTS:
        line = next(line for line in shown.stdout.splitlines() if f" {component} " in line)
        assert "healthy" in line and "unhealthy" not in line, shown.stdout
    # The database takes TLS connections; pgBackRest's repository is outside its folder.
    assert (platform.state / "backups" / "pgbackrest").is_dir()
    assert (platform.state / "postgres" / "data" / "server.key").stat().st_mode & 0o077 == 0


def test_the_welcome_email_reaches_the_mail_catcher(platform: Platform) -> None:
    """Sent by the API over SMTP to the catcher `hp up` runs; read back by `hp mail local`."""
    email = new_email()
    with platform.client() as client:
        register(client, email, "Mailed")
    link = f"{platform.url}/verify-email#token="
    deadline = time.monotonic() + 10
    while True:  # sent beside the response: give it a moment
        shown = hp("mail", "local", "--to", email, "--show", "1", *platform.flags)
        if link in shown.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shown.returncode == 0 and link in shown.stdout, shown.stdout + shown.stderr
    assert email in shown.stdout


def test_paths_are_routed_and_http_redirects(platform: Platform) -> None:
    with platform.client() as client:
        types = client.get("/api/observations/types")
        assert types.status_code == 200 and types.json()[0]["code"] == "body_weight"
        page = client.get("/documents")
        assert page.status_code == 200 and '<div id="root">' in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    plain = httpx.get(f"http://127.0.0.1:{platform.ports['http']}/documents?x=1")
    assert plain.status_code == 301
    # To the server's own name, whatever Host the client sent (never reflected).
    assert plain.headers["location"] == f"https://localhost:{platform.ports['https']}/documents?x=1"


def test_data_survives_down_and_up(platform: Platform) -> None:
    with platform.client() as client:
        csrf = signed_up(client)
        created = client.post(
            "/api/observations", json=HEART_RATE_BODY, headers={"X-CSRF-Token": csrf}
        )
        assert created.status_code == 201, created.text
        uploaded = upload_scan(client, csrf)
        time.sleep(1.2)  # Redis appends to its file every second

        stopped = hp("down", *platform.flags)
        assert stopped.returncode == 0 and "Stopped" in stopped.stdout
        assert not (platform.state / "run" / "supervisor.pid").exists()
        restarted = platform.up()
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr

        # The same session (kept by Redis' append-only file) reads the same data back.
        observation = client.get(f"/api/observations/{created.json()['id']}")
        assert observation.status_code == 200, observation.text
        assert observation.json() == created.json()
        document = client.get(f"/api/documents/{uploaded.json()['id']}/content")
        assert document.status_code == 200 and document.content == PDF


def test_the_state_folder_is_its_owners_alone(platform: Platform) -> None:
    with platform.client() as client:
        csrf = signed_up(client)
        upload_scan(client, csrf)
    for path in [platform.state, *platform.state.rglob("*")]:
        info = path.lstat()
        if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
            continue  # PostgreSQL's socket, in its 0700 folder
        assert info.st_mode & 0o006 == 0, path  # no other user reads or writes it
        if info.st_uid == os.geteuid():  # the cluster's and nginx's keep their own modes
            # 0711 for the folders others pass through (as root: postgres', nginx's users)
            allowed = (0o700, 0o711) if stat.S_ISDIR(info.st_mode) else (0o600,)
            assert info.st_mode & 0o777 in allowed, path
    documents = [p for p in (platform.state / "uploads").rglob("*") if p.is_file()]
    assert documents and all(p.stat().st_mode & 0o777 == 0o600 for p in documents)


def test_a_killed_api_master_under_writes_leaves_no_orphans(platform: Platform) -> None:
    master = platform.pid("api")
    figures = kill_under_load(platform.state, platform.url, platform.certificate)
    assert figures.recovery_seconds < RECOVERY_GOAL_SECONDS, figures
    assert figures.orphans == 0, figures  # no worker of the killed master holds the port
    assert figures.acknowledged > 0 and figures.lost == 0, figures
    assert group_members(master) == []

    stopped = hp("down", *platform.flags)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert platform.processes() == []
    restarted = platform.up()
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr


def test_a_killed_api_worker_or_redis_comes_back(platform: Platform) -> None:
    def workers() -> list[int]:
        """The API's uvicorn workers: its master's children that run the app (another
        child is multiprocessing's resource tracker)."""
        children = psutil.Process(platform.pid("api")).children()
        return [child.pid for child in children if is_worker(child)]

    def is_worker(child: psutil.Process) -> bool:
        try:
            return "spawn_main" in " ".join(child.cmdline())
        except psutil.Error:  # the killed one, not reaped yet
            return False

    before = workers()
    assert len(before) == 2  # --api-workers' default
    os.kill(before[0], signal.SIGKILL)
    wait_until(lambda: len(workers()) == 2 and before[0] not in workers())

    redis_before = platform.pid("redis")
    os.kill(redis_before, signal.SIGKILL)
    wait_until(
        lambda: (
            (platform.state / "run" / "redis.pid").exists()
            and platform.pid("redis") != redis_before
        )
    )
    with platform.client() as client:  # the whole way through works again
        wait_until(lambda: client.get("/api/auth/me").status_code == 401)
        csrf = signed_up(client)
        created = client.post(
            "/api/observations", json=HEART_RATE_BODY, headers={"X-CSRF-Token": csrf}
        )
        assert created.status_code == 201


@pytest.mark.parametrize(
    ("component", "path", "says"),
    [
        ("api", "/api/observations/types", '"code":"unavailable"'),
        ("frontend", "/documents", "The application is unavailable"),
    ],
)
def test_an_unhealthy_upstream_leaves_the_rotation_and_returns(
    platform: Platform, component: str, path: str, says: str
) -> None:
    group = platform.pid(component)  # the master leads its workers' process group
    os.killpg(group, signal.SIGSTOP)
    try:
        with platform.client() as client:
            wait_until(lambda: status_of(client, path) == 503)
            refused = client.get(path)
            assert says in refused.text
            assert refused.headers["retry-after"] == "5"
    finally:
        os.killpg(group, signal.SIGCONT)
    with platform.client() as client:
        wait_until(lambda: client.get(path).status_code == 200)


def test_the_first_administrator_signs_in_with_the_printed_code(platform: Platform) -> None:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    made = hp("users", "create-admin", "local", email, "--name", "Ops", *platform.flags)
    assert made.returncode == 0, made.stderr
    password = re.search(r"Password \(shown once\):\s+(\S+)", made.stdout)
    uri = re.search(r"(otpauth://totp/\S+)", made.stdout)
    assert password and uri, made.stdout
    code = pyotp.parse_uri(uri.group(1)).now()
    with platform.client() as client:
        body = {"email": email, "password": password.group(1), "totp": code}
        signed_in = client.post("/api/auth/login", json=body)
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["user"]["role"] == "admin"
        assert client.get("/api/admin/counters").status_code == 200
    again = hp("users", "create-admin", "local", email, *platform.flags)
    assert again.returncode == 2 and "exists already" in again.stderr


def test_migrations_and_logs_on_demand(platform: Platform) -> None:
    migrated = hp("db", "migrate", "local", *platform.flags)
    assert migrated.returncode == 0 and "up to date" in migrated.stdout
    shown = hp("logs", "local", "postgres", "-n", "5", *platform.flags)
    assert shown.returncode == 0 and len(shown.stdout.splitlines()) >= 1
    every = hp("logs", "local", *platform.flags).stdout
    assert all(f"{name} " in every for name in ("postgres", "api", "supervisor"))


def test_doctor_passes_a_running_platform_one_line_per_component(platform: Platform) -> None:
    checked = hp("doctor", "local", *platform.flags)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for component in COMPONENTS:
        assert re.search(rf"^(pass|warn)\s+{component}\s+health", checked.stdout, re.M), component
    for check in ("ready", "WAL archive", "free space", "certificate"):
        assert re.search(rf"^(pass|warn)\s+\S+\s+{check}:", checked.stdout, re.M), check
    assert "fail" not in checked.stdout.split()


def test_doctor_of_a_platform_that_is_not_running_fails_with_a_hint(tmp_path: Path) -> None:
    checked = hp("doctor", "local", "--state-dir", str(tmp_path))
    assert checked.returncode == 1
    assert "fail" in checked.stdout and "→ hp up" in checked.stdout


def test_the_next_up_replaces_a_killed_supervisor(platform: Platform) -> None:
    with platform.client() as client:
        csrf = signed_up(client)
        created = client.post(
            "/api/observations", json=HEART_RATE_BODY, headers={"X-CSRF-Token": csrf}
        )
        assert created.status_code == 201
        time.sleep(1.2)  # Redis appends to its file every second
        os.kill(platform.pid("supervisor"), signal.SIGKILL)
        master = platform.pid("api")  # and its API master: the workers, orphaned, hold the port
        os.kill(master, signal.SIGKILL)
        restarted = platform.up()  # stops what the dead supervisor left, starts anew
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert "left behind" in restarted.stdout
        assert group_members(master) == []
        read = client.get(f"/api/observations/{created.json()['id']}")
        assert read.status_code == 200 and read.json() == created.json()


def test_up_twice_is_harmless(platform: Platform) -> None:
    again = platform.up()
    assert again.returncode == 0 and "Already running" in again.stdout
    assert "healthy" in hp("status", "local", *platform.flags).stdout


def test_a_port_in_use_is_named_with_its_holder() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        state = Path(tempfile.mkdtemp(prefix="hp-local-busy-"))
        try:
            others = [name for name in PORT_FLAGS if name != "api"]
            ports = [
                f"--{name}-port={port}"
                for name, port in zip(others, free_ports(len(others)), strict=True)
            ]
            refused = hp("up", "--state-dir", str(state), f"--api-port={taken}", *ports)
        finally:
            subprocess.run(["rm", "-rf", str(state)], check=False)
    assert refused.returncode == 7
    message = " ".join(refused.stderr.split())
    assert f"Port {taken} (api) is in use by python" in message
    assert f"(pid {os.getpid()})" in message
    assert "Traceback" not in refused.stderr


def test_a_component_that_fails_stops_the_start_and_shows_its_log() -> None:
    state = Path(tempfile.mkdtemp(prefix="hp-local-broken-"))
    state.chmod(0o755)
    broken = Platform(state, dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True)))
    data = state / "postgres" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("14\n")  # a cluster of another major version
    try:
        refused = broken.up()
        left_running = list((state / "run").glob("*.pid"))
    finally:
        hp("reset", "local", "--yes", "--delete-backups", *broken.flags)
    assert refused.returncode == 7
    assert "postgres failed to start" in refused.stderr
    assert "The last lines of" in refused.stderr and "postgres.log" in refused.stderr
    assert left_running == []  # what had started was stopped


def test_the_browser_journey_through_the_load_balancer(
    platform: Platform, browser: Browser
) -> None:
    email = new_email()
    with platform.client() as client:
        register(client, email, "Over TLS")
    context = browser.new_context(base_url=platform.url, ignore_https_errors=True)
    try:
        page = context.new_page()
        sign_in(page, email)
        expect(page.get_by_role("heading", name="Hello, Over TLS")).to_be_visible()
        form = page.get_by_role("form", name="Add a measurement")
        form.get_by_label("Type").select_option(label="Heart rate")
        form.get_by_label("Value (bpm)").fill("58")
        form.get_by_role("button", name="Add").click()
        expect(page.get_by_role("table").get_by_role("cell", name="58 bpm")).to_be_visible()
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["hp_session"]["secure"] and cookies["hp_session"]["httpOnly"]
    finally:
        context.close()
