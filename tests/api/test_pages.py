"""The four paged lists (observations, documents, accounts, the audit log) read through one
helper (api/data/pages.py): the same shape, the total beside the page, and a page past the
end that still tells the total."""

from __future__ import annotations

import pytest

from health_platform.api.data.pages import ListQuery, statements
from tests.api.conftest import Direct, User
from tests.api.test_mfa_and_admin import enrolled_admin

PDF = b"%PDF-1.4\n" + b"0" * 64


def _pages(client_of: User, path: str, **query: object) -> tuple[dict, dict]:
    first = client_of.client.get(path, params={"limit": 1, **query})
    assert first.status_code == 200, first.text
    past = client_of.client.get(path, params={"limit": 1, "offset": 1_000_000, **query})
    assert past.status_code == 200, past.text
    return first.json(), past.json()


def test_a_patients_lists_share_one_shape(patient: User) -> None:
    for minute in ("00", "01"):
        created = patient.client.post(
            "/api/observations",
            json={
                "type": "heart_rate",
                "value": 60,
                "unit": "/min",
                "effective_at": f"2026-11-25T08:{minute}:00Z",
            },
            headers=patient.headers(),
        )
        assert created.status_code == 201, created.text
        uploaded = patient.client.post(
            "/api/documents",
            params={"filename": f"scan-{minute}.pdf"},
            content=PDF,
            headers=patient.headers(),
        )
        assert uploaded.status_code == 201, uploaded.text
    for path in ("/api/observations", "/api/documents"):
        first, past = _pages(patient, path)
        assert set(first) == {"items", "total", "limit", "offset"}
        assert (len(first["items"]), first["total"], first["limit"]) == (1, 2, 1)
        assert (past["items"], past["total"], past["offset"]) == ([], 2, 1_000_000)
    newest = patient.client.get("/api/observations", params={"limit": 1}).json()["items"][0]
    assert newest["effective_at"].startswith("2026-11-25T08:01")  # newest first


def test_an_administrators_lists_share_it_too(app, direct: Direct) -> None:  # type: ignore[no-untyped-def]
    admin, _ = enrolled_admin(app, direct)
    first, past = _pages(admin, "/api/admin/users", email=admin.email)
    assert (first["total"], first["items"][0]["email"]) == (1, admin.email)
    assert first["items"][0]["mfa_enabled"] is True and "totp_secret" not in first["items"][0]
    assert (past["items"], past["total"]) == ([], 1)
    first, past = _pages(admin, "/api/admin/audit", user_id=admin.id)
    assert first["total"] >= 2 and len(first["items"]) == 1  # sign-ups, sign-ins, enrolment
    # The first search is itself on record by the time of the second.
    assert (past["items"], past["total"]) == ([], first["total"] + 1)


@pytest.mark.parametrize("typed", ["50%", "a_b", "back\\slash"])
def test_an_address_part_matches_as_typed(app, direct: Direct, typed: str) -> None:  # type: ignore[no-untyped-def]
    admin, _ = enrolled_admin(app, direct)
    found = admin.client.get("/api/admin/users", params={"email": typed})
    assert found.status_code == 200 and found.json()["total"] == 0  # no wildcard in them


def test_conditions_come_from_code_and_values_travel_as_parameters() -> None:
    query = ListQuery("things", ("id", "name"), "id")
    page, count = statements(query, ("owner = %(owner)s",))
    assert page == (
        "SELECT id, name, count(*) OVER () AS total FROM things WHERE owner = %(owner)s"
        " ORDER BY id LIMIT %(limit)s OFFSET %(offset)s"
    )
    assert count == "SELECT count(*) FROM things WHERE owner = %(owner)s"
    assert "WHERE TRUE" in statements(query, ())[0]
