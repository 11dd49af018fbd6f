"""`hp infra drift`: does each of an environment's stacks still match its template?

CloudFormation does the checking. Every stack's detection is started first and the runs
are polled afterwards, so the stacks are checked side by side rather than one after another
(a stack takes from seconds to minutes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, aws_errors, error_code, stack_missing
from health_platform.ops.status import NOT_DEPLOYED
from health_platform.settings import EnvironmentSettings

IN_SYNC = "IN_SYNC"
DRIFTED = "DRIFTED"
DETECTION_FAILED = "DETECTION_FAILED"
IN_PROGRESS = "DETECTION_IN_PROGRESS"
# Resources that are IN_SYNC, or NOT_CHECKED (types drift detection does not cover), are
# not news.
DRIFTED_RESOURCES = ("MODIFIED", "DELETED")
# The codes botocore's retry handler counts as throttling.
THROTTLED = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)
DEFAULT_TIMEOUT = 900.0
DEFAULT_INTERVAL = 10.0

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class PropertyDrift:
    path: str  # e.g. /Properties/BackupRetentionPeriod
    expected: str
    actual: str
    difference: str  # ADD, REMOVE or NOT_EQUAL


@dataclass(frozen=True)
class ResourceDrift:
    logical_id: str
    resource_type: str
    status: str  # MODIFIED or DELETED
    physical_id: str = ""
    properties: tuple[PropertyDrift, ...] = ()


@dataclass(frozen=True)
class StackDrift:
    name: str
    region: str
    status: str  # IN_SYNC, DRIFTED, NOT_DEPLOYED, DETECTION_FAILED (or CloudFormation's own)
    reason: str = ""
    resources: tuple[ResourceDrift, ...] = ()


@dataclass(frozen=True)
class EnvironmentDrift:
    environment: str
    stacks: tuple[StackDrift, ...]

    @property
    def in_sync(self) -> bool:
        """Every deployed stack was checked and matches its template; a stack that is not
        deployed has nothing to drift from."""
        return all(stack.status in (IN_SYNC, NOT_DEPLOYED) for stack in self.stacks)


def detect_drift(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    *,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
) -> EnvironmentDrift:
    """Run drift detection on every stack of the environment, each in its own region, and
    wait up to `timeout` seconds in all for the runs to finish."""
    env = settings.name
    order = naming.deployment_order(env, settings.region, settings.dr_region)
    with aws_errors(f"detect drift in {env}'s stacks"):
        started = {
            name: _start(clients("cloudformation", region), name, region) for name, region in order
        }
        # One deadline for all: the runs proceed side by side while we poll them in turn.
        deadline = clock() + timeout
        stacks = []
        for name, region in order:
            detection = started[name]
            if isinstance(detection, StackDrift):
                stacks.append(detection)
                continue
            cloudformation = clients("cloudformation", region)
            status = _wait(cloudformation, detection, deadline, sleep, clock, interval)
            if status is None:
                stacks.append(
                    StackDrift(
                        name,
                        region,
                        DETECTION_FAILED,
                        f"drift detection did not finish within {timeout:.0f} s",
                    )
                )
            else:
                stacks.append(_result(cloudformation, name, region, status))
    return EnvironmentDrift(env, tuple(stacks))


def _start(cloudformation: Any, name: str, region: str) -> str | StackDrift:
    """The detection's id, or the stack's answer when CloudFormation will not start one."""
    try:
        return str(cloudformation.detect_stack_drift(StackName=name)["StackDriftDetectionId"])
    except ClientError as refused:
        if error_code(refused) != "ValidationError":
            raise
        if stack_missing(refused):
            return StackDrift(name, region, NOT_DEPLOYED)
        # A stack in the middle of an update (or rolled back) is refused: that is this
        # stack's result, and no reason to drop every other stack's.
        return StackDrift(
            name, region, DETECTION_FAILED, refused.response["Error"].get("Message", "")
        )


def _wait(
    cloudformation: Any,
    detection_id: str,
    deadline: float,
    sleep: Sleep,
    clock: Clock,
    interval: float,
) -> dict[str, Any] | None:
    """The detection's final status, or None when the deadline passes first."""
    while True:
        try:
            status: dict[str, Any] = cloudformation.describe_stack_drift_detection_status(
                StackDriftDetectionId=detection_id
            )
        except ClientError as refused:
            # botocore has already retried a throttled call a few times. Polling is the one
            # call we repeat, for every stack; rather than lose the whole report to a busy
            # API, a throttled poll counts as "not finished yet" and waits for the next round.
            if error_code(refused) not in THROTTLED:
                raise
        else:
            if status["DetectionStatus"] != IN_PROGRESS:
                return status
        if clock() >= deadline:
            return None
        sleep(interval)


def _result(cloudformation: Any, name: str, region: str, status: dict[str, Any]) -> StackDrift:
    if status["DetectionStatus"] == DETECTION_FAILED:
        # A failed run still has results for the resources it did check.
        return StackDrift(
            name,
            region,
            DETECTION_FAILED,
            status.get("DetectionStatusReason", ""),
            _drifted_resources(cloudformation, name),
        )
    drift = status.get("StackDriftStatus", "")
    if drift == DRIFTED:
        return StackDrift(name, region, DRIFTED, resources=_drifted_resources(cloudformation, name))
    return StackDrift(name, region, drift)


def _drifted_resources(cloudformation: Any, name: str) -> tuple[ResourceDrift, ...]:
    found: list[ResourceDrift] = []
    request: dict[str, Any] = {
        "StackName": name,
        "StackResourceDriftStatusFilters": list(DRIFTED_RESOURCES),
    }
    # botocore has no paginator for this call.
    while True:
        page = cloudformation.describe_stack_resource_drifts(**request)
        found += [_resource(drift) for drift in page["StackResourceDrifts"]]
        if not page.get("NextToken"):
            return tuple(found)
        request["NextToken"] = page["NextToken"]


def _resource(drift: dict[str, Any]) -> ResourceDrift:
    return ResourceDrift(
        drift["LogicalResourceId"],
        drift["ResourceType"],
        drift["StackResourceDriftStatus"],
        drift.get("PhysicalResourceId", ""),
        tuple(
            PropertyDrift(
                difference["PropertyPath"],
                difference["ExpectedValue"],
                difference["ActualValue"],
                difference["DifferenceType"],
            )
            for difference in drift.get("PropertyDifferences", [])
        ),
    )
