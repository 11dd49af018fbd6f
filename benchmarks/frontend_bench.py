"""`make bench-frontend`: the dashboard on a throttled phone. The local platform (`hp up`, on
ports and a state folder of its own) with a signed-in patient who has measurements; then,
with an empty cache each time, Chromium throttled as DevTools' "Slow 4G" (562.5 ms round
trip, 1.44 Mbit/s down, 675 kbit/s up) and a 4x slower CPU, on a 390 px phone: the time
from navigation to the dashboard's content (the latest values shown), and the bytes that
crossed the network. Prints each run and the median; not a test (these machines are
shared and noisy)."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Browser, BrowserContext, StorageState, sync_playwright
from tests.api.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS

from benchmarks.up_bench import hp
from health_platform.local.config import PORT_NAMES
from health_platform.local.ports import free_ports

RUNS = 5
# DevTools' "Slow 4G" preset (Chrome 124+), and its 4x CPU slowdown.
SLOW_4G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.44e6 / 8,
    "uploadThroughput": 675e3 / 8,
}
CPU_SLOWDOWN = 4
CONTENT = "[data-type] .card-value"  # a latest value, in its card
# When the content enters the page, by the page's own clock (milliseconds since the
# navigation began), as a trace would show it: the test driver's polling is not counted.
WATCH = """
new MutationObserver((_, observer) => {
  if (document.querySelector('CONTENT')) {
    window.contentAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { subtree: true, childList: true });
""".replace("CONTENT", CONTENT)


def _patient(url: str) -> str:
    email = f"bench-{time.time_ns()}@example.com"
    with httpx.Client(base_url=url, verify=False) as api:  # noqa: S501 - localhost, own CA
        made = api.post(
            "/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Ada"}
        )
        assert made.status_code == 201, made.text
        signed = api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        csrf = signed.json()["csrf_token"]
        for minutes, rate in enumerate((61, 64, 70, 66, 59)):
            created = api.post(
                "/api/observations",
                headers={"X-CSRF-Token": csrf},
                json={
                    "type": "heart_rate",
                    "value": rate,
                    "unit": "/min",
                    "effective_at": f"2026-11-2{minutes}T08:30:00Z",
                },
            )
            assert created.status_code == 201, created.text
    return email


def _phone(browser: Browser, url: str, session: StorageState | None = None) -> BrowserContext:
    return browser.new_context(
        base_url=url,
        ignore_https_errors=True,
        storage_state=session,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
    )


def _timed(context: BrowserContext) -> tuple[float, int]:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    received: list[float] = []
    cdp.on("Network.loadingFinished", lambda event: received.append(event["encodedDataLength"]))
    page.goto("/", wait_until="commit")
    page.locator(CONTENT).first.wait_for(state="visible", timeout=60_000)
    elapsed = page.evaluate("window.contentAt") / 1000
    page.close()
    return elapsed, int(sum(received))


def main() -> None:
    ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
    state = Path(tempfile.mkdtemp(prefix="hp-bench-frontend-"))
    state.chmod(0o755)
    url = f"https://localhost:{ports['https']}"
    try:
        hp("up", "--state-dir", str(state), *(f"--{k}-port={v}" for k, v in ports.items()))
        email = _patient(url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
            )
            signing = _phone(browser, url)
            page = signing.new_page()
            page.goto("/signin")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.locator(CONTENT).first.wait_for(state="visible")
            session = signing.storage_state()
            signing.close()
            times, sizes = [], []
            for run in range(RUNS):
                context = _phone(browser, url, session)
                context.add_init_script(WATCH)
                elapsed, size = _timed(context)
                context.close()
                times.append(elapsed)
                sizes.append(size)
                print(f"run {run + 1}: {elapsed:.2f} s to content, {size / 1024:.0f} KiB received")
            browser.close()
        print(
            f"\nthe dashboard's content on a throttled phone (Slow 4G, CPU x{CPU_SLOWDOWN}),"
            f" median of {RUNS}: {statistics.median(times):.2f} s;"
            f" {statistics.median(sizes) / 1024:.0f} KiB transferred"
        )
    finally:
        hp("down", "--state-dir", str(state))
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
