"""`hp release ENV`: ship the application through CloudFormation.

In this order, and a failure at any step stops the ones after it:
1. the images: built for Fargate's platform and pushed under an immutable tag (the git
   commit), or, with `--image-tag`, images already in ECR, checked to exist;
2. the migrations, as a one-off task of the NEW backend image (a revision of the migration
   task definition), before any service changes: a failed migration leaves the services
   as they were;
3. the release parameters (the SSM parameters the services stack reads its image tags
   from), then an update of the services stack with its own template, so what runs is
   always what the infrastructure code says; CloudFormation rolls the services and waits
   for them (the deployment circuit breaker rolls back a release whose tasks never become
   healthy);
4. the release history. A failed rollout puts the release parameters back, prints the
   stopped tasks' reasons and their last log lines, and is recorded as failed.

A rollback is a release of the previous successful tags without migrations: a schema is
never migrated backwards (the older code must cope with the newer schema).
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from health_platform.contract import BACKEND, SERVICES
from health_platform.errors import (
    AwsError,
    ExitCode,
    InvalidInputError,
    RefusedError,
    UserError,
)
from health_platform.images import BUILD_CONTEXTS, BUILD_INPUTS, DOCKERFILES
from health_platform.infra import naming
from health_platform.ops.aws import (
    ClientFactory,
    aws_errors,
    error_code,
    stack_missing,
    stack_outputs,
)
from health_platform.ops.docker import Docker
from health_platform.ops.logs import last_log_lines
from health_platform.ops.stopped_tasks import stopped_tasks, task_id, why_stopped
from health_platform.ops.tasks import (
    OnLog,
    migration_task_definition,
    register_with_image,
    run_migration,
)
from health_platform.paths import REPO
from health_platform.settings import EnvironmentSettings

# SSM's standard tier holds 4 KB a value: the history keeps the newest entries that fit.
HISTORY_LIMIT = 4096
POLL_SECONDS = 10.0
LOG_LINES = 10  # of each stopped task, when a rollout fails
STACK_DONE = {"UPDATE_COMPLETE"}
STACK_FAILED = {"UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "UPDATE_FAILED"}
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
OnStep = Callable[[str], None]


class ReleaseError(UserError):
    """A release that stopped; `diagnostics` says why (stopped tasks, their last logs)."""

    def __init__(
        self, message: str, diagnostics: Sequence[str] = (), code: ExitCode = ExitCode.AWS_ERROR
    ) -> None:
        super().__init__(message)
        self.diagnostics = tuple(diagnostics)
        self.exit_code = code


@dataclass(frozen=True)
class ReleaseEntry:
    at: str
    tags: dict[str, str]
    outcome: str  # released, failed, rolled back
    commit: str = ""
    by: str = ""


@dataclass(frozen=True)
class ReleasePlan:
    env: str
    services: tuple[str, ...]
    tags: dict[str, str]  # the tag each service will run; empty when it cannot be known
    build: bool  # build and push here, or release images already in ECR
    rollback: bool
    commit: str
    current: dict[str, str | None] = field(default_factory=dict)  # from SSM
    repositories: dict[str, str] = field(default_factory=dict)
    in_registry: tuple[str, ...] = ()  # services whose tag is in ECR already: not rebuilt
    notes: tuple[str, ...] = ()

    @property
    def migrates(self) -> bool:
        """The migrations run with a new backend image: not on a rollback (they are never
        reversed), nor when the backend keeps its tag (its migrations ran at its release)."""
        return (
            BACKEND in self.services
            and not self.rollback
            and self.tags.get(BACKEND) != self.current.get(BACKEND)
        )

    @property
    def steps(self) -> list[str]:
        stack = naming.stack_name(self.env, naming.SERVICES)
        steps = []
        for service in self.services:
            image = f"{self.repositories.get(service, f'<{service} repository>')}:" + (
                self.tags.get(service) or "<tag>"
            )
            if self.build and service not in self.in_registry:
                dockerfile = DOCKERFILES[service].relative_to(REPO)
                steps.append(f"build {service} from {dockerfile} for linux/amd64, push {image}")
            elif self.build:
                steps.append(f"{image} is in ECR already (its files are unchanged): not rebuilt")
            else:
                steps.append(f"check that {image} is in ECR")
        if self.migrates:
            steps.append(
                f"run the migrations with the new {BACKEND} image as a one-off task"
                " (a failure stops the release; the services stay as they are)"
            )
        elif self.rollback:
            steps.append("no migrations: a rollback does not reverse database migrations")
        elif BACKEND in self.services:
            steps.append(f"no migrations: the {BACKEND} image keeps its tag")
        for service in self.services:
            before = self.current.get(service) or ("(none)" if self.current else "(unknown)")
            after = self.tags.get(service) or "<tag>"
            steps.append(f"set {naming.release_parameter(self.env, service)}: {before} → {after}")
        steps.append(
            f"update {stack} with its current template (it re-reads the release parameters),"
            " wait until the services are stable (before the stack's first deployment:"
            " leave that to `hp infra apply`)"
        )
        steps.append(f"record the release in {naming.release_history_parameter(self.env)}")
        return steps


# --- what would be released ----------------------------------------------------------------
def source_commit(repo: Path = REPO, paths: Sequence[str] = ()) -> tuple[str, bool]:
    """(commit, dirty): the last commit that changed `paths` (all of the tree when none),
    and whether they have uncommitted changes."""
    try:
        commit = _git(repo, "log", "-1", "--format=%H", "--", *paths)[:12]
        dirty = bool(_git(repo, "status", "--porcelain", "--", *paths))
    except (OSError, subprocess.CalledProcessError) as no_git:
        commit = ""
        dirty = False
        if not isinstance(no_git, subprocess.CalledProcessError):
            raise InvalidInputError(
                "git is not installed here; release images by --image-tag."
            ) from no_git
    if not commit:
        raise InvalidInputError(
            f"{repo} is not a git checkout with a commit; release images by --image-tag."
        )
    return commit, dirty


def _git(repo: Path, *arguments: str) -> str:
    return subprocess.run(  # noqa: S603
        ["git", "-C", str(repo), *arguments],  # noqa: S607 - git from PATH, as a user runs it
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def build_tag(commit: str, dirty: bool, now: datetime) -> str:
    """The git commit; a dirty tree's build gets the time too, so an immutable tag never
    names two different builds."""
    return f"{commit}-dirty-{now:%Y%m%d%H%M%S}" if dirty else commit


def plan_release(
    settings: EnvironmentSettings,
    clients: ClientFactory | None,
    *,
    services: Sequence[str],
    image_tag: str | None,
    allow_dirty: bool,
    rollback: bool = False,
    planning: bool = False,
    repo: Path = REPO,
    now: datetime | None = None,
) -> ReleasePlan:
    """What a release would do. `clients` None: no credentials, so what AWS knows (the
    current tags, the repositories, the history) is left out. `planning`: a dirty tree is
    a note, not a refusal."""
    env = settings.name
    notes: list[str] = []
    commit = ""
    tags: dict[str, str] = {}
    if rollback:
        if image_tag:
            raise InvalidInputError("--rollback returns to the previous tags; drop --image-tag.")
        if clients is not None:
            previous = previous_release(settings, clients).tags
            services = [s for s in services if s in previous]
            if not services:
                raise RefusedError(f"The previous release of {env} ran none of those services.")
            tags = {s: previous[s] for s in services}
    elif image_tag:
        tags = dict.fromkeys(services, image_tag)
    else:
        commit, _ = source_commit(repo)
        moment = now or datetime.now(UTC)
        for service in services:
            changed, dirty = source_commit(repo, BUILD_INPUTS[service])
            if dirty and not allow_dirty:
                if not planning:
                    raise RefusedError(
                        f"The {service} image's files have uncommitted changes; commit them,"
                        " or pass --allow-dirty to release them under a one-off tag."
                    )
                notes.append(f"{service}: uncommitted changes; releasing needs a commit")
            tags[service] = build_tag(changed, dirty, moment)
    current: dict[str, str | None] = {}
    repositories: dict[str, str] = {}
    in_registry: tuple[str, ...] = ()
    if clients is not None:
        # Every service's, not only those released: the history records what runs in all.
        current = current_tags(settings, clients, SERVICES)
        with aws_errors(f"read {env}'s data stack"):
            data = stack_outputs(clients, env, naming.DATA, settings.region)
        repositories = {s: data[naming.Output.repository_uri(s)] for s in services}
        in_registry = tuple(
            s
            for s in services
            if s in tags and _in_registry(settings, clients, repositories[s], tags[s])
        )
    return ReleasePlan(
        env=env,
        services=tuple(services),
        tags=tags,
        build=not rollback and not image_tag,
        rollback=rollback,
        commit=commit,
        current=current,
        repositories=repositories,
        in_registry=in_registry,
        notes=tuple(notes),
    )


def current_tags(
    settings: EnvironmentSettings, clients: ClientFactory, services: Sequence[str]
) -> dict[str, str | None]:
    ssm = clients("ssm", settings.region)
    names = {naming.release_parameter(settings.name, s): s for s in services}
    with aws_errors("read the release parameters"):
        found = ssm.get_parameters(Names=list(names))["Parameters"]
    values = {names[p["Name"]]: p["Value"] for p in found}
    return {s: values.get(s) for s in services}


# --- the history -----------------------------------------------------------------------------
def read_history(settings: EnvironmentSettings, clients: ClientFactory) -> list[ReleaseEntry]:
    """Newest first."""
    ssm = clients("ssm", settings.region)
    with aws_errors("read the release history"):
        try:
            value = ssm.get_parameter(Name=naming.release_history_parameter(settings.name))
        except ClientError as missing:
            if error_code(missing) == "ParameterNotFound":
                return []
            raise
    return [ReleaseEntry(**entry) for entry in json.loads(value["Parameter"]["Value"])]


def previous_release(settings: EnvironmentSettings, clients: ClientFactory) -> ReleaseEntry:
    """The release before the one running. The history is read as a stack: a release puts
    its tags on top, a rollback takes the top off; so rolling back twice goes two releases
    back, not back and forth."""
    releases: list[ReleaseEntry] = []
    for entry in reversed(read_history(settings, clients)):  # oldest first
        if entry.outcome == "released" and (not releases or releases[-1].tags != entry.tags):
            releases.append(entry)
        elif entry.outcome == "rolled back" and len(releases) > 1:
            releases.pop()
    if not releases:
        raise RefusedError(f"{settings.name} has no release history to roll back to.")
    if len(releases) == 1:
        running = releases[0]
        raise RefusedError(
            f"{settings.name} has no earlier release than the one running"
            f" ({', '.join(f'{s} {t}' for s, t in running.tags.items())})."
        )
    return releases[-2]


def _record(settings: EnvironmentSettings, clients: ClientFactory, entry: ReleaseEntry) -> None:
    entries = [asdict(entry), *map(asdict, read_history(settings, clients))]
    text = json.dumps(entries, separators=(",", ":"))
    while len(text) > HISTORY_LIMIT and len(entries) > 1:
        entries.pop()
        text = json.dumps(entries, separators=(",", ":"))
    with aws_errors("record the release"):
        clients("ssm", settings.region).put_parameter(
            Name=naming.release_history_parameter(settings.name),
            Value=text,
            Type="String",
            Overwrite=True,
        )


# --- the release -----------------------------------------------------------------------------
def execute(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    plan: ReleasePlan,
    *,
    docker: Docker,
    on_step: OnStep,
    on_log: OnLog,
    timeout_s: float,
    rollout: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ReleaseEntry:
    """`rollout=False`: images, migrations and the release parameters, but the services
    keep running what they run until `hp infra apply` deploys the services stack with the
    new tags (a release whose images need the template of the same commit)."""
    env, region = settings.name, settings.region
    if not plan.tags:
        raise InvalidInputError(f"Nothing to release to {env}.")
    _images(settings, clients, plan, docker, on_step)
    if not _services_deployed(settings, clients):
        # The first release of an environment: the services stack needs these tags to be
        # created at all, and `hp infra apply` creates it.
        _write_tags(settings, clients, {s: plan.tags[s] for s in plan.services})
        entry = _entry(settings, clients, plan, "released")
        _record(settings, clients, entry)
        on_step(
            f"{naming.stack_name(env, naming.SERVICES)} is not deployed yet: the images are"
            f" pushed and their tags set. Next: `hp infra apply {env}`, then"
            f" `hp db migrate {env}`."
        )
        return entry
    if plan.migrates:
        on_step("Running the migrations with the new backend image…")
        image = f"{plan.repositories[BACKEND]}:{plan.tags[BACKEND]}"
        revision = register_with_image(
            clients, region, migration_task_definition(settings, clients), image
        )
        run = run_migration(
            settings,
            clients,
            on_log=on_log,
            timeout_s=timeout_s,
            task_definition=revision,
            sleep=sleep,
            clock=clock,
        )
        if run.exit_code != 0:
            _record(settings, clients, _entry(settings, clients, plan, "failed"))
            raise ReleaseError(
                f"The migrations failed ({run.summary}); nothing else changed:"
                f" {env}'s services still run {_tags_text(plan.current)}."
            )
    if not rollout:
        _write_tags(settings, clients, {s: plan.tags[s] for s in plan.services})
        entry = _entry(settings, clients, plan, "released")
        _record(settings, clients, entry)
        on_step(
            "The images are pushed, migrated and their tags set; the services run the"
            f" previous ones until `hp infra apply {env}` deploys them with its template."
        )
        return entry
    on_step("Setting the release parameters…")
    try:
        _write_tags(settings, clients, {s: plan.tags[s] for s in plan.services})
        _roll_services(settings, clients, on_step, timeout_s, sleep, clock)
    except (ReleaseError, AwsError) as failed:
        # Whatever stopped the rollout (AWS's refusal included), the parameters go back to
        # what runs, so the next `hp infra apply` does not deploy the failed tags.
        restored = {s: t for s, t in plan.current.items() if t}
        _write_tags(settings, clients, restored)
        _record(settings, clients, _entry(settings, clients, plan, "failed"))
        raise ReleaseError(
            f"{failed} The release parameters are back to {_tags_text(restored)}.",
            [*getattr(failed, "diagnostics", ()), *_diagnosis(settings, clients, plan)],
            failed.exit_code,
        ) from failed
    entry = _entry(settings, clients, plan, "rolled back" if plan.rollback else "released")
    _record(settings, clients, entry)
    return entry


def _images(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    plan: ReleasePlan,
    docker: Docker,
    on_step: OnStep,
) -> None:
    ecr = clients("ecr", settings.region)
    to_build = [
        s
        for s in plan.services
        if plan.build and not _in_registry(settings, clients, plan.repositories[s], plan.tags[s])
    ]
    for service in plan.services:
        if plan.build and service not in to_build:
            on_step(f"{service} {plan.tags[service]} is in ECR already: not rebuilt.")
    if to_build:
        docker.require()
        with aws_errors("get a sign-in token for ECR"):
            authorization = ecr.get_authorization_token()["authorizationData"][0]
        username, password = (
            base64.b64decode(authorization["authorizationToken"]).decode().split(":", 1)
        )
        registry = plan.repositories[to_build[0]].split("/", 1)[0]
        docker.login(registry, username, password)
        for service in to_build:
            image = f"{plan.repositories[service]}:{plan.tags[service]}"
            on_step(f"Building {image}…")
            docker.build(DOCKERFILES[service], BUILD_CONTEXTS[service], image)
            on_step(f"Pushing {image}…")
            docker.push(image)
    if plan.build:
        return
    for service in plan.services:
        if not _in_registry(settings, clients, plan.repositories[service], plan.tags[service]):
            raise InvalidInputError(
                f"{plan.repositories[service].split('/', 1)[1]} has no image tagged"
                f" {plan.tags[service]}; push it first, or release from a machine with Docker"
                " without --image-tag."
            )


def _in_registry(
    settings: EnvironmentSettings, clients: ClientFactory, repository_uri: str, tag: str
) -> bool:
    repository = repository_uri.split("/", 1)[1]
    with aws_errors(f"look for {repository}:{tag}"):
        try:
            clients("ecr", settings.region).describe_images(
                repositoryName=repository, imageIds=[{"imageTag": tag}]
            )
        except ClientError as missing:
            if error_code(missing) == "ImageNotFoundException":
                return False
            raise
    return True


def _services_deployed(settings: EnvironmentSettings, clients: ClientFactory) -> bool:
    stack = naming.stack_name(settings.name, naming.SERVICES)
    with aws_errors(f"read {stack}"):
        try:
            clients("cloudformation", settings.region).describe_stacks(StackName=stack)
        except ClientError as missing:
            if stack_missing(missing):
                return False
            raise
    return True


def _write_tags(
    settings: EnvironmentSettings, clients: ClientFactory, tags: dict[str, str]
) -> None:
    ssm = clients("ssm", settings.region)
    with aws_errors("write the release parameters"):
        for service, tag in tags.items():
            ssm.put_parameter(
                Name=naming.release_parameter(settings.name, service),
                Value=tag,
                Type="String",
                Overwrite=True,
            )


def _roll_services(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    on_step: OnStep,
    timeout_s: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> None:
    stack = naming.stack_name(settings.name, naming.SERVICES)
    cloudformation = clients("cloudformation", settings.region)
    with aws_errors(f"read {stack}"):
        (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    started = datetime.now(UTC)
    try:
        cloudformation.update_stack(
            StackName=stack,
            UsePreviousTemplate=True,
            Parameters=[
                {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
                for p in described.get("Parameters", [])
            ],
            Capabilities=CAPABILITIES,
        )
    except ClientError as refused:
        if "No updates are to be performed" in str(refused):
            on_step(f"{stack} already runs these tags.")
            return
        raise ReleaseError(f"CloudFormation refused to update {stack}: {refused}") from refused
    except BotoCoreError as unreachable:
        raise ReleaseError(f"Could not ask CloudFormation to update {stack}: {unreachable}") from (
            unreachable
        )
    on_step(f"Updating {stack}; CloudFormation rolls the services…")
    deadline = clock() + timeout_s
    seen: set[str] = set()
    failures: list[str] = []
    while True:
        with aws_errors(f"follow {stack}"):
            (current,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
            events = _new_events(cloudformation, stack, started, seen)
        failures += [
            f"{e['LogicalResourceId']}: {e['ResourceStatusReason']}"
            for e in events
            if e["ResourceStatus"].endswith("_FAILED") and e.get("ResourceStatusReason")
        ]
        for event in events:
            on_step(
                f"  {event['LogicalResourceId']}: {event['ResourceStatus']}"
                + (
                    f" ({event['ResourceStatusReason']})"
                    if event.get("ResourceStatusReason")
                    else ""
                )
            )
        status = current["StackStatus"]
        if status in STACK_DONE:
            return
        if status in STACK_FAILED:
            raise ReleaseError(
                f"{stack} did not update ({status}); CloudFormation rolled back.", failures
            )
        if clock() >= deadline:
            raise ReleaseError(
                f"The services were not stable after {timeout_s:.0f} s; "
                + _stop_update(cloudformation, stack, status),
                failures,
                code=ExitCode.TIMED_OUT,
            )
        sleep(POLL_SECONDS)


def _stop_update(cloudformation: Any, stack: str, status: str) -> str:
    """Cancel an update still in progress; CloudFormation refuses to cancel in any other
    state (a rollback under way finishes by itself)."""
    if status != "UPDATE_IN_PROGRESS":
        return f"{stack} is {status} and finishes by itself (`hp status` shows how)."
    with aws_errors(f"cancel the update of {stack}"):
        cloudformation.cancel_update_stack(StackName=stack)
    return f"the update of {stack} is cancelled and rolls back."


def _new_events(
    cloudformation: Any, stack: str, since: datetime, seen: set[str]
) -> list[dict[str, Any]]:
    events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    fresh = [e for e in events if e["EventId"] not in seen and e["Timestamp"] >= since]
    seen.update(e["EventId"] for e in fresh)
    return sorted(fresh, key=lambda e: e["Timestamp"])


def _diagnosis(
    settings: EnvironmentSettings, clients: ClientFactory, plan: ReleasePlan
) -> list[str]:
    """diagnose(), or why it could not: it must never hide the failure it explains."""
    try:
        return diagnose(settings, clients, plan.services)
    except AwsError as unreadable:
        return [f"(the stopped tasks could not be read: {unreadable})"]


def diagnose(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    services: Sequence[str],
    per_service: int = 3,
) -> list[str]:
    """The newest stopped tasks of `services`: why they stopped, and their last log lines."""
    env, region = settings.name, settings.region
    lines: list[str] = []
    with aws_errors("read the stopped tasks"):
        for service in services:
            newest = stopped_tasks(clients("ecs", region), naming.cluster_name(env), service)
            for task in newest[:per_service]:
                lines.append(f"{service} task {why_stopped(task)}")
                said = last_log_lines(clients, region, env, service, task_id(task), LOG_LINES)
                lines += [f"    {line.message}" for line in said] or [
                    "    (no log: the container never started)"
                ]
    return lines


def _entry(
    settings: EnvironmentSettings, clients: ClientFactory, plan: ReleasePlan, outcome: str
) -> ReleaseEntry:
    try:
        by = clients("sts", settings.region).get_caller_identity()["Arn"]
    except ClientError:
        by = ""
    running = {s: t for s, t in plan.current.items() if t}
    return ReleaseEntry(
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        # What runs in every service after it, so a rollback returns to a whole state.
        tags={**running, **{s: plan.tags[s] for s in plan.services}},
        outcome=outcome,
        commit=plan.commit,
        by=by,
    )


def _tags_text(tags: dict[str, str | None] | dict[str, str]) -> str:
    return ", ".join(f"{s} {t}" for s, t in tags.items() if t) or "no release yet"


def services_named(which: str) -> list[str]:
    if which == "all":
        return list(SERVICES)
    if which not in SERVICES:
        raise InvalidInputError(f"--service is one of {', '.join(SERVICES)} or all, not {which!r}.")
    return [which]
