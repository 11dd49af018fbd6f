"""The local load balancer as an attacker meets it: a live nginx with TLS (the frontend's
nginx behind it, and a stand-in for the API that records who connects), plus what its
generated configuration says."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from health_platform.contract import LARGE_BODY_ROUTES, MAX_BODY_BYTES
from health_platform.local.nginx import (
    BALANCER_SOURCE_ADDRESS,
    CLIENT_TIMEOUT_SECONDS,
    FRONTEND_CONF,
    FRONTEND_DIST,
    HSTS_MAX_AGE_SECONDS,
    Nginx,
    frontend_nginx,
    load_balancer_conf,
)
from health_platform.local.ports import free_ports
from health_platform.local.tls import ensure_certificate

TIMEOUT = 2  # the balancer's client timeout here, shortened from CLIENT_TIMEOUT_SECONDS


def read_request(connection: socket.socket) -> bytes:
    """A whole request, its body by Content-Length: answering before the balancer has sent
    the body would close the connection under it (a 502, and a flaky test)."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            return received
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    remaining = int(length[1]) - len(body) if length else 0
    while remaining > 0:
        chunk = connection.recv(min(remaining, 65536))
        if not chunk:
            break
        remaining -= len(chunk)
    return head


@dataclass
class Recorder:
    """A stand-in for the API: answers 200 to anything and records each peer's address."""

    port: int
    peers: list[str] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)

    def serve(self) -> None:
        with socket.create_server(("127.0.0.1", self.port)) as server:
            server.settimeout(0.2)
            while not self.stopped.is_set():
                try:
                    connection, (host, _) = server.accept()
                except TimeoutError:
                    continue
                with connection:
                    self.peers.append(host)
                    connection.settimeout(5)
                    read_request(connection)
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    )


@dataclass
class Balancer:
    https: int
    http: int
    certificate: Path
    api: Recorder

    def tls(self, **options: object) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.certificate))
        for name, value in options.items():
            setattr(context, name, value)
        return context

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"https://localhost:{self.https}", verify=self.tls())


@pytest.fixture(scope="module")
def balancer() -> Iterator[Balancer]:
    state = Path(tempfile.mkdtemp(prefix="hp-balancer-"))
    state.chmod(0o755)  # as root, nginx's workers run as nobody and must reach it
    https, http, frontend_port, api_port = free_ports(4)
    certificate = ensure_certificate(state / "tls")
    api = Recorder(api_port)
    threading.Thread(target=api.serve, daemon=True).start()
    frontend = frontend_nginx(state / "frontend", frontend_port)
    conf = load_balancer_conf(
        port=https,
        api_port=api_port,
        frontend_port=frontend_port,
        state_dir=state / "balancer",
        tls=certificate,
        http_redirect_port=http,
        client_timeout=TIMEOUT,
    )
    # Nginx.start checks health with urllib's default trust: this certificate's.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(certificate[0]))
        balancer = Nginx(state / "balancer", conf, f"https://localhost:{https}/health")
        try:
            frontend.start()
            balancer.start()
            yield Balancer(https, http, certificate[0], api)
        finally:
            balancer.stop()
            frontend.stop()
            api.stopped.set()
            shutil.rmtree(state, ignore_errors=True)


def test_a_client_that_trickles_its_header_is_cut_off(balancer: Balancer) -> None:
    raw = socket.create_connection(("127.0.0.1", balancer.https), timeout=5)
    with balancer.tls().wrap_socket(raw, server_hostname="localhost") as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        started = time.monotonic()
        connection.settimeout(0.5)
        closed = False
        while not closed and time.monotonic() - started < 5 * TIMEOUT:
            try:
                connection.sendall(b"a")  # a byte every half second: never a whole header
                closed = connection.recv(1024) == b""
            except TimeoutError:
                continue
            except OSError:
                closed = True
        assert closed, "the balancer still holds a header that never ends"
        assert time.monotonic() - started < TIMEOUT + 1.5


