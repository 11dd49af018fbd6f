"""plan / apply / destroy: everything they decide before handing over to the CDK CLI.
(CloudFormation itself cannot be reached from here; the CLI's own deploy is not re-tested.)"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from health_platform.cli import main
from health_platform.errors import ExitCode, InvalidInputError, RefusedError
from health_platform.ops import deploy
from health_platform.ops.cdk_cli import cdk_command
from health_platform.settings import EnvironmentSettings, load_environment


def never_synthesize(environments: object, target: Path) -> list[str]:
    raise AssertionError("synthesis must not start")


def test_stacks_deploy_in_dependency_order() -> None:
    assert deploy.stacks_in_order(load_environment("prod")) == [
        "health-platform-prod-network",
        "health-platform-prod-dr",
        "health-platform-prod-data",
        "health-platform-prod-services",
        "health-platform-prod-edge",
        "health-platform-prod-observability",
    ]
    assert deploy.stacks_in_order(load_environment("dev"), ["data", "network"]) == [
        "health-platform-dev-network",
        "health-platform-dev-data",
    ]


def test_an_unknown_stack_part_is_named() -> None:
    with pytest.raises(InvalidInputError, match="Unknown stack part 'dr'; dev has network, data"):
        deploy.stacks_in_order(load_environment("dev"), ["dr"])


def test_cdk_runs_on_the_synthesized_assembly_with_the_pinned_tools(tmp_path: Path) -> None:
    argv = cdk_command(tmp_path, "deploy", ["a", "b"], "--require-approval", "never")
    assert argv[0].endswith("node_modules/.bin/node")
    assert argv[1].endswith("node_modules/aws-cdk/bin/cdk")
    assert argv[2:] == ["deploy", "--app", str(tmp_path), "--require-approval", "never", "a", "b"]


def test_bootstrap_covers_every_region_the_stacks_deploy_to() -> None:
    assert deploy.bootstrap_targets(load_environment("dev")) == ["aws://111111111111/us-east-1"]
    prod = load_environment("prod")
    regions = sorted({prod.region, prod.dr_region or "", "us-east-1"})
    assert deploy.bootstrap_targets(prod) == [f"aws://{prod.account}/{r}" for r in regions]


@pytest.mark.usefixtures("no_credentials")
@pytest.mark.parametrize("verb", ["bootstrap", "plan", "apply", "status"])
def test_no_credentials_is_exit_4_and_one_sentence(
    verb: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["infra", verb, "dev"]) == ExitCode.NO_CREDENTIALS
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "`hp infra synth`" in err


@pytest.mark.usefixtures("no_credentials")
def test_destroy_refuses_production_before_anything_else(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["infra", "destroy", "prod", "--yes"]) == ExitCode.REFUSED
    assert capsys.readouterr().err.strip() == "error: `hp infra destroy` refuses production (prod)."


@pytest.mark.usefixtures("aws")
def test_apply_needs_released_images_before_the_services(tmp_path: Path) -> None:
    with pytest.raises(
        InvalidInputError,
        match="run `hp secrets set dev session-secret --generate` and `hp release dev`",
    ) as raised:
        deploy.apply(
            load_environment("dev"), tmp_path, never_synthesize, parts=None, confirm=lambda _: True
        )
    assert "/health-platform/dev/release/frontend" in str(raised.value)


@pytest.mark.usefixtures("aws")
def test_apply_needs_the_session_secret_before_the_services(tmp_path: Path) -> None:
    # Without it the backend's tasks fail with ResourceInitializationError, after a long
    # rollback: refused here, before anything is deployed.
    dev = load_environment("dev")
    release(dev, secrets=False)
    with pytest.raises(InvalidInputError) as raised:
        deploy.apply(dev, tmp_path, never_synthesize, parts=None, confirm=lambda _: True)
    assert str(raised.value).startswith(
        "dev is not ready for its services: /health-platform/dev/app/session-secret missing."
    )
    # Deploying only network and data needs neither.
    with pytest.raises(AssertionError, match="synthesis must not start"):
        deploy.apply(
            dev, tmp_path, never_synthesize, parts=["network", "data"], confirm=lambda _: True
        )


def test_every_parameter_the_services_stack_reads_is_checked() -> None:
    names = deploy.required_parameters("dev")
    assert names == [
        "/health-platform/dev/release/frontend",
        "/health-platform/dev/release/backend",
        "/health-platform/dev/app/session-secret",
    ]


def release(settings: EnvironmentSettings, *, secrets: bool = True) -> None:
    """Write what `hp release` and `hp secrets set` write."""
    ssm = boto3.client("ssm", settings.region)
    for service in ("frontend", "backend"):
        ssm.put_parameter(
            Name=f"/health-platform/{settings.name}/release/{service}", Value="v1", Type="String"
        )
    if secrets:
        ssm.put_parameter(
            Name=f"/health-platform/{settings.name}/app/session-secret",
            Value="s" * 64,
            Type="SecureString",
        )


@pytest.mark.usefixtures("aws")
def test_apply_asks_before_touching_production(tmp_path: Path) -> None:
    prod = load_environment("prod")
    release(prod)
    questions: list[str] = []

    def decline(question: str) -> bool:
        questions.append(question)
        return False

    with pytest.raises(RefusedError, match="Nothing deployed"):
        deploy.apply(prod, tmp_path, never_synthesize, parts=None, confirm=decline)
    assert questions == ["Deploy 6 stack(s) to PRODUCTION (333333333333)?"]


@pytest.mark.usefixtures("aws")
def test_prod_apply_without_yes_reads_the_answer_and_exits_6(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    release(load_environment("prod"))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("n\n"))
    assert main(["infra", "apply", "prod"]) == ExitCode.REFUSED
    assert "error: Nothing deployed." in capsys.readouterr().err


def test_retained_resources_are_read_from_the_templates(tmp_path: Path) -> None:
    (tmp_path / "s.template.json").write_text(
        '{"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Retain"},'
        ' "Sg": {"Type": "AWS::EC2::SecurityGroup"}}}'
    )
    assert deploy.retained_resources(tmp_path, ["s"]) == ["s: AWS::RDS::DBInstance Db"]
