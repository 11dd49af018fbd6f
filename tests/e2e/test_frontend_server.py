"""frontend/nginx.conf as the container runs it: caching, fallback, compression, health and
security headers, checked over HTTP against the real Nginx serving the real build."""

from __future__ import annotations

import re

import httpx
import pytest

from health_platform.local.nginx import FRONTEND_DIST
from tests.e2e.conftest import Site

SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "x-frame-options",
)


@pytest.fixture(scope="module")
def frontend(site: Site) -> httpx.Client:
    return httpx.Client(base_url=site.frontend_url, timeout=10)


def an_asset(suffix: str) -> str:
    return "/assets/" + next((FRONTEND_DIST / "assets").glob(f"index-*{suffix}")).name


def test_index_is_never_cached_and_assets_are_cached_for_a_year(frontend: httpx.Client) -> None:
    index = frontend.get("/")
    assert index.status_code == 200 and index.headers["cache-control"] == "no-store"
    script = frontend.get(an_asset(".js"))
    assert script.status_code == 200
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert script.headers["content-type"] == "application/javascript"


def test_application_routes_fall_back_to_the_index(frontend: httpx.Client) -> None:
    for path in ("/documents", "/admin/audit", "/no/such/page"):
        page = frontend.get(path)
        assert page.status_code == 200 and '<div id="root">' in page.text
        assert page.headers["cache-control"] == "no-store"


def test_a_missing_asset_or_api_path_is_404_not_the_index(frontend: httpx.Client) -> None:
    missing = frontend.get("/assets/index-00000000.js")
    assert missing.status_code == 404 and "<div id=" not in missing.text
    misrouted = frontend.get("/api/observations")
    assert misrouted.status_code == 404
    assert misrouted.json()["error"]["code"] == "not_found"


def test_health_answers_200(frontend: httpx.Client) -> None:
    health = frontend.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


def test_text_is_compressed(frontend: httpx.Client) -> None:
    script = frontend.get(an_asset(".js"), headers={"Accept-Encoding": "gzip"})
    assert script.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in script.headers["vary"]


@pytest.mark.parametrize("path", ["/", "/health", "/assets/index-00000000.js", "stylesheet"])
def test_security_headers_on_every_answer(frontend: httpx.Client, path: str) -> None:
    headers = frontend.get(an_asset(".css") if path == "stylesheet" else path).headers
    assert all(name in headers for name in SECURITY_HEADERS), headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["server"] == "nginx"  # no version


def test_the_build_needs_no_inline_script() -> None:
    index = (FRONTEND_DIST / "index.html").read_text()
    scripts = re.findall(r"<script\b[^>]*>", index)
    assert scripts and all("src=" in tag for tag in scripts), scripts
