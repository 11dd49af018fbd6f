"""The patient portal and the admin console as people use them, each journey at a desktop
width (1440 px) and a phone's (390 px): health data as people read it (blood pressure as
one reading, units of their choice, range marks, the trend chart), the account basics
(email links, password, two-step sign-in with recovery codes, sessions, export, deletion)
and the admin console. No page may scroll sideways; screenshots go to
test-output/screenshots/ (NAME-1440.png, NAME-390.png)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from health_platform.api.models import User as UserRow
from health_platform.contract import ApiSettings
from tests.api.conftest import PASSWORD
from tests.api.test_email_links import NEW_PASSWORD, links_to
from tests.conftest import Direct
from tests.e2e.conftest import ConsoleProblems, Site, new_email, register, screenshot
from tests.e2e.test_browser_journeys import local_input, sign_in, sign_in_as_new_admin

WIDTHS = (1440, 390)


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def width(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def page(browser: Browser, site: Site, width: int) -> Iterator[Page]:
    """A page at `width`, a phone's (touch, mobile viewport) below 1000 px."""
    phone = width < 1000
    context = browser.new_context(
        base_url=site.url,
        accept_downloads=True,
        viewport={"width": width, "height": 844 if phone else 900},
        is_mobile=phone,
        has_touch=phone,
    )
    context.set_default_timeout(15_000)
    opened = context.new_page()
    problems = ConsoleProblems()
    opened.on("console", problems.console)
    opened.on("pageerror", problems.exception)
    yield opened
    context.close()
    assert problems.seen == [], problems.seen


def fits(page: Page, name: str, width: int) -> None:
    """Nothing scrolls sideways; a screenshot is kept."""
    page.wait_for_load_state("networkidle")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{name} is {wide} px wide at {width} px"
    screenshot(page, f"{name}-{width}")


def csrf(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "hp_csrf")


def signed_in_patient(page: Page, site: Site, name: str = "Ada Lovelace") -> str:
    email = new_email()
    register(site.api, email, name)
    sign_in(page, email)
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    return email


def tick_labels_apart(page: Page, axis: str) -> None:
    """Each tick label of the chart's `axis` on one line, inside the drawing (not cut at its
    edge), none touching."""
    boxes = page.locator(f".recharts-{axis}-tick-labels text").evaluate_all(
        """texts => texts.map(t => {
            const b = t.getBoundingClientRect();
            return {left: b.left, right: b.right, top: b.top, bottom: b.bottom,
                    lines: t.querySelectorAll('tspan').length, text: t.textContent};
        })"""
    )
    drawn = page.locator("figure.chart-figure .recharts-wrapper > svg").bounding_box()
    assert drawn is not None and len(boxes) >= 2, boxes
    for box in boxes:
        assert box["lines"] <= 1, box
        assert drawn["x"] <= box["left"] and box["right"] <= drawn["x"] + drawn["width"], box
    for before, after in itertools.pairwise(boxes):
        apart = (
            before["right"] <= after["left"]
            if axis == "xAxis"
            else after["bottom"] <= before["top"] or before["bottom"] <= after["top"]
        )
        assert apart, (before, after)


