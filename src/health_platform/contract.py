"""The runtime contract: what the services read from their surroundings, written once.

The API reads its settings from environment variables; the services stack writes them
into the backend's task definition, the local platform into the API's process, and
`hp infra rehearse` proves the two agree. Each variable is a field of `ApiSettings`, and
its name is the field's name in upper case (`database_host` is `DATABASE_HOST`): writers
build their environment with `api_environment(...)` or `env_name(...)`, which refuse a
name the API does not read. The ports, paths, names and roles the three share live here
too, so a change is made in one place.

A plain pydantic model rather than pydantic-settings' BaseSettings: settings are always
read from an explicit mapping (the process's environment, a task definition's, a test's),
never implicitly from `os.environ`, and the name rule is this one line: `env_name`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

# --- the two services ----------------------------------------------------------------------
FRONTEND = "frontend"
BACKEND = "backend"
SERVICES = (FRONTEND, BACKEND)
PORTS = {FRONTEND: 3000, BACKEND: 5000}
HEALTH_PATH = "/health"  # liveness: both services, the ALB's and the containers' checks
READY_PATH = "/health/ready"  # the API's readiness: PostgreSQL, Redis, storage
# The API's schema and its interactive documentation, at the public entry point.
OPENAPI_PATH = "/api/openapi.json"
DOCS_PATH = "/api/docs"
API_PATH_PATTERN = "/api/*"
# The one-off task that migrates the database, a container of the backend's image.
MIGRATION = "migrate"
MIGRATION_COMMAND = ("python", "-m", "health_platform.api.migrate")
# Run in the migration's task (its owner credentials) by `hp users create-admin ENV`; takes
# --email, --name and --token-sha256, never the enrollment token itself.
CREATE_ADMIN_COMMAND = ("python", "-m", "health_platform.api.create_admin")
# Where an invited administrator sets a password: the token rides in the fragment, which
# browsers never send, so no server or CDN log sees it.
ENROLL_PATH = "/enroll"
# Routes whose request body may exceed the edge's default body-size rule (8 KB): a
# document's bytes. The WAF lets these through; the API enforces its own limit.
LARGE_BODY_ROUTES = (("POST", "/api/documents"),)
DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024
# The most PostgreSQL connections one API process opens unless told otherwise.
DEFAULT_DATABASE_CONNECTIONS = 30
# A request's whole header must arrive within this many seconds of its first byte (the
# balancer's client_header_timeout, and the API's own: api/server.py).
REQUEST_HEADER_SECONDS = 10
# uvicorn's HTTP protocol for the API (`--http`), which keeps that deadline.
API_HTTP_PROTOCOL = "health_platform.api.server:HeaderDeadlineProtocol"
# The load balancer's TLS to each service's tasks: every task makes its own key and a
# self-signed certificate here when it starts (the ALB validates none; the key is never in
# the image). Both images' commands and the frontend's nginx.conf name these paths.
# /tmp is the task's own scratch volume (its images' one writable place), not a shared /tmp.
TASK_CERTIFICATE = "/tmp/tls/task.crt"  # noqa: S108
TASK_KEY = "/tmp/tls/task.key"  # noqa: S108
# The largest body of every other route: JSON, refused with 413 above it (the load balancer
# and the API alike).
MAX_BODY_BYTES = 1024 * 1024

# --- security events the API logs (a JSON line each, "event": ...; the observability
# stack's metric filters count them)
FAILED_LOGIN_EVENT = "login.failed"
PRIVILEGE_CHANGE_EVENT = "privilege.change"

# --- the database ----------------------------------------------------------------------------
DATABASE_NAME = "health_platform"
DATABASE_PORT = 5432
REDIS_PORT = 6379  # ElastiCache's, with TLS and AUTH
# RDS's certificate authorities, in the backend's image (its Dockerfile copies the bundle
# kept in the repository to this path): the API and the migration verify the database's
# certificate with it.
RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem"
# The API's runtime role: owns nothing, may only read and append the audit trail. On AWS it
# signs in with IAM database authentication; locally with a password. Migrations run as the
# database's owner (RDS's master user on AWS, `health_platform` locally).
RUNTIME_ROLE = "hp_app"
LOCAL_OWNER_ROLE = "health_platform"
# The application secrets `hp secrets set` writes to SSM (SecureString), by parameter name
# under /health-platform/<env>/app/, and the setting each one fills.
APP_SECRETS = {"session-secret": "session_secret"}


class DatabaseSettings(BaseModel):
    """How to reach PostgreSQL: a URL, or its parts. All the migration command reads.

    `database_auth=iam`: no password; a fresh IAM authentication token signs each new
    connection (RDS's master password rotates every 7 days; a token is made when needed)."""

    # hide_input_in_errors: a validation error would otherwise print every value it was
    # given, passwords and tokens too, into a log.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    database_url: SecretStr | None = None  # carries its password
    database_host: str | None = None
    database_port: int = DATABASE_PORT
    database_name: str = DATABASE_NAME
    database_username: str | None = None
    database_password: SecretStr | None = None
    database_auth: Literal["password", "iam"] = "password"
    database_ssl: Literal["disable", "prefer", "require", "verify-ca", "verify-full"] = "require"
    database_sslrootcert: str | None = None  # the CA bundle for verify-ca and verify-full
    aws_region: str | None = None  # IAM tokens are signed for the database's region

    @model_validator(mode="after")
    def _database_reachable(self) -> DatabaseSettings:
        problems = []
        if not self.database_url and not (self.database_host and self.database_username):
            problems.append("DATABASE_URL, or DATABASE_HOST and DATABASE_USERNAME, is required")
        if (
            not self.database_url
            and self.database_auth == "password"
            and not self.database_password
        ):
            problems.append("DATABASE_PASSWORD is required with DATABASE_AUTH=password")
        if self.database_auth == "iam" and not self.aws_region:
            problems.append("AWS_REGION is required with DATABASE_AUTH=iam")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def database_dsn(self) -> str:
        """The SQLAlchemy URL; without a password when IAM tokens sign in."""
        if self.database_url:
            return self.database_url.get_secret_value()
        user = quote(self.database_username or "", safe="")
        password = self.database_password.get_secret_value() if self.database_password else ""
        auth = f"{user}:{quote(password, safe='')}" if self.database_auth == "password" else user
        root = (
            f"&sslrootcert={quote(self.database_sslrootcert)}" if self.database_sslrootcert else ""
        )
        return (
            f"postgresql+psycopg://{auth}@{self.database_host}:{self.database_port}"
            f"/{self.database_name}?sslmode={self.database_ssl}{root}"
        )


class ApiSettings(DatabaseSettings):
    """Everything the API reads from its environment. Locally one URL per dependency is
    enough (DATABASE_URL, REDIS_URL); on ECS the parts arrive separately."""

    environment: str = "local"
    # The most PostgreSQL connections one API process opens, its two pools together (api/
    # db.py): the processes together must stay under the server's max_connections.
    database_connections: int = Field(default=DEFAULT_DATABASE_CONNECTIONS, ge=3)
    # Redis: a URL, or its parts.
    redis_url: SecretStr | None = None
    redis_host: str | None = None
    redis_port: int = REDIS_PORT
    redis_tls: bool = True
    redis_auth_token: SecretStr | None = None
    redis_cluster: bool = False
    # The most Redis connections one API process opens (per node in cluster mode).
    redis_connections: int = Field(default=100, ge=1)
    # Signs session ids (see api/sessions.py). SecretStr: never in a repr or a log.
    session_secret: SecretStr = Field(min_length=32)
    storage_backend: Literal["filesystem", "s3"] = "filesystem"
    storage_path: str = ".local/uploads"
    uploads_bucket: str | None = None
    kms_key_id: str | None = None
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    cookie_secure: bool = True
    max_upload_bytes: int = Field(default=DEFAULT_MAX_UPLOAD_BYTES, ge=1)
    # Failed sign-ins to one account from one address before each further one must wait,
    # twice as long as the last (api/sign_in_guard.py), up to the longest wait.
    failures_before_delay: int = Field(default=5, ge=1)
    longest_sign_in_delay_seconds: int = Field(default=900, ge=1)
    # Email to account owners (api/mail.py): SES on AWS; locally, SMTP to the mail catcher
    # `hp up` runs on 127.0.0.1:smtp_port (local/smtp_sink.py), or a Maildir folder written
    # directly (the API's tests).
    mail_backend: Literal["maildir", "smtp", "ses"] = "maildir"
    mail_dir: str = ".local/mail"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    mail_from: str = "health-platform@localhost"
    # Where people open the application: the links in its emails (verify an address, reset a
    # password) start here.
    public_url: str = Field(default="https://localhost:8443", pattern=r"^https://[^/]+$")
    # Requests per minute before 429: per client address, per signed-in user, and for
    # sign-in and registration attempts (per address) much lower.
    rate_per_address: int = Field(default=600, ge=1)
    rate_per_user: int = Field(default=300, ge=1)
    login_rate: int = Field(default=10, ge=1)
    # Proxies in front that append to X-Forwarded-For: the client is the entry this many
    # places from the end (CloudFront + ALB = 2; the local load balancer = 1; 0 = none).
    # Entries further left are whatever the client sent and are never trusted.
    trusted_proxies: int = Field(default=1, ge=0, le=5)
    # Where those proxies reach the API from (CIDRs, comma-separated): X-Forwarded-For is
    # read only from a peer in one of them, so a client that reaches the API's port directly
    # cannot name its own address. The VPC on AWS (the ALB's nodes), the local balancer's
    # own source address locally; empty: no peer is trusted.
    trusted_proxy_networks: str = ""
    # A request body must bring at least body_min_bytes_per_second times the window in every
    # window of this many seconds (a stall or a trickle is cut with 408). The ALB's idle
    # timeout restarts with each byte, so only the API can cut a slow body.
    body_read_window_seconds: float = Field(default=20, gt=0)
    body_min_bytes_per_second: int = Field(default=512, ge=1)

    @field_validator("trusted_proxy_networks")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        proxy_networks(value)  # a malformed CIDR is an error at start-up, not per request
        return value

    @model_validator(mode="after")
    def _services_reachable(self) -> ApiSettings:
        problems = []
        if not self.redis_url and not self.redis_host:
            problems.append("REDIS_URL or REDIS_HOST is required")
        if self.storage_backend == "s3" and not self.uploads_bucket:
            problems.append("UPLOADS_BUCKET is required with STORAGE_BACKEND=s3")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def redis_dsn(self) -> str:
        if self.redis_url:
            return self.redis_url.get_secret_value()
        scheme = "rediss" if self.redis_tls else "redis"
        token = self.redis_auth_token.get_secret_value() if self.redis_auth_token else ""
        auth = f":{quote(token, safe='')}@" if token else ""
        return f"{scheme}://{auth}{self.redis_host}:{self.redis_port}/0"


@lru_cache(maxsize=8)
def proxy_networks(
    spec: str,
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """`trusted_proxy_networks` parsed (cached: it is read on every request)."""
    return tuple(ipaddress.ip_network(part.strip()) for part in spec.split(",") if part.strip())


def env_name(field: str) -> str:
    """The environment variable that sets `field`; a field the API lacks is an error."""
    if field not in ApiSettings.model_fields:
        raise KeyError(f"the API has no setting {field!r}")
    return field.upper()


def field_of(variable: str) -> str | None:
    """The setting an environment variable sets, or None if the API does not read it."""
    field = variable.lower()
    return field if variable == variable.upper() and field in ApiSettings.model_fields else None


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def api_environment(**values: object) -> dict[str, str]:
    """An environment for the API: `api_environment(database_host=...)` ->
    {"DATABASE_HOST": ...}. Values may be CDK tokens (strings)."""
    return {env_name(field): _text(value) for field, value in values.items()}


def read_environment(
    env: Mapping[str, str], model: type[BaseModel] = ApiSettings
) -> dict[str, str]:
    """The values `env` gives for `model`'s settings (an empty value is no value)."""
    return {field: env[field.upper()] for field in model.model_fields if env.get(field.upper())}


def settings_from_environment(env: Mapping[str, str] | None = None) -> ApiSettings:
    """The API's settings from `env` (the process's environment by default)."""
    return ApiSettings.model_validate(read_environment(os.environ if env is None else env))


def database_settings_from_environment(env: Mapping[str, str] | None = None) -> DatabaseSettings:
    """What the migration command needs: the database's settings alone."""
    return DatabaseSettings.model_validate(
        read_environment(os.environ if env is None else env, DatabaseSettings)
    )
