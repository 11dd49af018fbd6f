"""Writes a patient makes, through the local platform's load balancer: sign-up and sign-in,
observations, document uploads. The disaster-recovery benchmark and drill test use it to
put acknowledged writes (each answered 201) in the database before a drill."""

from __future__ import annotations

import os
import ssl
import uuid
from dataclasses import dataclass, field

import httpx

PASSWORD = "correct horse battery staple"  # noqa: S105 - a made-up patient's password


def pdf(size: int) -> bytes:
    return b"%PDF-1.7\n" + os.urandom(size) + b"\n%%EOF\n"


@dataclass
class Patient:
    url: str
    cafile: str
    client: httpx.Client = field(init=False)
    csrf: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        trust = ssl.create_default_context(cafile=self.cafile)
        self.client = httpx.Client(base_url=self.url, verify=trust, timeout=30)

    def sign_up(self) -> Patient:
        self.email = f"dr-{uuid.uuid4().hex[:12]}@example.com"
        created = self.client.post(
            "/api/auth/register",
            json={"email": self.email, "password": PASSWORD, "display_name": "Drill Patient"},
        )
        created.raise_for_status()
        return self.sign_in()

    def sign_in(self) -> Patient:
        login = self.login()
        login.raise_for_status()
        self.csrf = str(login.json()["csrf_token"])
        return self

    def login(self) -> httpx.Response:
        return self.client.post("/api/auth/login", json={"email": self.email, "password": PASSWORD})

    def observation(self, value: float = 62) -> dict[str, object]:
        created = self.client.post(
            "/api/observations",
            json={
                "type": "heart_rate",
                "value": value,
                "unit": "/min",
                "effective_at": "2026-11-25T08:30:00Z",
            },
            headers={"X-CSRF-Token": self.csrf},
        )
        created.raise_for_status()
        return dict(created.json())

    def document(self, size: int = 50_000) -> dict[str, object]:
        uploaded = self.client.post(
            "/api/documents",
            params={"filename": "scan.pdf"},
            content=pdf(size),
            headers={"X-CSRF-Token": self.csrf},
        )
        uploaded.raise_for_status()
        return dict(uploaded.json())

    def close(self) -> None:
        self.client.close()
