"""Each running task definition: a read-only root, a non-root user, awslogs to the
service's log group."""

from __future__ import annotations

from health_platform.checks import Check
from health_platform.infra import naming
from health_platform.ops.doctor.environment import Environment

ROOT_USERS = frozenset({"", "root", "0"})


def check_task_definitions(e: Environment) -> list[Check]:
    """What the CDK app promises of every task, checked on what actually runs."""
    checks = []
    for name in e.running():
        problems = []
        for container in e.containers(name):
            label = container["name"]
            if not container.get("readonlyRootFilesystem"):
                problems.append(f"{label}'s root filesystem is writable")
            user = str(container.get("user", ""))
            if user.split(":", 1)[0] in ROOT_USERS:
                problems.append(f"{label} runs as root (user {user or 'unset'})")
            logging = container.get("logConfiguration") or {}
            group = (logging.get("options") or {}).get("awslogs-group")
            expected = naming.task_log_group(e.env, name)
            if logging.get("logDriver") != "awslogs":
                problems.append(f"{label} does not log to CloudWatch (awslogs)")
            elif group != expected:
                problems.append(f"{label} logs to {group}, not {expected}")
        if problems:
            checks.append(Check(name, "task definition", "fail", "; ".join(problems), e.apply_hint))
        else:
            detail = "read-only root, non-root user, awslogs to " + naming.task_log_group(
                e.env, name
            )
            checks.append(Check(name, "task definition", "pass", detail))
    return checks
