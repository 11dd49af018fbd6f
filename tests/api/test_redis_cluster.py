"""The API on Redis in cluster mode, as ElastiCache runs it: three local nodes with the hash
slots split between them. Sessions, rate limits, the observation cache, the admin counters
and the account's links and sessions all work although their keys live on different nodes."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from pydantic import SecretStr

from health_platform.contract import ApiSettings
from health_platform.local.components import redis_component
from health_platform.local.config import LocalConfig
from health_platform.local.credentials import load_or_create
from health_platform.local.data_servers import supervised
from health_platform.local.ports import free_ports
from tests.api.conftest import HEART_RATE_BODY, PASSWORD, Direct, client_for, make_app, sign_up
from tests.api.test_email_links import reset_link_of_a_confirmed_address
from tests.api.test_mfa_and_admin import enrolled_admin


@dataclass
class Cluster:
    app: FastAPI
    urls: list[str]


def form_cluster(ports: list[int], password: str) -> None:
    """Join cluster-mode nodes into one cluster, the slots split between them; the
    password through the environment, never on a command line."""
    subprocess.run(
        [
            "redis-cli",
            "--cluster",
            "create",
            *(f"127.0.0.1:{port}" for port in ports),
            "--cluster-yes",
        ],
        env={**os.environ, "REDISCLI_AUTH": password},
        check=True,
        capture_output=True,
        timeout=60,
    )
    client = redis.Redis(port=ports[0], password=password)
    deadline = time.monotonic() + 20
    while client.cluster("info")["cluster_state"] != "ok":
        assert time.monotonic() < deadline, "the local Redis cluster did not become ready"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster(settings: ApiSettings, portal: BlockingPortal) -> Iterator[Cluster]:
    """Three nodes, each the local platform's Redis component in cluster mode, one
    password."""
    root = Path(tempfile.mkdtemp(prefix="hp-redis-cluster-"))
    credentials = load_or_create(root / "credentials.json")
    ports = free_ports(6)
    try:
        with ExitStack() as nodes:
            for n, (port, bus_port) in enumerate(zip(ports[:3], ports[3:], strict=True)):
                config = LocalConfig(state_dir=root / str(n), redis_port=port)
                node = redis_component(config, credentials, cluster_bus_port=bus_port)
                nodes.enter_context(supervised(config, [node]))
            form_cluster(ports[:3], credentials.redis)
            urls = [f"redis://:{credentials.redis}@127.0.0.1:{port}/0" for port in ports[:3]]
            app = make_app(
                settings.model_copy(
                    update={"redis_url": SecretStr(urls[0]), "redis_cluster": True}
                ),
                portal,
            )
            yield Cluster(app, urls)
            portal.call(app.state.services.close)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_api_works_on_a_cluster(cluster: Cluster, direct: Direct) -> None:
    cluster_app = cluster.app
    patient = sign_up(cluster_app)  # register, sign-in limits, session
    created = patient.client.post(
        "/api/observations", json=HEART_RATE_BODY, headers=patient.headers()
    )
    assert created.status_code == 201, created.text
    first = patient.client.get("/api/observations")  # computed, then cached
    again = patient.client.get("/api/observations")  # served from the cache
    assert first.json() == again.json() and first.json()["total"] == 1
    patient.client.post("/api/observations", json=HEART_RATE_BODY, headers=patient.headers())
    assert patient.client.get("/api/observations").json()["total"] == 2  # invalidated

    admin, _ = enrolled_admin(cluster_app, direct)
    counters = admin.client.get("/api/admin/counters")
    assert counters.status_code == 200, counters.text
    assert counters.json()["active_sessions"] >= 2
    assert counters.json()["logins_per_minute"] >= 2
    locked = admin.client.post(f"/api/admin/users/{patient.id}/lock", headers=admin.headers())
    assert locked.status_code == 200
    assert patient.client.get("/api/auth/me").status_code == 401  # sessions ended everywhere
    assert patient.client.post("/api/auth/logout", headers=patient.headers()).status_code == 401
    # The keys behind all that are spread over the nodes, not piled on one. (Not "every
    # node": the keys hold random ids, so which slots they hash to is chance, and a dozen
    # keys miss one node of three a few times in a hundred runs.)
    holding = [redis.Redis.from_url(url).dbsize() > 0 for url in cluster.urls]
    assert sum(holding) >= 2, holding


def test_account_security_works_on_a_cluster(cluster: Cluster, settings: ApiSettings) -> None:
    """Sessions listed and ended, links issued, replaced and spent, a password changed: the
    user's index of sessions, the links and their live pointers sit on different nodes."""
    cluster_app = cluster.app
    patient = sign_up(cluster_app)
    phone = client_for(cluster_app)
    assert (
        phone.post(
            "/api/auth/login", json={"email": patient.email, "password": PASSWORD}
        ).status_code
        == 200
    )
    listed = patient.client.get("/api/account/sessions").json()
    assert len(listed) == 2
    other = next(s["id"] for s in listed if not s["current"])
    ended = patient.client.delete(f"/api/account/sessions/{other}", headers=patient.headers())
    assert ended.status_code == 204 and phone.get("/api/auth/me").status_code == 401
    anonymous = client_for(cluster_app)
    reset = reset_link_of_a_confirmed_address(anonymous, settings, patient.email)
    changed = patient.client.post(
        "/api/account/password",
        json={"current_password": PASSWORD, "new_password": "violet harbour tractor glimmer"},
        headers=patient.headers(),
    )
    assert changed.status_code == 204
    late = anonymous.post(
        "/api/auth/password-reset/confirm",
        json={"token": reset, "new_password": "another long harbour phrase"},
    )
    assert late.status_code == 400  # the change ended the link, across nodes
    everywhere = patient.client.post(
        "/api/account/sessions/sign-out-everywhere", headers=patient.headers()
    )
    assert everywhere.status_code == 204 and patient.client.get("/api/auth/me").status_code == 401
