"""The API's settings, from the environment variables the ECS task definition injects.

Locally a single URL per dependency is enough (DATABASE_URL, REDIS_URL); on ECS the parts
arrive separately (host, port, secrets), exactly as the services stack names them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ApiSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    environment: str = "local"
    database_url: str
    redis_url: str
    redis_cluster: bool = False
    # Signs session ids (see sessions.py). SecretStr: it never shows in a repr or a log.
    session_secret: SecretStr = Field(min_length=32)
    storage_backend: Literal["filesystem", "s3"] = "filesystem"
    storage_path: str = ".local/uploads"
    uploads_bucket: str | None = None
    kms_key_id: str | None = None
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    cookie_secure: bool = True
    max_upload_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    lockout_failures: int = 5
    lockout_minutes: int = 15
    # Requests per minute before 429: per client address, per signed-in user, and for
    # sign-in attempts (per address and per account) much lower.
    rate_per_address: int = Field(default=600, ge=1)
    rate_per_user: int = Field(default=300, ge=1)
    login_rate: int = Field(default=10, ge=1)
    # Proxies in front that append to X-Forwarded-For: the client is the entry this many
    # places from the end (CloudFront + ALB = 2; the local load balancer = 1; 0 = none).
    # Entries further left are whatever the client sent and are never trusted.
    trusted_proxies: int = Field(default=1, ge=0, le=5)


def database_url_from(env: Mapping[str, str]) -> str:
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    user = quote(env["DATABASE_USERNAME"], safe="")
    password = quote(env["DATABASE_PASSWORD"], safe="")
    host, port, name = env["DATABASE_HOST"], env.get("DATABASE_PORT", "5432"), env["DATABASE_NAME"]
    ssl = env.get("DATABASE_SSL", "require")
    return f"postgresql+psycopg://{user}:{password}@{host}:{port}/{name}?sslmode={ssl}"


def _redis_url(env: Mapping[str, str]) -> str:
    if env.get("REDIS_URL"):
        return env["REDIS_URL"]
    scheme = "rediss" if env.get("REDIS_TLS", "true") == "true" else "redis"
    token = quote(env.get("REDIS_AUTH_TOKEN", ""), safe="")
    auth = f":{token}@" if token else ""
    return f"{scheme}://{auth}{env['REDIS_HOST']}:{env.get('REDIS_PORT', '6379')}/0"


def settings_from_environment(env: Mapping[str, str] | None = None) -> ApiSettings:
    env = os.environ if env is None else env
    # Only what the environment gives: the model's defaults fill the rest, and a required
    # one that is missing (SESSION_SECRET) is reported by name.
    given = {
        "environment": env.get("ENVIRONMENT"),
        "session_secret": env.get("SESSION_SECRET"),
        "redis_cluster": env.get("REDIS_CLUSTER"),
        "storage_backend": env.get("STORAGE_BACKEND"),
        "storage_path": env.get("STORAGE_PATH"),
        "uploads_bucket": env.get("UPLOADS_BUCKET"),
        "kms_key_id": env.get("KMS_KEY_ID"),
        "cookie_secure": env.get("COOKIE_SECURE"),
        "max_upload_bytes": env.get("MAX_UPLOAD_BYTES"),
        "trusted_proxies": env.get("TRUSTED_PROXIES"),
        "rate_per_address": env.get("RATE_PER_ADDRESS"),
        "rate_per_user": env.get("RATE_PER_USER"),
        "login_rate": env.get("LOGIN_RATE"),
    }
    return ApiSettings(
        database_url=database_url_from(env),
        redis_url=_redis_url(env),
        **{key: value for key, value in given.items() if value is not None},
    )
