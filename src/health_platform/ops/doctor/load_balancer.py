"""What the load balancer sees: each service's target health, its own state, its 5xx
answers and its latency."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from health_platform.checks import Check
from health_platform.contract import BACKEND
from health_platform.ops.doctor.environment import Environment

LOAD_BALANCER_WINDOW = timedelta(hours=1)
LATENCY_WARN_SECONDS = 1.0
# A share of 5xx answers that is an outage rather than a few bad requests.
ERROR_SHARE_FAIL = 0.05


def check_targets(e: Environment) -> list[Check]:
    elbv2 = e.client("elbv2")
    checks = []
    for name, arns in e.target_groups.items():
        described = [
            description
            for arn in arns
            for description in elbv2.describe_target_health(TargetGroupArn=arn)[
                "TargetHealthDescriptions"
            ]
        ]
        states = [d["TargetHealth"]["State"] for d in described]
        if not described:
            detail = "no target registered" if arns else "no target group"
            checks.append(Check(name, "targets", "fail", detail, e.logs_hint(name)))
            continue
        unwell = [_target_said(d) for d in described if d["TargetHealth"]["State"] != "healthy"]
        detail = f"{states.count('healthy')} of {len(states)} healthy" + (
            f"; {'; '.join(unwell)}" if unwell else ""
        )
        if any(state in ("unhealthy", "unavailable") for state in states):
            checks.append(Check(name, "targets", "fail", detail, e.logs_hint(name)))
        elif unwell:
            hint = f"wait for the health checks to settle, then `hp doctor {e.env}` again"
            checks.append(Check(name, "targets", "warn", detail, hint))
        else:
            checks.append(Check(name, "targets", "pass", detail))
    return checks


def _target_said(description: dict[str, Any]) -> str:
    target, health = description["Target"], description["TargetHealth"]
    why = ": ".join(filter(None, (health.get("Reason"), health.get("Description"))))
    said = f"{target['Id']}:{target.get('Port', '')} {health['State']}"
    return f"{said} ({why})" if why else said


def check_load_balancer(e: Environment) -> list[Check]:
    """The ALB in front of the services: its state, its 5xx answers and its latency."""
    arns = [arn for group in e.target_groups.values() for arn in group]
    if not arns:
        return []
    elbv2 = e.client("elbv2")
    balancers = sorted(
        {
            balancer
            for group in elbv2.describe_target_groups(TargetGroupArns=arns)["TargetGroups"]
            for balancer in group.get("LoadBalancerArns", [])
        }
    )
    if not balancers:
        detail = "no load balancer forwards to the services' target groups"
        return [Check("load balancer", "state", "fail", detail, e.apply_hint)]
    checks = []
    for balancer in elbv2.describe_load_balancers(LoadBalancerArns=balancers)["LoadBalancers"]:
        state = balancer.get("State", {})
        detail = state.get("Code", "unknown") + (
            f": {state['Reason']}" if state.get("Reason") else ""
        )
        if state.get("Code") == "active":
            checks.append(Check("load balancer", "state", "pass", detail))
        elif state.get("Code") == "provisioning":
            hint = f"wait for it to become active (`hp status {e.env}`)"
            checks.append(Check("load balancer", "state", "warn", detail, hint))
        else:
            checks.append(Check("load balancer", "state", "fail", detail, e.apply_hint))
        # CloudWatch names an ALB by the part of its ARN after "loadbalancer/".
        dimension = balancer["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
        checks += _traffic(e, dimension)
    return checks


def _traffic(e: Environment, balancer: str) -> list[Check]:
    def alb(metric: str, statistic: str) -> tuple[str, str, str, str, str]:
        return ("AWS/ApplicationELB", metric, "LoadBalancer", balancer, statistic)

    values = e.metrics(
        LOAD_BALANCER_WINDOW,
        {
            "targets5xx": alb("HTTPCode_Target_5XX_Count", "Sum"),
            "balancer5xx": alb("HTTPCode_ELB_5XX_Count", "Sum"),
            "requests": alb("RequestCount", "Sum"),
            "latency": alb("TargetResponseTime", "p99"),
        },
    )
    from_targets = sum(values.get("targets5xx", []))
    from_balancer = sum(values.get("balancer5xx", []))
    errors = from_targets + from_balancer
    requests = max(sum(values.get("requests", [])), errors)
    detail = (
        f"{errors:.0f} of {requests:.0f} requests in the last hour ({from_targets:.0f} from the"
        f" services, {from_balancer:.0f} from the load balancer)"
    )
    hint = e.logs_hint(BACKEND)
    if errors and errors >= requests * ERROR_SHARE_FAIL:
        checks = [Check("load balancer", "5xx", "fail", detail, hint)]
    elif errors:
        checks = [Check("load balancer", "5xx", "warn", detail, hint)]
    else:
        checks = [Check("load balancer", "5xx", "pass", detail)]
    latency = values.get("latency", [])
    if not latency:
        checks.append(Check("load balancer", "latency", "pass", "no request in the last hour"))
    else:
        worst = max(latency)
        detail = f"p99 {worst:.2f} s at worst (5-minute p99s over the last hour)"
        if worst > LATENCY_WARN_SECONDS:
            checks.append(Check("load balancer", "latency", "warn", detail, hint))
        else:
            checks.append(Check("load balancer", "latency", "pass", detail))
    return checks
