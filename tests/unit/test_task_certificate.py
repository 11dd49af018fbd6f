"""The certificate each API task makes for the load balancer's TLS to it."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from health_platform.api.task_certificate import make_task_certificate


def test_a_task_makes_its_own_key_and_a_certificate_a_tls_server_loads(tmp_path: Path) -> None:
    certificate, key = tmp_path / "tls" / "task.crt", tmp_path / "tls" / "task.key"
    make_task_certificate(certificate, key, "ip-10-0-1-23")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    parsed = x509.load_pem_x509_certificate(certificate.read_bytes())
    assert parsed.subject == parsed.issuer  # self-signed: the ALB validates none
    assert isinstance(parsed.public_key(), ec.EllipticCurvePublicKey)  # the ALB takes P-256
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certificate, key)
    # Each start makes a new key: none is shared between tasks or kept in the image.
    before = key.read_bytes()
    make_task_certificate(certificate, key, "ip-10-0-1-23")
    assert key.read_bytes() != before
