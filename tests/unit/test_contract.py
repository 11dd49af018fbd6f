"""The runtime contract: one spelling of each variable, for the API (the reader), the task
definition and the local platform (the writers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from health_platform.contract import (
    ApiSettings,
    api_environment,
    database_settings_from_environment,
    env_name,
    field_of,
    settings_from_environment,
)
from health_platform.local.config import LocalConfig
from health_platform.local.credentials import load_or_create
from health_platform.local.nginx import BALANCER_SOURCE_ADDRESS

SECRET = "s" * 40

# A value of each setting that differs from its default, as the environment spells it.
EXAMPLES: dict[str, str] = {
    "environment": "staging",
    "database_url": "",
    "database_host": "db.internal",
    "database_port": "6543",
    "database_name": "other",
    "database_username": "hp_app",
    "database_password": "pw",
    "database_auth": "password",
    "database_ssl": "verify-full",
    "database_sslrootcert": "/etc/ssl/certs/rds.pem",
    "aws_region": "eu-west-1",
    "redis_url": "",
    "redis_host": "cache.internal",
    "redis_port": "6380",
    "redis_tls": "false",
    "redis_auth_token": "token",
    "redis_cluster": "true",
    "redis_connections": "50",
    "database_connections": "12",
    "session_secret": SECRET,
    "storage_backend": "s3",
    "storage_path": "/data/uploads",
    "uploads_bucket": "bucket",
    "kms_key_id": "alias/key",
    "session_idle_minutes": "45",
    "session_absolute_hours": "8",
    "cookie_secure": "false",
    "max_upload_bytes": "1000",
    "failures_before_delay": "7",
    "longest_sign_in_delay_seconds": "600",
    "mail_backend": "ses",
    "mail_dir": "/data/mail",
    "smtp_port": "2526",
    "mail_from": "no-reply@health.example.com",
    "public_url": "https://health.example.com",
    "rate_per_address": "700",
    "rate_per_user": "350",
    "login_rate": "12",
    "trusted_proxies": "2",
    "trusted_proxy_networks": "10.0.0.0/24,10.0.1.0/24",
    "body_read_window_seconds": "12.5",
    "body_min_bytes_per_second": "256",
}


def plain(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_every_setting_can_be_set_from_its_environment_variable() -> None:
    assert set(EXAMPLES) == set(ApiSettings.model_fields), "add an example for the new setting"
    environment = {env_name(field): value for field, value in EXAMPLES.items()}
    settings = settings_from_environment(environment)
    for field, value in EXAMPLES.items():
        if value:  # an empty value is no value: the default stays
            assert plain(getattr(settings, field)) == value, field


def test_a_variable_is_its_settings_name_in_capitals() -> None:
    assert env_name("database_host") == "DATABASE_HOST"
    assert field_of("DATABASE_HOST") == "database_host"
    assert field_of("database_host") is None  # the environment's spelling only
    assert field_of("PORT") is None
    with pytest.raises(KeyError, match="no setting 'port'"):
        env_name("port")
    with pytest.raises(KeyError):
        api_environment(databse_host="typo")


def test_writers_spell_values_as_the_reader_parses_them() -> None:
    written = api_environment(
        database_url="postgresql+psycopg://u:p@h/d",
        redis_url="redis://h:6379/0",
        session_secret=SECRET,
        redis_cluster=True,
        cookie_secure=False,
        trusted_proxies=2,
    )
    assert written["REDIS_CLUSTER"] == "true" and written["TRUSTED_PROXIES"] == "2"
    settings = settings_from_environment(written)
    assert (settings.redis_cluster, settings.cookie_secure, settings.trusted_proxies) == (
        True,
        False,
        2,
    )


def test_a_malformed_proxy_network_is_refused_at_start() -> None:
    written = api_environment(
        database_url="postgresql+psycopg://u:p@h/d",
        redis_url="redis://h:6379/0",
        session_secret=SECRET,
        trusted_proxy_networks="10.0.0.0/24,10.0.0.0/33",
    )
    with pytest.raises(ValidationError, match="trusted_proxy_networks"):
        settings_from_environment(written)


def test_the_local_platform_writes_only_what_the_api_reads(tmp_path: Path) -> None:
    from health_platform.local.components import local_api_environment

    config = LocalConfig(state_dir=tmp_path)
    credentials = load_or_create(tmp_path / "credentials.json")
    written = local_api_environment(config, credentials)
    assert all(field_of(name) for name in written)
    settings = settings_from_environment(written)
    assert "hp_app" in settings.database_dsn  # the runtime role, never the owner
    # X-Forwarded-For is trusted from the load balancer's own source address alone.
    assert settings.trusted_proxy_networks == f"{BALANCER_SOURCE_ADDRESS}/32"


def test_iam_authentication_needs_a_region_and_puts_no_password_in_the_url() -> None:
    parts = {"DATABASE_HOST": "db", "DATABASE_USERNAME": "hp_app", "DATABASE_AUTH": "iam"}
    with pytest.raises(ValidationError, match="AWS_REGION is required"):
        database_settings_from_environment(parts)
    settings = database_settings_from_environment({**parts, "AWS_REGION": "us-east-1"})
    assert settings.database_dsn == (
        "postgresql+psycopg://hp_app@db:5432/health_platform?sslmode=require"
    )


def test_every_missing_setting_is_named_at_once() -> None:
    with pytest.raises(ValidationError) as raised:
        settings_from_environment({})
    text = str(raised.value)
    assert "session_secret" in text


def test_a_password_sign_in_needs_the_password() -> None:
    with pytest.raises(ValidationError, match="DATABASE_PASSWORD is required"):
        database_settings_from_environment({"DATABASE_HOST": "db", "DATABASE_USERNAME": "owner"})


def test_the_contracts_routes_are_the_apis() -> None:
    from health_platform.api.app import create_app
    from health_platform.contract import (
        API_PATH_PATTERN,
        HEALTH_PATH,
        LARGE_BODY_ROUTES,
        READY_PATH,
    )

    settings = ApiSettings(
        database_url="postgresql://h/d", redis_url="redis://h", session_secret=SECRET
    )
    paths = create_app(settings).openapi()["paths"]
    for method, path in LARGE_BODY_ROUTES:
        assert method.lower() in paths[path]
    # What the load balancer and CloudFront route to the API: everything under /api, and
    # the health checks.
    prefix = API_PATH_PATTERN.removesuffix("*")
    assert {p for p in paths if not p.startswith(prefix)} == {HEALTH_PATH, READY_PATH}
