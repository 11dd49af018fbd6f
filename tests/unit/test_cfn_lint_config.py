"""Every cfn-lint rule the project ignores says why, in the one config file."""

from __future__ import annotations

from health_platform.infra.compliance.cfn_lint import CONFIG_FILE, ignored_rules
from tests.conftest import REPO


def reason_above(lines: list[str], index: int) -> str:
    """The comment block right above line `index`."""
    block: list[str] = []
    while index > 0 and lines[index - 1].lstrip().startswith("#"):
        index -= 1
        block.insert(0, lines[index].lstrip("# ").strip())
    return " ".join(block)


def test_each_ignored_rule_has_a_reason_above_it() -> None:
    lines = (REPO / CONFIG_FILE).read_text().splitlines()
    rules = ignored_rules(REPO)
    assert rules, "the config lists no rules; drop this test's premise or the file"
    for rule in rules:
        reason = reason_above(lines, lines.index(f"  - {rule}"))
        assert reason.startswith(rule), f"{rule}: the comment above it must name it"
        assert len(reason.split()) >= 8, f"{rule}: the reason is too thin: {reason!r}"
