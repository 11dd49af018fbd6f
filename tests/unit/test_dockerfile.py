"""Reading a Dockerfile's final stage: the project's two images, and small ones for each rule."""

from __future__ import annotations

import pytest
from uvicorn.importer import import_from_string

from health_platform.api.server import HeaderDeadlineProtocol
from health_platform.contract import API_HTTP_PROTOCOL, FRONTEND, TASK_CERTIFICATE, TASK_KEY
from health_platform.images.dockerfile import (
    DockerfileError,
    ImageSpec,
    parse_dockerfile,
    read_dockerfile,
)
from health_platform.infra.services.load_balancer import IDLE_TIMEOUT_SECONDS
from health_platform.local.nginx import FRONTEND_CONF, FRONTEND_TASK_CERTIFICATE, TLS12_CIPHERS
from health_platform.rehearse.plan import STAND_INS
from tests.conftest import REPO

# Where the frontend image keeps its certificate script, as the rehearsal lays it.
(REHEARSED_TASK_CERTIFICATE,) = (
    path
    for path, source in STAND_INS[FRONTEND].binds.items()
    if source == FRONTEND_TASK_CERTIFICATE
)


def parse(*lines: str) -> ImageSpec:
    return parse_dockerfile("\n".join(lines) + "\n")


# --- the project's images ---------------------------------------------------------------------
def test_frontend_image() -> None:
    spec = read_dockerfile(REPO / "frontend" / "Dockerfile")
    assert spec.user == "101"
    # The task's own certificate first (the load balancer's TLS to it), then nginx.
    assert spec.cmd == ("task-certificate", "nginx", "-g", "daemon off;")
    assert spec.healthcheck == ("curl", "-fsSk", "-o", "/dev/null", "https://127.0.0.1:3000/health")
    dockerfile = (REPO / "frontend" / "Dockerfile").read_text()
    assert f"COPY task-certificate {REHEARSED_TASK_CERTIFICATE}\n" in dockerfile
    # The script writes where nginx.conf reads, the paths the contract names.
    script = FRONTEND_TASK_CERTIFICATE.read_text()
    assert f"key={TASK_KEY}\n" in script and f"certificate={TASK_CERTIFICATE}\n" in script
    conf = FRONTEND_CONF.read_text()
    assert f"ssl_certificate {TASK_CERTIFICATE};" in conf
    assert f"ssl_certificate_key {TASK_KEY};" in conf
    assert f"ssl_ciphers {TLS12_CIPHERS};" in conf  # the local balancer's AEAD-only list


def test_backend_image() -> None:
    spec = read_dockerfile(REPO / "src" / "health_platform" / "api" / "Dockerfile")
    assert spec.user == "10001"
    assert spec.cmd is not None
    # The task's own certificate first (the load balancer's TLS to it), then the server.
    assert spec.cmd[:5] == (
        "python",
        "-m",
        "health_platform.api.task_certificate",
        "uvicorn",
        "health_platform.api.main:app",
    )
    assert spec.cmd[spec.cmd.index("--ssl-keyfile") + 1] == TASK_KEY
    assert spec.cmd[spec.cmd.index("--ssl-certfile") + 1] == TASK_CERTIFICATE
    assert spec.cmd[spec.cmd.index("--port") + 1] == "5000"
    # The ALB closes idle connections first (AWS's advice; else an occasional 502).
    keep_alive = int(spec.cmd[spec.cmd.index("--timeout-keep-alive") + 1])
    assert keep_alive > IDLE_TIMEOUT_SECONDS
    # The protocol with a deadline for request headers, as the local platform runs it.
    assert spec.cmd[spec.cmd.index("--http") + 1] == API_HTTP_PROTOCOL
    assert import_from_string(API_HTTP_PROTOCOL) is HeaderDeadlineProtocol
    assert spec.healthcheck is not None
    assert "'https://127.0.0.1:5000/health'" in spec.healthcheck[-1]


@pytest.mark.parametrize(
    "dockerfile", ["frontend/Dockerfile", "src/health_platform/api/Dockerfile"]
)
def test_project_images_own_only_their_volumes(dockerfile: str) -> None:
    spec = read_dockerfile(REPO / dockerfile)
    assert set(spec.volume_owners) <= set(spec.volumes)
    assert all(path.startswith("/") for path in spec.volumes)


# --- volumes and who owns them ----------------------------------------------------------------
def test_volumes_in_both_forms_and_owners_from_install_d() -> None:
    spec = parse(
        "FROM debian:12",
        "RUN apt-get update && install -d -o 101 -g 102 -m 1777 /tmp /var/cache/app/ \\",
        "    && rm -rf /var/lib/apt/lists/*",
        'VOLUME ["/tmp", "/var/cache/app"]',
        "VOLUME /data /scratch",
        "RUN install -d -m 0700 /data",
    )
    assert spec.volumes == ("/tmp", "/var/cache/app", "/data", "/scratch")
    assert spec.volume_owners == {
        "/tmp": (101, 102, 0o1777),
        "/var/cache/app": (101, 102, 0o1777),
        "/data": (0, 0, 0o700),  # install's defaults as root: root's
    }  # /scratch: no install line, so Fargate's root 0755


