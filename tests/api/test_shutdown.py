"""Graceful shutdown, as ECS does it: SIGTERM while an upload is in flight. The server stops
accepting connections at once, finishes the upload (201, recorded), and exits cleanly."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from health_platform.local.ports import free_port
from tests.api.conftest import PASSWORD
from tests.conftest import Backends


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_sigterm_finishes_the_request_in_flight(backends: Backends, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": backends.database_url,
        "REDIS_URL": backends.redis.url,
        "SESSION_SECRET": secrets.token_hex(32),
        "STORAGE_PATH": str(tmp_path),
        "COOKIE_SECURE": "false",  # plain HTTP on loopback
        # Other tests' sign-ins from 127.0.0.1 count in the same Redis.
        "LOGIN_RATE": "1000000",
        "RATE_PER_ADDRESS": "1000000",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "health_platform.api.main:app", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while refuses_connections(port):
            assert time.monotonic() < deadline and server.poll() is None, "the API did not start"
            time.sleep(0.1)
        with httpx.Client(base_url=base) as client:
            account = {"email": f"{uuid.uuid4().hex[:12]}@example.com", "password": PASSWORD}
            client.post("/api/auth/register", json={**account, "display_name": "T"})
            login = client.post("/api/auth/login", json=account)
            cookie = login.headers["set-cookie"].split(";")[0]
            csrf = login.json()["csrf_token"]

        body = b"%PDF-1.7\n" + os.urandom(200_000)
        upload = socket.create_connection(("127.0.0.1", port), timeout=30)
        upload.sendall(
            (
                f"POST /api/documents?filename=late.pdf HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Cookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body[:1000]
        )
        time.sleep(0.5)  # the request is being handled, its body half sent

        server.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while not refuses_connections(port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.1)

        upload.sendall(body[1000:])
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = upload.recv(65536)
            if not chunk:
                break
            response += chunk
        upload.close()
        assert response.startswith(b"HTTP/1.1 201"), response[:200]
        # uvicorn finishes its shutdown, then re-raises the signal it caught: ended by SIGTERM.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
