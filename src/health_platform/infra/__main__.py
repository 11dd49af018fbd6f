"""The CDK app entry point (`cdk.json`: "python -m health_platform.infra").

Synthesizes every environment; `hp infra synth ENV` synthesizes one.
"""

from health_platform.infra.toolchain import prepare_cdk_runtime

prepare_cdk_runtime()

from health_platform.infra.app import build_app  # noqa: E402 - needs the runtime first
from health_platform.settings import load_environments  # noqa: E402

app, _ = build_app(load_environments())
app.synth()
