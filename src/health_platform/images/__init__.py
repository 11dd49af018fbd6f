"""The services' container images as this repository builds them: which Dockerfile makes
each container's image (`dockerfile` reads its facts), and what Fargate does with them
(`fargate`). The services stack, the deployability pack and the rehearsal all read these."""

from __future__ import annotations

from health_platform.contract import BACKEND, FRONTEND, MIGRATION
from health_platform.images.dockerfile import ImageSpec, read_dockerfile
from health_platform.paths import REPO

# The image each service runs, built from these files.
DOCKERFILES = {
    FRONTEND: REPO / "frontend" / "Dockerfile",
    BACKEND: REPO / "src" / "health_platform" / "api" / "Dockerfile",
}
# The folder each is built from (what `docker build` sends; its ignore file trims it).
BUILD_CONTEXTS = {FRONTEND: REPO / "frontend", BACKEND: REPO}
# What goes into each image, relative to the repository: a release tags an image with the
# last commit that changed these, so an image is rebuilt only when its own inputs change.
BUILD_INPUTS = {
    FRONTEND: ("frontend",),
    BACKEND: (
        "pyproject.toml",
        "src/health_platform/__init__.py",
        "src/health_platform/contract.py",
        "src/health_platform/errors.py",
        "src/health_platform/api",
    ),
}
# Every container the task definitions name, and its image's Dockerfile (the migration is
# a container of the backend's image).
CONTAINER_DOCKERFILES = {**DOCKERFILES, MIGRATION: DOCKERFILES[BACKEND]}


def image_of(container: str) -> ImageSpec:
    return read_dockerfile(CONTAINER_DOCKERFILES[container])
