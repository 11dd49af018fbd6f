"""Schema-driven fuzzing of the OpenAPI schema (schemathesis): whatever a client sends, the
API never answers 5xx. Runs signed in as a patient (with the CSRF token), so generated
requests reach the handlers instead of stopping at 401.

Driven through hypothesis directly: schemathesis's pytest plugin does not load under this
pytest version."""

from __future__ import annotations

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.conftest import sign_up

EXAMPLES_PER_OPERATION = 20
# Ending the session would leave every later operation at 401; logout takes no input anyway.
SKIPPED = {"/api/auth/logout"}


def test_no_client_input_causes_a_server_error(app) -> None:  # type: ignore[no-untyped-def]
    user = sign_up(app)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIPPED:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(
                headers={"X-CSRF-Token": user.csrf},
                cookies=dict(user.client.cookies),
                base_url="https://testserver",
            )
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]}"
                )

        exercise()
    assert operations >= 20
    # The session held: requests reached the handlers, not just the sign-in wall.
    assert sum(n for status, n in statuses.items() if status < 300) > 50, statuses
    assert not failures, "\n".join(failures[:10])
