"""What patients and administrators do, in a real browser, against the real platform."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
from playwright.sync_api import Browser, Page, expect

from health_platform.api.invitations import invite_admin
from health_platform.api.models import User as UserRow
from health_platform.contract import ENROLL_PATH
from health_platform.ops.admins import enrollment_token
from tests.api.conftest import PASSWORD
from tests.conftest import Backends, Direct
from tests.e2e.conftest import Site, new_email, register, screenshot

# A small but real PDF, padded so an upload takes more than one progress event.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def sign_in(page: Page, email: str, password: str = PASSWORD, code: str | None = None) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if code is not None:
        expect(page.get_by_text("Enter the 6-digit code")).to_be_visible()
        page.get_by_label("Authentication code").fill(code)
        page.get_by_role("button", name="Sign in").click()


def sign_in_as_new_admin(page: Page, site: Site, direct: Direct) -> None:
    """A new administrator with an authenticator already enrolled, signed in with its code,
    at the admin area's overview."""
    email = new_email()
    user_id = register(site.api, email, "Grace Hopper")
    secret = pyotp.random_base32()
    with direct.session() as session:
        row = session.get(UserRow, uuid.UUID(user_id))
        assert row is not None
        row.role, row.totp_secret = "admin", secret
    sign_in(page, email, code=pyotp.TOTP(secret).now())
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin"))


def local_input(moment: datetime) -> str:
    """A datetime-local field's value (the browser runs in this process's time zone)."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def every_control_is_labelled(page: Page) -> None:
    unlabelled = page.locator("input:not([type=hidden]), select, textarea").evaluate_all(
        """controls => controls
            .filter(c => c.labels.length === 0 && !c.getAttribute('aria-label'))
            .map(c => c.outerHTML)"""
    )
    assert unlabelled == []


def api_answer(page: Page, method: str, path: str, body: dict[str, Any]) -> Any:
    """The API's own answer to `body`, sent with the page's session and CSRF token."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "hp_csrf")
    response = page.request.fetch(
        path, method=method, data=body, headers={"X-CSRF-Token": csrf}, fail_on_status_code=False
    )
    return response.status, response.json()


