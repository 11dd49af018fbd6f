"""IAM database authentication: the API's runtime role signs in to RDS with a token made
from the task role's credentials, so no password reaches the task and the master secret's
rotation never concerns it. A token is a local signature (no network call) valid for 15
minutes; one is made for each new connection."""

from __future__ import annotations

from collections.abc import Callable

import boto3

from health_platform.contract import DatabaseSettings


def password_source(settings: DatabaseSettings) -> Callable[[], str] | None:
    """What gives each new connection its password: None when the URL carries it."""
    if settings.database_auth != "iam":
        return None
    rds = boto3.client("rds", region_name=settings.aws_region)

    def token() -> str:
        return str(
            rds.generate_db_auth_token(
                DBHostname=settings.database_host,
                Port=settings.database_port,
                DBUsername=settings.database_username,
                Region=settings.aws_region,
            )
        )

    return token