def test_tls_12_refuses_every_suite_without_forward_secrecy_and_aead(balancer: Balancer) -> None:
    def handshake(ciphers: str) -> str | None:
        context = balancer.tls(maximum_version=ssl.TLSVersion.TLSv1_2)
        context.set_ciphers(ciphers)
        raw = socket.create_connection(("127.0.0.1", balancer.https), timeout=5)
        try:
            with context.wrap_socket(raw, server_hostname="localhost") as connection:
                return connection.cipher()[0]  # type: ignore[index]
        except ssl.SSLError:
            return None

    cbc = "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA"
    assert handshake(cbc) is None
    assert handshake("ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-CAMELLIA128-SHA256") is None
    assert handshake("ECDHE-ECDSA-AES128-GCM-SHA256") == "ECDHE-ECDSA-AES128-GCM-SHA256"


def test_https_answers_carry_a_short_hsts(balancer: Balancer) -> None:
    with balancer.client() as client:
        for answer in (client.get("/health"), client.get("/api/anything")):
            assert answer.headers["strict-transport-security"] == f"max-age={HSTS_MAX_AGE_SECONDS}"


def test_the_http_redirect_names_the_server_not_the_clients_host(balancer: Balancer) -> None:
    answer = httpx.get(
        f"http://127.0.0.1:{balancer.http}/login?next=1", headers={"Host": "evil.example"}
    )
    assert answer.status_code == 301
    assert answer.headers["location"] == f"https://localhost:{balancer.https}/login?next=1"


def test_bodies_over_the_limit_are_refused_except_on_the_upload_route(balancer: Balancer) -> None:
    too_big = b"[" + b" " * MAX_BODY_BYTES + b"]"
    with balancer.client() as client:
        for path in ("/api/auth/login", "/"):
            answer = client.post(
                path, content=too_big, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 413, path
            assert answer.json()["error"]["code"] == "too_large"
            # The API's shape in full: the request's id, the one the API would log.
            assert re.fullmatch(r"[0-9a-f]{32}", answer.json()["error"]["request_id"])
        for method, path in LARGE_BODY_ROUTES:
            answer = client.request(method, path, content=b"%PDF-" + b"x" * MAX_BODY_BYTES)
            assert answer.status_code == 200, path  # reached the API (the stand-in)


def test_the_api_sees_the_balancer_at_its_own_source_address(balancer: Balancer) -> None:
    with balancer.client() as client:
        assert client.get("/api/documents").status_code == 200
    assert balancer.api.peers[-1] == BALANCER_SOURCE_ADDRESS != "127.0.0.1"


def test_the_frontends_files_arrive_compressed_as_through_cloudfront(balancer: Balancer) -> None:
    """The frontend's Nginx compresses what it serves (as behind the ALB, over HTTP/1.1);
    the API's answers are not (CloudFront's API behaviour caches nothing, so compresses
    nothing)."""
    script = max((FRONTEND_DIST / "assets").glob("*.js"), key=lambda path: path.stat().st_size)
    with balancer.client() as client:
        asset = client.get(f"/assets/{script.name}", headers={"Accept-Encoding": "gzip"})
        assert asset.status_code == 200
        assert asset.headers["content-encoding"] == "gzip"
        assert asset.content == script.read_bytes()  # httpx decodes it
        assert asset.num_bytes_downloaded < script.stat().st_size / 2
        api = client.get("/api/anything", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in api.headers


def test_the_configurations_slow_client_timeouts(tmp_path: Path) -> None:
    conf = load_balancer_conf(port=1, api_port=2, frontend_port=3, state_dir=tmp_path)
    frontend = FRONTEND_CONF.read_text()
    for directive in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert f"{directive} {CLIENT_TIMEOUT_SECONDS}s;" in conf
        assert f"{directive} {CLIENT_TIMEOUT_SECONDS}s;" in frontend
    # Every location that reaches the API does so from the balancer's own address.
    api_locations = re.findall(r"location[^{]*\{[^}]*proxy_pass http://api;[^}]*\}", conf)
    assert len(api_locations) == 1 + len(LARGE_BODY_ROUTES)
    assert all(f"proxy_bind {BALANCER_SOURCE_ADDRESS};" in block for block in api_locations)