def test_a_patients_journey(page: Page, site: Site, tmp_path: Path) -> None:
    email = new_email()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2F$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "sign-in")

    # Sign up: the password rule is checked before anything is sent.
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Password").fill("too short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Use at least 12 characters.")).to_be_visible()
    every_control_is_labelled(page)
    screenshot(page, "sign-up")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Hello, Ada Lovelace")).to_be_visible()

    # Add an observation; it shows in the summary, the list and the chart.
    form = page.get_by_role("form", name="Add a measurement")
    form.get_by_label("Type").select_option(label="Heart rate")
    form.get_by_label("Value (bpm)").fill("64")
    form.get_by_label("Measured at").fill(local_input(datetime.now() - timedelta(hours=2)))
    form.get_by_role("button", name="Add").click()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the measurement
    expect(table.get_by_role("cell", name="64 bpm")).to_be_visible()
    expect(page.locator('li[data-type="heart_rate"]')).to_contain_text("64")
    page.get_by_role("region", name="Trend").get_by_label("Measurement", exact=True).select_option(
        label="Heart rate"
    )
    chart = page.locator("figure.chart-figure")
    expect(chart).to_have_attribute("data-points", "1")
    expect(chart.locator(".recharts-line-dots circle")).to_have_count(1)

    # An out-of-range value is refused in the API's own words, and nothing is stored.
    out_of_range = {
        "type": "heart_rate",
        "value": 400,
        "unit": "/min",
        "effective_at": "2026-11-25T08:30:00Z",
    }
    status, body = api_answer(page, "POST", "/api/observations", out_of_range)
    assert status == 422
    says = body["error"]["details"][0]["problem"]
    form.get_by_label("Value (bpm)").fill("400")
    form.get_by_role("button", name="Add").click()
    expect(form.get_by_text(says, exact=True)).to_be_visible()
    expect(form.get_by_label("Value (bpm)")).to_have_attribute("aria-invalid", "true")
    expect(table.get_by_role("row")).to_have_count(2)
    every_control_is_labelled(page)
    screenshot(page, "dashboard")

    # Edit, through the list.
    page.get_by_role("button", name=re.compile(r"^Edit Heart rate")).click()
    correction = page.get_by_role("form", name="Correct measurement")
    correction.get_by_label("Value (bpm)").fill("66")
    correction.get_by_role("button", name="Save correction").click()
    expect(table.get_by_role("cell", name="66 bpm")).to_be_visible()

    # Documents: upload with progress, download byte-identical, delete.
    page.get_by_role("link", name="Documents").click()
    expect(page.get_by_text("up to 100 MB each")).to_be_visible()
    content = PDF + b"%" + b"x" * (8 * 1024 * 1024) + b"\n"
    page.evaluate(
        """() => {
            window.progressSeen = [];
            new MutationObserver(() => document.querySelectorAll('progress').forEach(
                p => window.progressSeen.push(p.value))).observe(
                document.body, {subtree: true, attributes: true, childList: true});
        }"""
    )
    # Over loopback 8 MB go in one step; at 8 MB/s the bar has time to move.
    throttle = page.context.new_cdp_session(page)
    throttle.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 8e6},
    )
    page.get_by_label("Choose files…").set_input_files(
        files=[{"name": "lab report.pdf", "mimeType": "application/pdf", "buffer": content}]
    )
    expect(page.get_by_role("list", name="Uploads")).to_contain_text("Uploaded", timeout=15_000)
    expect(page.get_by_label("Upload of lab report.pdf")).to_have_js_property("value", 1)
    throttle.detach()
    seen = page.evaluate("window.progressSeen")
    assert any(0 < value < 1 for value in seen), seen  # it moved, not only 0 then 1
    row = page.get_by_role("row", name=re.compile("lab report.pdf"))
    expect(row).to_contain_text("PDF")
    expect(row).to_contain_text("8.0 MB")
    screenshot(page, "documents")
    with page.expect_download() as download_info:
        row.get_by_role("button", name="Download lab report.pdf").click()
    saved = tmp_path / "downloaded.pdf"
    download_info.value.save_as(saved)
    assert download_info.value.suggested_filename == "lab report.pdf"
    assert saved.read_bytes() == content
    row.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete document").click()
    expect(page.get_by_text("No documents yet.")).to_be_visible()

    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_label("Email")).to_have_value(email)
    page.get_by_label("Date of birth").fill("1985-12-10")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    screenshot(page, "profile")

    # Nothing about the user or their health is kept in the browser's storage.
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    sign_out(page)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))

    # Signing in again finds what was recorded.
    sign_in(page, email)
    expect(page.get_by_role("table").get_by_role("cell", name="66 bpm")).to_be_visible()
    sign_out(page)


def test_an_invited_administrator_sets_a_password_then_a_second_factor(
    page: Page, site: Site, backends: Backends
) -> None:
    """What `hp users create-admin ENV` leads to: the link it prints, opened in a browser."""
    email = new_email()
    token, digest = enrollment_token()
    invite_admin(backends.owner_url, email, "Ivy Invited", digest)
    page.goto(f"{ENROLL_PATH}#token={token}")
    expect(page.get_by_role("heading", name="Set your password")).to_be_visible()
    assert token not in page.url  # taken from the address bar once read
    chosen = "a long and new passphrase"
    page.get_by_label("New password", exact=True).fill(chosen)
    page.get_by_label("New password, again").fill(chosen)
    page.get_by_role("button", name="Set password").click()
    expect(page).to_have_url(re.compile(r"/signin"))
    screenshot(page, "enrolled-then-sign-in")

    sign_in(page, email, chosen)
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()

    # The link works once: opened again, it says so instead of offering the form.
    page.goto(f"{ENROLL_PATH}#token={token}")
    page.get_by_label("New password", exact=True).fill(chosen)
    page.get_by_label("New password, again").fill(chosen)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("used", re.IGNORECASE))