def test_health_data_as_people_read_it(page: Page, site: Site, width: int) -> None:
    signed_in_patient(page, site)
    form = page.get_by_role("form", name="Add a measurement")

    # Blood pressure is one reading, in the units people write.
    form.get_by_label("Type").select_option(label="Blood pressure")
    form.get_by_label("Systolic (mmHg)").fill("150")
    form.get_by_label("Diastolic (mmHg)").fill("95")
    form.get_by_label("Measured at").fill(local_input(datetime.now() - timedelta(hours=1)))
    form.get_by_role("button", name="Add").click()
    listed = page.get_by_role("region", name="Measurements")
    expect(listed.get_by_text("150/95 mmHg")).to_be_visible()
    expect(page.locator('[data-type="blood_pressure"]')).to_contain_text("150/95")
    expect(page.locator('[data-type="blood_pressure"]')).to_contain_text("Above the usual range")

    # A time in the future is refused in plain words, and nothing is stored.
    form.get_by_label("Type").select_option(label="Heart rate")
    form.get_by_label("Value (bpm)").fill("64")
    form.get_by_label("Measured at").fill(local_input(datetime.now() + timedelta(days=1)))
    form.get_by_role("button", name="Add").click()
    expect(form.get_by_label("Measured at")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_text("This cannot be in the future.", exact=True)).to_be_visible()
    expect(form.get_by_role("alert")).to_have_text(
        "Please check what you entered. Each marked field says what to change."
    )
    form.get_by_label("Measured at").fill(local_input(datetime.now() - timedelta(days=3)))
    form.get_by_role("button", name="Add").click()
    expect(listed.get_by_text("64 bpm")).to_be_visible()

    # Weight in pounds: shown and entered in lb, stored in kg.
    # A birth date after today is refused in words, at its field.
    page.goto("/profile")
    page.get_by_label("Date of birth").fill(
        (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%d")
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Date of birth")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("This must be in the past.", exact=True)).to_be_visible()
    page.get_by_label("Date of birth").fill("1985-12-10")
    page.get_by_role("group", name="Units").get_by_label("Body weight").select_option(label="lb")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.goto("/")
    form.get_by_label("Type").select_option(label="Body weight")
    form.get_by_label("Value (lb)").fill("154.3")
    form.get_by_label("Measured at").fill(local_input(datetime.now() - timedelta(days=10)))
    form.get_by_role("button", name="Add").click()
    expect(listed.get_by_text("154.3 lb")).to_be_visible()
    stored = page.request.get("/api/observations?type=body_weight").json()["items"][0]
    assert stored["unit"] == "kg" and stored["value"] == pytest.approx(69.99, abs=0.01)
    # A search whose end comes before its start says so.
    listed.get_by_label("From").fill(local_input(datetime.now()))
    listed.get_by_label("To").fill(local_input(datetime.now() - timedelta(days=1)))
    expect(listed.get_by_text("The end is before the start.")).to_be_visible()
    listed.get_by_label("From").fill("")
    listed.get_by_label("To").fill("")
    fits(page, "portal-dashboard", width)

    # The chart: the period is its time axis, its ticks are round and apart.
    trend = page.get_by_role("region", name="Trend")
    chart = page.locator("figure.chart-figure")
    trend.get_by_label("Measurement", exact=True).select_option(label="Blood pressure")
    expect(chart).to_have_attribute("data-points", "1")
    expect(chart.locator(".recharts-line")).to_have_count(2)  # systolic and diastolic
    expect(chart.locator(".recharts-legend-wrapper")).to_contain_text("Systolic")
    expect(chart).to_contain_text("mmHg")
    trend.get_by_label("Measurement", exact=True).select_option(label="Heart rate")
    expect(chart).to_have_attribute("data-points", "1")
    ticks = chart.locator(".recharts-xAxis-tick-labels text")
    by_period = {}
    for period in ("Last 7 days", "Last year"):
        trend.get_by_label("Period").select_option(label=period)
        expect(chart).to_have_attribute("data-points", "1")
        tick_labels_apart(page, "xAxis")
        tick_labels_apart(page, "yAxis")
        by_period[period] = ticks.all_text_contents()
    assert by_period["Last 7 days"] != by_period["Last year"], by_period
    days, months = by_period["Last 7 days"], by_period["Last year"]
    # By day: the month named at the first tick (and where it changes), then day numbers.
    assert re.fullmatch(r"\d{1,2} \w{3}|\w{3} \d{1,2}", days[0]), days
    assert all(re.fullmatch(r"\d{1,2}|\d{1,2} \w{3}|\w{3} \d{1,2}", t) for t in days), days
    assert len(days) >= 3, days
    assert all(re.fullmatch(r"[A-Za-z]{3,9}\.?( \d{4})?", t) for t in months), months

    trend.get_by_label("Period").select_option(label="Dates I choose")
    trend.get_by_label("From").fill((datetime.now() - timedelta(days=5)).strftime("%Y-%m-%d"))
    expect(trend.get_by_text("Choose both dates.")).to_be_visible()
    trend.get_by_label("To").fill(datetime.now().strftime("%Y-%m-%d"))
    expect(chart).to_have_attribute("data-points", "1")
    expect(chart).to_be_visible()
    tick_labels_apart(page, "xAxis")

    # One keyboard stop for the chart; its data as a table for a screen reader.
    stops = chart.evaluate(
        """f => [...f.querySelectorAll('*')].filter(e => e.tabIndex >= 0).length"""
    )
    assert stops == 1
    chart.locator("[tabindex='0']").focus()
    page.keyboard.press("ArrowRight")
    expect(chart.locator(".recharts-tooltip-wrapper")).to_contain_text("64 bpm")
    trend.get_by_text("Show as a table").click()
    table = trend.get_by_role("table", name=re.compile("Heart rate over time"))
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table.get_by_role("cell", name="64", exact=True)).to_be_visible()
    fits(page, "portal-chart", width)


def test_account_basics(page: Page, site: Site, settings: ApiSettings, width: int) -> None:
    email = signed_in_patient(page, site)

    # The address is confirmed from its email; until then a reminder says why it matters.
    expect(page.get_by_role("status").filter(has_text="password reset")).to_be_visible()
    (welcome,) = links_to(settings, email, 1)["/verify-email"]
    page.goto(f"/verify-email#token={welcome}")
    expect(page.get_by_text("Your email address is confirmed.")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("status").filter(has_text="password reset")).to_have_count(0)

    # The password changes with the current one.
    page.goto("/security")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()

    # Sessions: this device and another; signing out everywhere ends both.
    other = site.api.post("/api/auth/login", json={"email": email, "password": NEW_PASSWORD})
    assert other.status_code == 200
    site.api.cookies.clear()
    page.reload()
    sessions = page.get_by_role("region", name="Where you are signed in")
    expect(sessions.get_by_role("listitem")).to_have_count(2)
    expect(sessions.get_by_text("This device")).to_have_count(1)
    fits(page, "portal-security", width)
    page.get_by_role("button", name="Sign out everywhere").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign out everywhere").click()
    expect(page).to_have_url(re.compile(r"/signin"))

    # A forgotten password is reset through the confirmed address.
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_contain_text("a message is on its way")
    # Mailed: the welcome, the notice of the changed password, then the reset's link.
    (reset,) = links_to(settings, email, 3)["/reset-password"]
    page.goto(f"/reset-password#token={reset}")
    renewed = "a third and fresh passphrase"
    page.get_by_label("New password", exact=True).fill(renewed)
    page.get_by_label("New password, again").fill(renewed)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    sign_in(page, email, renewed)
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()

    # Two-step sign-in for a patient, with recovery codes that work once.
    page.goto("/security")
    page.get_by_role("link", name="Turn on two-step sign-in").click()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes.first).to_be_visible()
    code = codes.first.inner_text().strip()
    fits(page, "portal-recovery-codes", width)
    page.get_by_role("button", name="I have saved them").click()
    expect(page.get_by_role("heading", name="Sign-in and security")).to_be_visible()
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(renewed)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Use a recovery code instead").click()
    page.get_by_label("Recovery code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()

    # And off again, with both factors: the password alone signs in after that.
    page.goto("/security")
    page.get_by_text("Turn off two-step sign-in", exact=True).first.click()
    turning_off = page.get_by_role("form", name="Turn off two-step sign-in")
    turning_off.get_by_label("Password").fill(renewed)
    later = pyotp.TOTP(secret).at(datetime.now() + timedelta(seconds=30))
    turning_off.get_by_label("Code from your authenticator").fill(later)
    turning_off.get_by_role("button", name="Turn off two-step sign-in").click()
    expect(page.get_by_role("region", name="Two-step sign-in")).to_contain_text("Off.")

    # One's own data, as FHIR and as CSV.
    page.request.post(
        "/api/observations",
        data={
            "type": "heart_rate",
            "value": 61,
            "unit": "/min",
            "effective_at": "2026-11-20T08:00:00Z",
        },
        headers={"X-CSRF-Token": csrf(page)},
    )
    page.goto("/your-data")
    with page.expect_download() as fhir:
        page.get_by_role("button", name="Download everything (FHIR)").click()
    bundle = json.loads(Path(fhir.value.path()).read_text())
    assert bundle["resourceType"] == "Bundle"
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"Patient", "Observation"} <= kinds
    with page.expect_download() as table:
        page.get_by_role("button", name="Download measurements (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(table.value.path()).read_text())))
    assert [float(row["value"]) for row in rows] == [61]
    fits(page, "portal-your-data", width)


def test_account_deletion_waits_and_can_be_cancelled(page: Page, site: Site, width: int) -> None:
    signed_in_patient(page, site)
    page.goto("/your-data")
    deletion = page.get_by_role("region", name="Delete your account")
    expect(deletion).to_contain_text("Nothing is deleted for 30 days")
    expect(deletion).to_contain_text("kept for six years")
    deletion.get_by_role("button", name="Delete my account").click()
    expect(deletion.get_by_text("Enter your password.")).to_be_visible()
    expect(deletion.get_by_text("Tick the box")).to_be_visible()
    deletion.get_by_label("Password").fill("not the password at all")
    deletion.get_by_label(re.compile("I have read what happens")).check()
    deletion.get_by_role("button", name="Delete my account").click()
    expect(deletion.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    deletion.get_by_label("Password").fill(PASSWORD)
    deletion.get_by_role("button", name="Delete my account").click()
    expect(deletion.get_by_role("status")).to_contain_text("will be deleted on")
    fits(page, "portal-deletion", width)

    # Reminded on every page, and kept on request.
    page.goto("/documents")
    reminder = page.get_by_role("status").filter(has_text="will be deleted")
    expect(reminder).to_be_visible()
    reminder.get_by_role("button", name="Keep my account").click()
    expect(reminder).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
    expect(page.get_by_text("will be deleted")).to_have_count(0)


def test_a_failed_session_check_is_not_a_sign_out(page: Page, site: Site, width: int) -> None:
    signed_in_patient(page, site)
    page.route("**/api/auth/me", lambda route: route.fulfill(status=503, body="{}"))
    page.reload()
    expect(page.get_by_role("heading", name="We could not check your sign-in")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"/signin"))
    fits(page, "portal-session-check-failed", width)
    page.unroute("**/api/auth/me")
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()


def test_the_admin_console(page: Page, site: Site, direct: Direct, width: int) -> None:
    patient_email = new_email()
    patient_id = register(site.api, patient_email, "Pat Patient")
    # A refusal to find: the patient tries the admin area. Then turns on an authenticator.
    site.api.post("/api/auth/login", json={"email": patient_email, "password": PASSWORD})
    assert site.api.get("/api/admin/users").status_code == 403
    site.api.cookies.clear()
    with direct.session() as session:
        patient = session.get(UserRow, uuid.UUID(patient_id))
        assert patient is not None
        patient.totp_secret = pyotp.random_base32()

    sign_in_as_new_admin(page, site, direct)

    # Users: found, their last sign-in and second factor shown, locked, unlocked, reset.
    page.goto("/admin/users")
    page.get_by_label("Email contains").fill(patient_email)
    page.get_by_role("button", name="Find").click()
    row = page.locator(f'[data-email="{patient_email}"]')
    expect(row).to_contain_text("Pat Patient")
    expect(row).to_contain_text("Email not confirmed")
    expect(row).not_to_contain_text("Never")  # it signed in above
    row.get_by_role("button", name="Lock").click()
    page.get_by_role("dialog").get_by_role("button", name="Lock account").click()
    expect(row).to_contain_text("Locked")
    row.get_by_role("button", name=f"Unlock {patient_email}").click()
    expect(row).to_contain_text("Active")
    row.get_by_role("button", name="Reset second factor").click()
    page.get_by_role("dialog").get_by_role("button", name="Reset second factor").click()
    expect(row.get_by_role("button", name="Reset second factor")).to_have_count(0)
    # A role changes after a question; an administrator's own role cannot.
    row.get_by_label(f"Role of {patient_email}").select_option(label="Administrator")
    page.get_by_role("alertdialog").get_by_role("button", name="Change role").click()
    expect(page.get_by_text(f"{patient_email} is now an administrator.")).to_be_visible()
    row.get_by_label(f"Role of {patient_email}").select_option(label="Patient")
    page.get_by_role("alertdialog").get_by_role("button", name="Change role").click()
    expect(page.get_by_text(f"{patient_email} is now a patient.")).to_be_visible()
    fits(page, "console-users", width)

    # The audit log: people and actions in words, refusals first, exported for an auditor.
    page.goto("/admin/audit")
    page.get_by_label("Who (email contains)").fill(patient_email)
    page.get_by_label("Outcome").select_option(label="Refused")
    page.get_by_role("button", name="Search").click()
    refused = page.locator("tr.refused").first
    expect(refused).to_contain_text("Refused")
    expect(refused).to_contain_text("Pat Patient")
    expect(refused).to_contain_text(patient_email)
    fits(page, "console-audit", width)
    with page.expect_download() as exported:
        page.get_by_role("button", name="Export these records (CSV)").click()
    records = list(csv.DictReader(io.StringIO(Path(exported.value.path()).read_text())))
    assert records and all(r["outcome"] == "refused" for r in records), records
    assert all(r["what"] for r in records), records