def test_only_install_d_gives_owners() -> None:
    spec = parse(
        "FROM debian:12",
        "RUN mkdir -p /a && chown 101:101 /a && install -o 101 -g 101 -m 0644 x.conf /b",
        "VOLUME /a /b",
    )
    assert spec.volume_owners == {}


def test_install_options_written_together_and_long() -> None:
    spec = parse(
        "FROM debian:12",
        "RUN install -dm0750 -o 7 -g 8 /x; install --directory --owner=9 --group=10 --mode=700 /y",
        "VOLUME /x /y",
    )
    assert spec.volume_owners == {"/x": (7, 8, 0o750), "/y": (9, 10, 0o700)}


def test_relative_install_paths_follow_workdir() -> None:
    spec = parse(
        "FROM debian:12",
        "WORKDIR /srv",
        "WORKDIR app",
        "RUN install -d -o 5 -g 5 -m 755 cache",
        "VOLUME /srv/app/cache",
    )
    assert spec.workdir == "/srv/app"
    assert spec.volume_owners == {"/srv/app/cache": (5, 5, 0o755)}


# --- lines, comments, stages ------------------------------------------------------------------
def test_comments_and_continuations() -> None:
    spec = parse(
        "# syntax=docker/dockerfile:1",
        "FROM debian:12",
        "# a comment",
        'CMD ["server", \\',
        "# a comment inside the continuation, which Docker drops",
        '     "--port", \\',
        "",
        '     "5000"]',
        "HEALTHCHECK --interval=5s --retries=2 \\",
        "  CMD curl -f http://127.0.0.1:5000/",
    )
    assert spec.cmd == ("server", "--port", "5000")
    assert spec.healthcheck == ("/bin/sh", "-c", "curl -f http://127.0.0.1:5000/")


def test_only_the_final_stage_counts() -> None:
    spec = parse(
        "FROM node:22 AS build",
        "USER node",  # a name, but in a stage the container never runs
        "RUN install -d -o 1 -g 1 -m 700 /cache",
        "VOLUME /cache",
        'CMD ["build"]',
        'HEALTHCHECK CMD ["true"]',
        "FROM nginx:1.28",
        "COPY --from=build /app/dist /usr/share/nginx/html",
    )
    assert spec == ImageSpec(
        user=None, volumes=(), volume_owners={}, cmd=None, workdir=None, healthcheck=None
    )


def test_a_final_stage_from_an_earlier_one_continues_it() -> None:
    spec = parse(
        "FROM python:3.11 AS base",
        "USER 10001",
        "VOLUME /tmp",
        "FROM base",
        'CMD ["serve"]',
    )
    assert (spec.user, spec.volumes, spec.cmd) == ("10001", ("/tmp",), ("serve",))


def test_healthcheck_none_and_the_last_user() -> None:
    spec = parse("FROM x", "USER 1", "HEALTHCHECK CMD true", "HEALTHCHECK NONE", "USER 2:3")
    assert (spec.user, spec.healthcheck) == ("2:3", None)


# --- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["FROM x", "USER nginx"], r"Dockerfile:2: USER nginx is a name; write the numeric id"),
        (
            ["FROM x", "RUN install -d -o app -g app /v", "VOLUME /v"],
            r":2: install -d /v gives it to app:app",
        ),
        (
            ["FROM x", "RUN install -d -m u=rwx -o 1 -g 1 /v", "VOLUME /v"],
            r"has mode u=rwx; write it in octal",
        ),
        (["FROM x", "USER 101", "RUN install -d /v", "VOLUME /v"], r"without -o and -g"),
        (["FROM x", "RUN install -d --bogus /v"], r"cannot read `install -d --bogus /v`"),
        (["FROM x", "CMD ['nginx']"], r"not a JSON array of strings \(JSON needs double quotes\)"),
        (["FROM x", "HEALTHCHECK --interval=5s"], r"HEALTHCHECK needs CMD"),
        (["USER 1"], r"USER comes before any FROM"),
        (["# just a comment"], r"no FROM"),
        (["# escape=`", "FROM x"], r"escape=` is not supported"),
    ],
)
def test_errors_name_the_line(lines: list[str], message: str) -> None:
    with pytest.raises(DockerfileError, match=message):
        parse(*lines)


def test_a_named_user_in_a_build_stage_is_fine() -> None:
    assert parse("FROM node AS build", "USER node", "FROM x", "USER 1").user == "1"