def test_an_administrators_journey(page: Page, site: Site, direct: Direct) -> None:
    patient_email = new_email()
    patient_id = register(site.api, patient_email, "Pat Patient")
    admin_email = new_email()
    admin_id = register(site.api, admin_email, "Grace Admin")
    with direct.session() as session:
        row = session.get(UserRow, uuid.UUID(admin_id))
        assert row is not None
        row.role = "admin"

    # First sign-in: led through enrolling a second factor.
    sign_in(page, admin_email)
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    screenshot(page, "mfa-enrollment")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Authentication code").fill(totp.now())
    page.get_by_role("button", name="Confirm").click()
    # The recovery codes, shown once, before the admin area.
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(
        10
    )
    page.get_by_role("button", name="I have saved them").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    sign_out(page)

    # Then with the code (the next step's: the last one was used, and codes work once).
    sign_in(page, admin_email, code=totp.at(time.time() + 30))
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    with page.expect_response("**/api/admin/counters", timeout=12_000):
        pass  # refreshed on its own
    expect(page.locator('[data-counter="active_sessions"] .card-value')).to_have_text(
        re.compile(r"^[1-9]\d*$")
    )
    screenshot(page, "admin-overview")

    page.get_by_role("link", name="Users").click()
    page.get_by_label("Email contains").fill(patient_email.upper())
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("navigation", name="User pages")).to_contain_text("of 1")
    patient_row = page.locator(f'tr[data-email="{patient_email}"]')
    patient_row.get_by_role("button", name="Lock").click()
    page.get_by_role("dialog").get_by_role("button", name="Lock account").click()
    expect(page.get_by_text(f"{patient_email} is locked.")).to_be_visible()
    expect(patient_row).to_contain_text("Locked")
    every_control_is_labelled(page)
    screenshot(page, "admin-users")

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Who (email contains)").fill(admin_email)
    page.get_by_label("What was done").select_option(label="Locked an account")
    page.get_by_role("button", name="Search").click()
    record = page.get_by_role("row", name=re.compile("Locked an account"))
    expect(record).to_have_count(1)
    expect(record).to_contain_text(patient_id)
    expect(record).to_contain_text(patient_email)  # whom it touched, by address
    expect(record).to_contain_text("Grace Admin")
    expect(record).not_to_contain_text("Refused")
    every_control_is_labelled(page)
    screenshot(page, "admin-audit-log")


def test_an_expired_session_leads_back_to_sign_in_with_a_message(
    page: Page, site: Site, direct: Direct
) -> None:
    email = new_email()
    register(site.api, email)
    sign_in(page, email)
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    me = page.request.get("/api/auth/me").json()
    sessions = direct.redis.smembers(f"user_sessions:{me['id']}")
    direct.redis.delete(*sessions)  # what the idle timeout does

    page.get_by_role("link", name="Documents").click()
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fdocuments"))
    expect(page.get_by_text("Your session has expired. Please sign in again.")).to_be_visible()
    screenshot(page, "session-expired")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()  # as before


def test_forbidden_and_missing_pages_say_so(page: Page, site: Site) -> None:
    email = new_email()
    register(site.api, email)
    sign_in(page, email)
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    page.goto("/admin/users")
    expect(page.get_by_role("heading", name="Access denied")).to_be_visible()
    screenshot(page, "access-denied")
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    screenshot(page, "not-found")


def test_a_network_failure_offers_a_retry(page: Page, site: Site) -> None:
    email = new_email()
    register(site.api, email)
    sign_in(page, email)
    expect(page.get_by_text("No measurements match.")).to_be_visible()  # loaded
    page.context.set_offline(True)
    trend = page.get_by_role("region", name="Trend")
    trend.get_by_label("Measurement", exact=True).select_option(label="Heart rate")
    problem = trend.get_by_role("alert").filter(has_text="Connection problem")
    expect(problem).to_be_visible()
    screenshot(page, "network-failure")
    page.context.set_offline(False)
    problem.get_by_role("button", name="Retry").click()
    expect(problem).to_have_count(0)
    expect(page.get_by_text("No heart rate in this period.")).to_be_visible()


def test_keyboard_users_see_where_they_are(page: Page, site: Site) -> None:
    page.goto("/signin")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    outline = page.get_by_label("Email").evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline not in ("none", "")


def test_usable_at_phone_width(browser: Browser, site: Site) -> None:
    email = new_email()
    register(site.api, email)
    phone = browser.new_context(
        base_url=site.url, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    try:
        page = phone.new_page()
        sign_in(page, email)
        expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
        expect(page.get_by_role("form", name="Add a measurement")).to_be_visible()
        # Wide tables scroll inside their own box; the page itself never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(page, "dashboard-phone")
    finally:
        phone.close()
