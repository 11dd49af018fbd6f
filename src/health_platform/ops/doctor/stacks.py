"""The environment's stacks, in every region they are deployed to: each deployed and settled
(not in progress, not rolled back)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from health_platform.checks import Check
from health_platform.infra import naming
from health_platform.ops.aws import stack_missing
from health_platform.ops.doctor.environment import Environment


def check_stacks(e: Environment) -> list[Check]:
    checks = []
    for name, region in naming.deployment_order(e.env, e.region, e.settings.dr_region):
        try:
            (stack,) = e.client("cloudformation", region).describe_stacks(StackName=name)["Stacks"]
        except ClientError as missing:
            if not stack_missing(missing):
                raise
            checks.append(Check("stacks", name, "fail", f"not deployed in {region}", e.apply_hint))
            continue
        status = stack["StackStatus"]
        detail = f"{status} ({region})" + (
            f": {stack['StackStatusReason']}" if stack.get("StackStatusReason") else ""
        )
        if status.endswith("_IN_PROGRESS"):
            hint = f"wait for it to finish (`hp infra status {e.env}`), then check again"
            checks.append(Check("stacks", name, "warn", detail, hint))
        elif status == "UPDATE_ROLLBACK_COMPLETE":
            detail += "; its last update failed and was rolled back"
            checks.append(Check("stacks", name, "warn", detail, e.apply_hint))
        elif status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            checks.append(Check("stacks", name, "pass", detail))
        else:
            checks.append(Check("stacks", name, "fail", detail, e.apply_hint))
    return checks
