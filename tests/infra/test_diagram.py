"""The diagram drawn from the real templates, and the committed one in docs/ still matching
them: regenerate with `make diagram` when a change to the stacks changes the picture."""

from __future__ import annotations

import json

from health_platform.diagram import read_architecture
from health_platform.paths import REPO
from tests.infra.conftest import Synthesis

COMMITTED = REPO / "docs" / "architecture-dev.json"


def test_the_committed_dev_diagram_is_drawn_from_todays_templates(synthesis: Synthesis) -> None:
    model = read_architecture(synthesis.outdir, "dev")
    assert json.loads(COMMITTED.read_text()) == model.to_dict(), (
        "docs/architecture-dev.png no longer matches the templates: run `make diagram`"
    )
    assert (REPO / "docs" / "architecture-dev.png").is_file()


def test_dev_shows_the_seed_architecture(synthesis: Synthesis) -> None:
    model = read_architecture(synthesis.outdir, "dev")
    kinds = {node.kind for node in model.nodes}
    assert {"cloudfront", "waf", "alb", "ecs", "rds", "redis", "s3", "ecr", "kms"} <= kinds
    assert {"secrets", "ssm", "cloudwatch", "sns", "nat", "endpoints"} <= kinds
    edges = {(edge.source, edge.target) for edge in model.edges}
    assert {("cdn", "alb"), ("alb", "ecs:frontend"), ("alb", "ecs:backend")} <= edges
    assert {("ecs:backend", "rds:db"), ("ecs:backend", "redis")} <= edges


def test_prod_shows_the_replica_and_the_disaster_recovery_copies(synthesis: Synthesis) -> None:
    model = read_architecture(synthesis.outdir, "prod")
    edges = {(edge.source, edge.target): edge.label for edge in model.edges}
    assert edges[("rds:db", "rds:db-replica")] == "replication"
    assert edges[("s3:uploads", "s3:uploads-replica")] == "replication"
    assert edges[("backup:health-platform-prod", "backup:health-platform-prod-dr")] == "copy"
    dr = synthesis.environments["prod"].dr_region
    assert any(node.group == f"storage:{dr}" for node in model.nodes)
