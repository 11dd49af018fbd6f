"""The API on Redis in cluster mode, as ElastiCache runs it: three local nodes with the hash
slots split between them. Sessions, rate limits, the observation cache and the admin
counters all work although their keys live on different nodes."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from pydantic import SecretStr

from health_platform.contract import ApiSettings
from health_platform.local.ports import free_ports
from health_platform.local.redis_server import RedisServer, form_cluster
from tests.api.conftest import HEART_RATE_BODY, Direct, make_app, sign_up
from tests.api.test_mfa_and_admin import enrolled_admin


@dataclass
class Cluster:
    app: FastAPI
    nodes: list[RedisServer]


@pytest.fixture(scope="module")
def cluster(settings: ApiSettings, portal: BlockingPortal) -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="hp-redis-cluster-"))
    password = secrets.token_hex(8)
    nodes = [RedisServer(root / str(n), port, password) for n, port in enumerate(free_ports(3))]
    try:
        for node in nodes:
            node.start(persistent=False, cluster=True)
        form_cluster(nodes)
        app = make_app(
            settings.model_copy(
                update={"redis_url": SecretStr(nodes[0].url), "redis_cluster": True}
            ),
            portal,
        )
        yield Cluster(app, nodes)
        portal.call(app.state.services.close)
    finally:
        for node in nodes:
            node.stop()
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
    holding = [redis.Redis.from_url(node.url).dbsize() > 0 for node in cluster.nodes]
    assert sum(holding) >= 2, holding
