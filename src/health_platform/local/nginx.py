"""Nginx processes of the local platform: the frontend's server (frontend/nginx.conf, the
container's own file) and the load balancer in front of it and the API."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from health_platform.contract import LARGE_BODY_ROUTES, MAX_BODY_BYTES, REQUEST_HEADER_SECONDS
from health_platform.errors import ToolchainError
from health_platform.local.ports import http_ok
from health_platform.paths import REPO

FRONTEND_CONF = REPO / "frontend" / "nginx.conf"
FRONTEND_DIST = REPO / "frontend" / "dist"
# The frontend image's /usr/local/bin/task-certificate (its Dockerfile copies it there).
FRONTEND_TASK_CERTIFICATE = REPO / "frontend" / "task-certificate"


def _api_error(code: str, message: str) -> str:
    """The API's error shape, for answers the load balancer gives in the API's place, with
    the request's id (nginx's $request_id, the one it hands the API too)."""
    return json.dumps(
        {
            "error": {
                "code": code,
                "message": message,
                "details": [],
                "request_id": "$request_id",
            }
        },
        separators=(",", ":"),
    )


UNAVAILABLE = _api_error("unavailable", "The API is unavailable; try again shortly.")
TOO_LARGE = _api_error(
    "too_large",
    f"Request bodies may be at most {MAX_BODY_BYTES // (1024 * 1024)} MB on this route.",
)
# The name the balancer serves (its certificate's, local/tls.py): redirects go there, never
# to whatever Host a client sent.
SERVER_NAME = "localhost"
# The balancer's own source address towards the API. The API trusts X-Forwarded-For from
# this address alone (trusted_proxy_networks), so a client on 127.0.0.1 that reaches the
# API's port directly cannot pass for the balancer.
BALANCER_SOURCE_ADDRESS = "127.0.0.2"
# Slow clients: the whole request header must arrive within this, a body or a reader of the
# answer may not pause longer (a body that trickles is cut by the API's own pace, see
# ApiSettings.body_read_window_seconds), and an idle keep-alive connection closes after
# twice this.
CLIENT_TIMEOUT_SECONDS = REQUEST_HEADER_SECONDS
# Short, and without includeSubDomains: the browser applies it to every port of localhost.
HSTS_MAX_AGE_SECONDS = 3600
# TLS 1.2 with forward secrecy and authenticated encryption only (no CBC, CCM8, ARIA or
# Camellia), as the ALB's ELBSecurityPolicy-TLS13-1-2-Res-2021-06; TLS 1.3's are all AEAD.
TLS12_CIPHERS = ":".join(
    f"ECDHE-{key}-{cipher}"
    for cipher in ("AES128-GCM-SHA256", "AES256-GCM-SHA384", "CHACHA20-POLY1305")
    for key in ("ECDSA", "RSA")
)
# The directives of frontend/nginx.conf that differ on this machine, by their marker.
LOCAL_MARKS = ("listen", "tls", "root", "pid", "temp")

# How a location hands requests to the API, from BALANCER_SOURCE_ADDRESS. The body streams through
# unbuffered: the API counts, paces and stores it. (error_page is set per location: one of a
# location's own drops every one the server sets.)
TO_API = f"""
            proxy_pass http://api;
            proxy_bind {BALANCER_SOURCE_ADDRESS};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # One id for the request, in the balancer's answers and the API's log alike.
            proxy_set_header X-Request-ID $request_id;
            proxy_request_buffering off;
            proxy_buffering off;
            error_page 413 @too_large;
            error_page 502 503 504 = @api_unavailable;"""


def frontend_conf(source: str, *, port: int, root: Path, state_dir: Path) -> str:
    """frontend/nginx.conf for this machine: the lines marked `# local: <what>` rewritten
    (listen on 127.0.0.1:`port` in plain HTTP, the task certificate's lines commented out, serve
    `root`, keep pid and temporary files in `state_dir`); every other line exactly as the
    container runs it."""
    seen: set[str] = set()
    lines = []
    for line in source.splitlines():
        code, _, mark = line.partition("# local: ")
        what = mark.strip()
        if not what:
            lines.append(line)
            continue
        if what not in LOCAL_MARKS:
            raise ValueError(f"frontend/nginx.conf: unknown local mark {what!r}")
        seen.add(what)
        indent = code[: len(code) - len(code.lstrip())]
        directive = code.split()[0]
        if what == "tls":  # commented out: the local frontend serves the balancer in plain
            lines.append(f"{indent}# {code.strip()}")
            continue
        if what == "listen":
            lines.append(f"{indent}listen 127.0.0.1:{port};")
        elif what == "root":
            lines.append(f"{indent}root {root};")
        elif what == "pid":
            lines.append(f"{indent}pid {state_dir / 'nginx.pid'};")
        else:
            folder = code.split()[1].rstrip(";").split("/")[-1]
            lines.append(f"{indent}{directive} {state_dir / folder};")
    missing = set(LOCAL_MARKS) - seen
    if missing:
        raise ValueError(f"frontend/nginx.conf: no line marked for {', '.join(sorted(missing))}")
    return "\n".join(lines) + "\n"


def load_balancer_conf(
    *,
    port: int,
    api_port: int,
    frontend_port: int,
    state_dir: Path,
    tls: tuple[Path, Path] | None = None,
    http_redirect_port: int | None = None,
    down: Collection[str] = (),
    client_timeout: int = CLIENT_TIMEOUT_SECONDS,
) -> str:
    """The local stand-in for the ALB: /api/* to the API, everything else to the frontend.

    `tls`: (certificate, key) to serve HTTPS on `port`, with plain HTTP on
    `http_redirect_port` answering only with a redirect to it. `down`: upstreams ("api",
    "frontend") that failed their health checks, taken out of rotation as the ALB would.
    `client_timeout`: see CLIENT_TIMEOUT_SECONDS (tests shorten it)."""
    temp = "\n".join(
        f"    {kind}_temp_path {state_dir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    upstreams = "\n".join(
        f"    upstream {name} {{ server 127.0.0.1:{upstream_port} max_fails=1 fail_timeout=5s"
        f"{' down' if name in down else ''}; }}"
        for name, upstream_port in (("api", api_port), ("frontend", frontend_port))
    )
    listen = f"listen 127.0.0.1:{port}"
    secure = hsts = ""
    if tls is not None:
        # HTTP/2, as CloudFront speaks to browsers: one connection, its requests in parallel
        # (over HTTP/1.1 a browser opens more, each with its own TLS handshake).
        listen += " ssl http2"
        # Repeated in each location that adds a header of its own (which drops the server's).
        hsts = (
            "\n            add_header Strict-Transport-Security"
            f' "max-age={HSTS_MAX_AGE_SECONDS}" always;'
        )
        secure = f"""
        ssl_certificate {tls[0]};
        ssl_certificate_key {tls[1]};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers {TLS12_CIPHERS};
        {hsts.strip()}"""
    redirect = ""
    if http_redirect_port is not None:
        redirect = f"""
    server {{
        listen 127.0.0.1:{http_redirect_port};
        location / {{ return 301 https://{SERVER_NAME}:{port}$request_uri; }}
    }}"""
    # Uploads are checked, paced and streamed by the API itself (its own limit, 413).
    uploads = "".join(
        f"""
        location = {path} {{
            client_max_body_size 0;{TO_API}
        }}"""
        for path in sorted({path for _, path in LARGE_BODY_ROUTES})
    )
    return f"""# Generated by health_platform.local.nginx: the local platform's load balancer.
worker_processes 1;
pid {state_dir / "nginx.pid"};
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
{temp}
    access_log off;
    server_tokens off;
    client_header_timeout {client_timeout}s;
    client_body_timeout {client_timeout}s;
    send_timeout {client_timeout}s;
    keepalive_timeout {2 * client_timeout}s;
{upstreams}
    server {{
        {listen};{secure}
        client_max_body_size {MAX_BODY_BYTES};
        location /api/ {{{TO_API}
        }}{uploads}
        location @api_unavailable {{
            default_type application/json;
            add_header Retry-After 5 always;{hsts}
            return 503 '{UNAVAILABLE}';
        }}
        location @too_large {{
            default_type application/json;
            return 413 '{TOO_LARGE}';
        }}
        location / {{
            proxy_pass http://frontend;
            # HTTP/1.1, as the ALB speaks to its targets: the frontend's Nginx compresses only
            # 1.1 requests (gzip_http_version), so over 1.0 every asset went out whole.
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            error_page 413 @too_large;
            error_page 502 503 504 = @frontend_unavailable;
        }}
        location @frontend_unavailable {{
            default_type text/plain;
            add_header Retry-After 5 always;{hsts}
            return 503 "The application is unavailable; try again shortly.\n";
        }}
    }}{redirect}
}}
"""


def nginx_binary() -> str:
    for candidate in ("/usr/sbin/nginx", shutil.which("nginx")):
        if candidate and Path(candidate).exists():
            return candidate
    raise ToolchainError("Nginx is not installed (nginx not found); run `make setup`.")


def nginx_argv(state_dir: Path) -> list[str]:
    """Nginx in the foreground on `state_dir`/nginx.conf, its files under `state_dir`, its
    startup errors to stderr (not /var/log/nginx, which a non-root user cannot open)."""
    conf = state_dir / "nginx.conf"
    return [
        nginx_binary(),
        "-e",
        "stderr",
        "-p",
        str(state_dir),
        "-c",
        str(conf),
        "-g",
        "daemon off;",
    ]


@dataclass
class Nginx:
    """One nginx master process in the foreground, running `conf` (written to `state_dir`)."""

    state_dir: Path
    conf: str
    health_url: str
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def log_file(self) -> Path:
        return self.state_dir / "nginx.log"

    def start(self, timeout: float = 15) -> None:
        # 0755: as root, nginx's workers run as `nobody` and must reach their temp folders.
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        conf_path = self.state_dir / "nginx.conf"
        conf_path.write_text(self.conf)
        argv = nginx_argv(self.state_dir)
        checked = subprocess.run([*argv[:-2], "-t"], capture_output=True, text=True, check=False)  # noqa: S603
        if checked.returncode != 0:
            raise RuntimeError(f"nginx refused {conf_path}: {checked.stderr.strip()}")
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + timeout
        while not http_ok(self.health_url, timeout=1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx did not become healthy; see {self.log_file}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Graceful: SIGQUIT lets workers finish the requests they have."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def frontend_nginx(state_dir: Path, port: int) -> Nginx:
    """The frontend's server (frontend/nginx.conf serving frontend/dist) on 127.0.0.1:`port`,
    its files in `state_dir`, ready to start."""
    conf = frontend_conf(
        FRONTEND_CONF.read_text(), port=port, root=FRONTEND_DIST, state_dir=state_dir
    )
    return Nginx(state_dir, conf, f"http://127.0.0.1:{port}/health")
