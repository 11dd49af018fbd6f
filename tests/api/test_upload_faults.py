"""Uploads that go wrong: a body that trickles or stalls (408, cut by the API itself: the
ALB's idle timeout restarts with each byte), a client that leaves mid-upload (a 499 line,
no error), a full or read-only storage folder (507, and the API stays in rotation). None
leaves a partial file behind."""

from __future__ import annotations

import errno
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import BlockingPortal

from health_platform.api.storage import _FileWriter
from health_platform.contract import ApiSettings
from tests.api.conftest import PASSWORD, client_for, make_app, serve, sign_up
from tests.api.test_documents import PDF, upload

WINDOW = 0.5  # seconds; the settings' default is 20
MIN_RATE = 1000  # bytes a second: 500 bytes a window


def stored_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


@pytest.fixture
def served(settings: ApiSettings, storage: Path) -> Iterator[tuple[str, str]]:
    """The API on a port of its own with a short body window; yields its address and the
    head of an upload request (signed in, a CSRF token) for a raw socket to send."""
    update = {
        "storage_path": str(storage),
        "cookie_secure": False,  # plain http here
        "body_read_window_seconds": WINDOW,
        "body_min_bytes_per_second": MIN_RATE,
    }
    with serve(settings.model_copy(update=update)) as url, httpx.Client(base_url=url) as api:
        email = f"slow-{time.monotonic_ns()}@example.com"
        api.post(
            "/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": "S"}
        )
        signed_in = api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        cookies = "; ".join(f"{name}={value}" for name, value in api.cookies.items())
        head = (
            "POST /api/documents?filename=slow.pdf HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Cookie: {cookies}\r\nX-CSRF-Token: {signed_in.json()['csrf_token']}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(PDF)}\r\n\r\n"
        )
        yield url, head


def open_upload(url: str, head: str, first: bytes) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=5)
    connection.sendall(head.encode() + first)
    return connection


def test_a_trickling_body_is_cut_with_408_and_leaves_nothing(
    served: tuple[str, str], storage: Path
) -> None:
    url, head = served
    connection = open_upload(url, head, PDF[:1000])  # past the sniffing: a file is open
    started = time.monotonic()
    answer = b""
    with connection:
        for byte in PDF[1000:1100]:  # a byte every 50 ms: 20 bytes a second, for 5 s at most
            try:
                connection.sendall(bytes([byte]))
            except OSError:  # the API closed the connection: it answered already
                break
            time.sleep(0.05)
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"too_slow"' in answer
    assert time.monotonic() - started < 4 * WINDOW + 1
    assert stored_files(storage) == []


def test_a_client_that_leaves_mid_upload_is_a_499_line_without_an_error(
    served: tuple[str, str],
    storage: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, head = served
    open_upload(url, head, PDF[:1000]).close()
    deadline = time.monotonic() + 5
    lines: list[dict[str, object]] = []
    while not any(line.get("path") == "/api/documents" for line in lines):
        assert time.monotonic() < deadline, "no access line for the upload"
        time.sleep(0.05)
        out = capsys.readouterr().out
        lines += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    (upload_line,) = [line for line in lines if line.get("path") == "/api/documents"]
    assert upload_line["status"] == 499
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    assert stored_files(storage) == []


@pytest.mark.parametrize(
    ("failure", "said"),
    [(errno.ENOSPC, "full"), (errno.EROFS, "read-only"), (errno.EACCES, "read-only")],
)
def test_a_full_or_read_only_storage_answers_507_and_keeps_nothing(
    settings: ApiSettings,
    portal: BlockingPortal,
    storage: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: int,
    said: str,
) -> None:
    # As root, file modes do not stop a write and no small file system can be mounted here:
    # the write itself fails as a full or read-only disk makes it fail.
    def refused(self: _FileWriter, chunk: bytes) -> None:
        raise OSError(failure, "refused by the test")

    monkeypatch.setattr(_FileWriter, "write", refused)
    patient = sign_up(make_app(settings.model_copy(update={"storage_path": str(storage)}), portal))
    answer = upload(patient, PDF)
    assert answer.status_code == 507, answer.text
    error = answer.json()["error"]
    assert error["code"] == "insufficient_storage" and said in error["message"]
    assert stored_files(storage) == []
    assert patient.client.get("/api/documents").json()["total"] == 0


def test_a_failing_storage_degrades_readiness_without_leaving_the_rotation(
    settings: ApiSettings, portal: BlockingPortal, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "uploads"
    not_a_folder.write_text("a file where the folder should be")
    app = make_app(settings.model_copy(update={"storage_path": str(not_a_folder)}), portal)
    ready = client_for(app).get("/health/ready")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["checks"]["storage"].startswith("failed: ")
    assert "documents cannot be stored" in body["detail"]["storage"]
    portal.call(app.state.services.close)
