"""The frontend end to end: the production build served by Nginx with frontend/nginx.conf,
the real API (uvicorn) on PostgreSQL and Redis, a load balancer in front sending /api/* to
the API and the rest to the frontend (one origin, as behind the ALB), and Debian's chromium
driven by Playwright. Screenshots of each page go to test-output/screenshots/."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from health_platform.contract import ApiSettings
from health_platform.local.nginx import (
    FRONTEND_DIST,
    Nginx,
    frontend_nginx,
    load_balancer_conf,
)
from health_platform.local.ports import free_ports
from tests.api.conftest import PASSWORD, serve
from tests.conftest import REPO

SCREENSHOTS = REPO / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Headless, as root (no sandbox), and nothing that reaches out to the internet: this
# machine's network is closed, and a browser test talks to 127.0.0.1 only.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Site:
    url: str  # the load balancer, the only address the browser uses
    frontend_url: str  # the frontend's Nginx directly, for header checks
    api: httpx.Client = field(repr=False)


@pytest.fixture(scope="session")
def site(settings: ApiSettings) -> Iterator[Site]:
    if not (FRONTEND_DIST / "index.html").exists():
        pytest.fail("frontend/dist is missing: `make frontend` builds it (make test does).")
    # The API tests' settings, over plain http on 127.0.0.1 (no Secure cookies there).
    settings = settings.model_copy(update={"cookie_secure": False})
    state = Path(tempfile.mkdtemp(prefix="hp-e2e-nginx-"))
    state.chmod(0o755)  # as root, nginx's workers run as nobody and must reach it
    frontend_port, balancer_port = free_ports(2)
    frontend = frontend_nginx(state / "frontend", frontend_port)
    try:
        with serve(settings) as api_url:
            api_port = int(api_url.rsplit(":", 1)[1])
            balancer = Nginx(
                state / "balancer",
                load_balancer_conf(
                    port=balancer_port,
                    api_port=api_port,
                    frontend_port=frontend_port,
                    state_dir=state / "balancer",
                ),
                f"http://127.0.0.1:{balancer_port}/health",
            )
            frontend.start()
            balancer.start()
            url = f"http://127.0.0.1:{balancer_port}"
            with httpx.Client(base_url=url, timeout=30) as api:
                yield Site(url, f"http://127.0.0.1:{frontend_port}", api)
            balancer.stop()
    finally:
        frontend.stop()
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


class ConsoleProblems:
    """Errors the page logged: exceptions and policy violations (a CSP refusal shows up
    here). A failed request's own line is left out; the tests check those answers."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.seen.append(message.text)

    def exception(self, error: Exception) -> None:
        self.seen.append(f"uncaught: {error}")


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    made = browser.new_context(
        base_url=site.url, accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    made.set_default_timeout(15_000)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    opened = context.new_page()
    problems = ConsoleProblems()
    opened.on("console", problems.console)
    opened.on("pageerror", problems.exception)
    yield opened
    assert problems.seen == [], problems.seen


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def new_email() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}@example.com"


def register(api: httpx.Client, email: str, name: str = "Test Person") -> str:
    """An account made through the API (through a load balancer); returns its id, which
    only a sign-in tells (registration answers a taken email alike)."""
    created = api.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": name}
    )
    assert created.status_code == 201, created.text
    signed_in = api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    api.cookies.clear()  # the caller signs in as it chooses
    return str(signed_in.json()["user"]["id"])
