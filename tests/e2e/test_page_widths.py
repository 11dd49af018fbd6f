"""Every page at a desktop width (1440 px) and a phone's (390 px, and 360 px): it shows its
content, nothing scrolls sideways, and a screenshot of each is kept
(test-output/screenshots/, PAGE-1440.png, PAGE-390.png and PAGE-360.png)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import Direct
from tests.e2e.conftest import Site, new_email, register, screenshot
from tests.e2e.test_browser_journeys import PDF, sign_in, sign_in_as_new_admin

WIDTHS = (1440, 390, 360)  # a desktop, and phones as narrow as the issue names
PATIENT_PAGES = {
    "dashboard": ("/", re.compile("^Hello")),
    "documents": ("/documents", "Documents"),
    "your-data": ("/your-data", "Your data"),
    "profile": ("/profile", "Profile"),
    "security": ("/security", "Sign-in and security"),
}
ADMIN_PAGES = {
    "admin-overview": ("/admin", "Overview"),
    "admin-users": ("/admin/users", "Users"),
    "admin-audit": ("/admin/audit", "Audit log"),
}
PUBLIC_PAGES = {
    "signin": ("/signin", "Sign in"),
    "signup": ("/signup", "Create an account"),
    "reset-password": ("/reset-password", "Forgot your password?"),
}


def _fill(page: Page) -> None:
    """A patient's record worth showing: measurements of several kinds and a document."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "hp_csrf")
    for body in (
        {"type": "heart_rate", "value": 64, "unit": "/min"},
        {"type": "body_weight", "value": 70.2, "unit": "kg"},
        {
            "type": "blood_pressure",
            "components": {"systolic": 132, "diastolic": 82},
            "unit": "mm[Hg]",
        },
    ):
        answer = page.request.post(
            "/api/observations",
            data={**body, "effective_at": "2026-11-25T08:30:00Z", "note": "before breakfast"},
            headers={"X-CSRF-Token": csrf},
        )
        assert answer.status == 201, answer.text()
    uploaded = page.request.post(
        "/api/documents?filename=blood-panel-with-a-long-name-2026-11.pdf",
        data=PDF,
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/pdf"},
    )
    assert uploaded.status == 201, uploaded.text()


def _check(page: Page, name: str, path: str, heading: str | re.Pattern[str], width: int) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    wide = page.evaluate("document.documentElement.scrollWidth")
    sticking_out = page.evaluate(
        """width => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 0.5)
            .slice(0, 5)
            .map(e => `${e.tagName}.${e.className} ${e.getBoundingClientRect().right}`)""",
        width,
    )
    assert wide <= width, f"{name} is {wide} px wide at {width} px: {sticking_out}"
    screenshot(page, f"{name}-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_screen(
    browser: Browser, site: Site, direct: Direct, width: int
) -> None:
    context = browser.new_context(
        base_url=site.url,
        viewport={"width": width, "height": 900 if width > 1000 else 844},
        is_mobile=width < 1000,
        has_touch=width < 1000,
    )
    try:
        page = context.new_page()
        for name, (path, heading) in PUBLIC_PAGES.items():
            _check(page, name, path, heading, width)

        email = new_email()
        register(site.api, email, "Ada Lovelace-Byron")
        sign_in(page, email)
        expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
        _fill(page)
        for name, (path, heading) in PATIENT_PAGES.items():
            _check(page, name, path, heading, width)
        page.get_by_role("banner").get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/signin"))

        sign_in_as_new_admin(page, site, direct)
        for name, (path, heading) in ADMIN_PAGES.items():
            _check(page, name, path, heading, width)
    finally:
        context.close()
