"""Recovery codes for an account with TOTP whose authenticator is lost: made by a session
that proved the factor, each good once in place of the 6 digits, the owner told of each use;
making new ones ends the old."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from fastapi import FastAPI

from health_platform.api import recovery_codes
from health_platform.api.models import User as UserRow
from health_platform.contract import ApiSettings
from tests.api.conftest import PASSWORD, Direct, User, client_for, sign_up
from tests.api.test_email_links import links_to


def _with_totp(app: FastAPI, settings: ApiSettings) -> tuple[User, str]:
    """A patient who confirmed their address and turned on the authenticator (optional for
    patients), signed in with it."""
    patient = sign_up(app)
    unconfirmed = patient.client.post("/api/auth/mfa/enroll", headers=patient.headers())
    assert unconfirmed.status_code == 409 and unconfirmed.json()["error"]["code"] == (
        "email_unconfirmed"
    )
    (token,) = links_to(settings, patient.email, 1)["/verify-email"]
    assert (
        patient.client.post("/api/account/email/verify", json={"token": token}).status_code == 204
    )
    secret = patient.client.post("/api/auth/mfa/enroll", headers=patient.headers()).json()["secret"]
    verified = patient.client.post(
        "/api/auth/mfa/verify", json={"code": pyotp.TOTP(secret).now()}, headers=patient.headers()
    )
    assert verified.status_code == 204, verified.text
    return patient, secret


def _sign_in(app: FastAPI, patient: User, **second: str) -> int:
    body = {"email": patient.email, "password": PASSWORD, **second}
    return client_for(app).post("/api/auth/login", json=body).status_code


def test_a_recovery_code_signs_in_once_in_place_of_the_code(
    app: FastAPI, settings: ApiSettings
) -> None:
    patient, _ = _with_totp(app, settings)
    made = patient.client.post("/api/account/recovery-codes", headers=patient.headers())
    assert made.status_code == 200, made.text
    codes = made.json()["codes"]
    assert len(codes) == recovery_codes.COUNT == len(set(codes))
    assert _sign_in(app, patient) == 401  # the second factor is still asked for
    assert _sign_in(app, patient, recovery_code=codes[0].upper()) == 200  # as written down
    assert _sign_in(app, patient, recovery_code=codes[0]) == 401  # used up
    assert _sign_in(app, patient, recovery_code="not-a-code") == 422  # not even the shape
    # New codes end the old ones.
    newer = patient.client.post("/api/account/recovery-codes", headers=patient.headers())
    assert _sign_in(app, patient, recovery_code=codes[1]) == 401
    assert _sign_in(app, patient, recovery_code=newer.json()["codes"][0]) == 200


def test_codes_need_an_authenticator_turned_on(app: FastAPI) -> None:
    plain = sign_up(app)
    refused = plain.client.post("/api/account/recovery-codes", headers=plain.headers())
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "mfa_not_enabled"


def test_a_locked_account_spends_no_recovery_code(
    app: FastAPI, settings: ApiSettings, direct: Direct
) -> None:
    patient, _ = _with_totp(app, settings)
    codes = patient.client.post("/api/account/recovery-codes", headers=patient.headers()).json()[
        "codes"
    ]
    with direct.session() as session:
        row = session.get(UserRow, uuid.UUID(patient.id))
        assert row is not None
        row.locked_until = datetime.now(UTC) + timedelta(days=1)
    assert _sign_in(app, patient, recovery_code=codes[0]) == 401
    with direct.session() as session:
        row = session.get(UserRow, uuid.UUID(patient.id))
        assert row is not None and len(row.recovery_codes or []) == recovery_codes.COUNT
        row.locked_until = None
    assert _sign_in(app, patient, recovery_code=codes[0]) == 200  # still good after unlock


def test_a_patient_turns_the_authenticator_off_with_both_factors(
    app: FastAPI, settings: ApiSettings
) -> None:
    patient, secret = _with_totp(app, settings)
    codes = patient.client.post("/api/account/recovery-codes", headers=patient.headers())
    next_code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))

    def off(password: str, code: str) -> Any:
        return patient.client.post(
            "/api/account/totp/off",
            json={"password": password, "code": code},
            headers=patient.headers(),
        )

    wrong_password = off("not the password at all", next_code)
    assert wrong_password.status_code == 403
    assert wrong_password.json()["error"]["details"][0]["field"] == "password"
    wrong_code = off(PASSWORD, "000000" if next_code != "000000" else "111111")
    assert wrong_code.status_code == 422
    assert wrong_code.json()["error"]["details"][0]["field"] == "code"
    assert off(PASSWORD, next_code).status_code == 204
    assert _sign_in(app, patient) == 200  # the password alone again
    assert _sign_in(app, patient, recovery_code=codes.json()["codes"][0]) == 200  # ignored
    notices = links_to(settings, patient.email, 99)  # read every message: none is a link
    assert notices == {"/verify-email": notices["/verify-email"]}
    assert off(PASSWORD, next_code).status_code == 409  # nothing left to turn off


def test_an_administrator_keeps_the_authenticator(app: FastAPI, direct: Direct) -> None:
    admin = sign_up(app)
    with direct.session() as session:
        row = session.get(UserRow, uuid.UUID(admin.id))
        assert row is not None
        row.role, row.totp_secret = "admin", pyotp.random_base32()
    refused = admin.client.post(
        "/api/account/totp/off",
        json={"password": PASSWORD, "code": "123456"},
        headers=admin.headers(),
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
