"""The release parameters and the application secrets a deployment needs."""

from __future__ import annotations

from health_platform.checks import Check
from health_platform.contract import APP_SECRETS, SERVICES
from health_platform.infra import naming
from health_platform.ops.deploy import required_parameters
from health_platform.ops.doctor.environment import Environment


def check_parameters(e: Environment) -> list[Check]:
    """The image tags the services stack deploys and the secrets the backend's tasks are
    given at start: a missing one fails a deployment only after a long rollback."""
    releases = {naming.release_parameter(e.env, s): s for s in SERVICES}
    secrets = {naming.app_secret_parameter(e.env, n): n for n in APP_SECRETS}
    present = e.parameters
    checks = []
    for name in required_parameters(e.env):
        if name in releases:
            what, hint = f"{releases[name]}'s image tag", f"hp release {e.env}"
        elif name in secrets:
            what, hint = "an application secret", f"hp secrets set {e.env} {secrets[name]}"
        else:
            what, hint = "a required parameter", "README: first deployment"
        if name not in present:
            checks.append(Check("parameters", name, "fail", f"missing: {what}", hint))
        elif name in releases:
            checks.append(Check("parameters", name, "pass", f"{what}: {present[name]}"))
        else:
            checks.append(Check("parameters", name, "pass", f"{what}, set"))
    return checks
