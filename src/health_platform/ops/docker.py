"""The Docker CLI, for `hp release`: build for Fargate's platform, sign in to ECR, push.
The ECR password goes to `docker login` on standard input, never on its command line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from health_platform.errors import AwsError, ToolchainError

# Fargate runs the task definitions' X86_64 runtime platform; an image built on an ARM
# laptop without this would not start there (exec format error).
PLATFORM = "linux/amd64"


class Docker:
    def __init__(self, executable: str | None = None) -> None:
        self.executable = executable or shutil.which("docker")

    def available(self) -> bool:
        """A Docker CLI and an engine that answers it."""
        if self.executable is None:
            return False
        try:
            answered = subprocess.run(  # noqa: S603
                [self.executable, "info", "--format", "{{.ServerVersion}}"],
                capture_output=True,
                check=False,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return answered.returncode == 0

    def require(self) -> str:
        if not self.available() or self.executable is None:
            raise ToolchainError(
                "No Docker engine here to build the images; build and push them elsewhere,"
                " then release those with `--image-tag TAG`."
            )
        return self.executable

    def login(self, registry: str, username: str, password: str) -> None:
        self._run(
            ["login", "--username", username, "--password-stdin", registry],
            f"sign in to {registry}",
            stdin=password,
        )

    def build(self, dockerfile: Path, context: Path, image: str) -> None:
        self._run(
            [
                "build",
                "--platform",
                PLATFORM,
                "--file",
                str(dockerfile),
                "--tag",
                image,
                str(context),
            ],
            f"build {image}",
        )

    def push(self, image: str) -> None:
        self._run(["push", image], f"push {image}")

    def _run(self, arguments: list[str], doing: str, stdin: str | None = None) -> None:
        executable = self.require()
        finished = subprocess.run(  # noqa: S603
            [executable, *arguments], input=stdin, text=True, check=False
        )
        if finished.returncode != 0:
            raise AwsError(f"docker could not {doing} (exit {finished.returncode}); see above.")
