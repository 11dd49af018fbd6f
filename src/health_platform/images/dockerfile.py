"""What a Dockerfile's final stage says about the container a task will run: its user, its
volumes and who owns them, its command, working directory and health check.

Read from the text alone (no image is built or pulled), so only what the Dockerfile spells
out is known; what a base image sets is `None` here. Not supported: parser directives other
than the default escape character, heredocs (`RUN <<EOF`), variable substitution.
"""

from __future__ import annotations

import copy
import getopt
import json
import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from health_platform.errors import InvalidInputError

_NUMERIC_USER = re.compile(r"\d+(:\d+)?")
_ROOT_USERS = (None, "0", "0:0", "root", "root:root")  # whom RUN runs as, for install's defaults
_SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;", "|&"})
# GNU install's options, so that an option's argument is never mistaken for a path.
_INSTALL_SHORT = "bcCdDpsTvZg:m:o:S:t:"
_INSTALL_LONG = [
    "compare",
    "directory",
    "group=",
    "mode=",
    "owner=",
    "preserve-timestamps",
    "strip",
    "strip-program=",
    "suffix=",
    "target-directory=",
    "no-target-directory",
    "verbose",
    "preserve-context",
]


class DockerfileError(InvalidInputError):
    """The Dockerfile says something this reader cannot turn into facts (a user by name,
    an `install` line it cannot parse): the message names the file and line."""


@dataclass(frozen=True)
class ImageSpec:
    """The final stage of a Dockerfile, as far as the task's container is concerned."""

    user: str | None  # the last USER as written ("10001", "101:101"); None: the base image's
    volumes: tuple[str, ...]  # every VOLUME path, normalised ("/var/cache/nginx")
    # (uid, gid, mode) of each volume directory the image creates with `install -d`; a
    # volume with no entry is mounted as Fargate mounts an empty one: root-owned, 0755.
    volume_owners: dict[str, tuple[int, int, int]]
    cmd: tuple[str, ...] | None  # exec form; a shell-form CMD becomes ("/bin/sh", "-c", text)
    workdir: str | None  # the last WORKDIR, resolved against the ones before it
    healthcheck: tuple[str, ...] | None  # the HEALTHCHECK command, in the same form as `cmd`


def read_dockerfile(path: Path) -> ImageSpec:
    return parse_dockerfile(path.read_text(), source=str(path))


def parse_dockerfile(text: str, source: str = "Dockerfile") -> ImageSpec:
    stages: dict[str, _Stage] = {}
    stage: _Stage | None = None
    for line, keyword, arguments in _instructions(text, source):
        if keyword == "FROM":
            stage = _from(arguments, stages, line, source)
        elif stage is None:
            if keyword != "ARG":  # only ARG may come before the first FROM
                raise DockerfileError(f"{source}:{line}: {keyword} comes before any FROM")
        else:
            _apply(stage, keyword, arguments, line, source)
    if stage is None:
        raise DockerfileError(f"{source}: no FROM, so there is no stage to read")
    return stage.spec(source)


# --- one stage, as it accumulates -----------------------------------------------------------
@dataclass
class _Install:
    """One directory from `install -d`, as written, with where it was written."""

    owner: str
    group: str
    mode: str
    line: int


@dataclass
class _Stage:
    user: str | None = None
    user_line: int = 0
    volumes: list[str] = field(default_factory=list)
    installs: dict[str, _Install] = field(default_factory=dict)
    cmd: tuple[str, ...] | None = None
    workdir: str | None = None
    healthcheck: tuple[str, ...] | None = None

    def spec(self, source: str) -> ImageSpec:
        # Checked here rather than where written: a build stage may use names freely.
        if self.user is not None and not _NUMERIC_USER.fullmatch(self.user):
            raise DockerfileError(
                f"{source}:{self.user_line}: USER {self.user} is a name; write the numeric id "
                "(USER 10001), which the task definition's User can match without the "
                "image's /etc/passwd"
            )
        owners = {}
        for volume in self.volumes:
            made = self.installs.get(volume)
            if made is not None:
                owners[volume] = _owner(made, volume, source)
        return ImageSpec(
            user=self.user,
            volumes=tuple(self.volumes),
            volume_owners=owners,
            cmd=self.cmd,
            workdir=self.workdir,
            healthcheck=self.healthcheck,
        )


def _owner(made: _Install, path: str, source: str) -> tuple[int, int, int]:
    where = f"{source}:{made.line}: install -d {path}"
    if not (made.owner.isdigit() and made.group.isdigit()):
        raise DockerfileError(
            f"{where} gives it to {made.owner}:{made.group}; write numeric ids "
            "(-o 10001 -g 10001), which this reader can check against the task's user"
        )
    if not re.fullmatch(r"[0-7]{1,4}", made.mode):
        raise DockerfileError(f"{where} has mode {made.mode}; write it in octal (-m 0755)")
    return int(made.owner), int(made.group), int(made.mode, 8)


# --- instructions ---------------------------------------------------------------------------
def _instructions(text: str, source: str) -> Iterator[tuple[int, str, str]]:
    """(line number, KEYWORD, arguments) of each instruction, continuations joined and
    comments dropped, as Docker reads them (a comment line inside a continuation too)."""
    lines = text.splitlines()
    _check_directives(lines, source)
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if not pending:
            start = number
        body = raw.rstrip()
        if body.endswith("\\"):
            pending.append(body[:-1])
            continue
        pending.append(body)
        keyword, _, arguments = "".join(pending).strip().partition(" ")
        pending = []
        yield start, keyword.upper(), arguments.strip()
    if pending:
        keyword, _, arguments = "".join(pending).strip().partition(" ")
        yield start, keyword.upper(), arguments.strip()


def _check_directives(lines: list[str], source: str) -> None:
    for number, raw in enumerate(lines, start=1):
        directive = re.fullmatch(r"#\s*(\w+)\s*=\s*(.*?)\s*", raw)
        if directive is None:
            return  # directives only come first; anything else ends them
        if directive[1].lower() == "escape" and directive[2] != "\\":
            raise DockerfileError(
                f"{source}:{number}: escape={directive[2]} is not supported; only the "
                "default backslash continues a line here"
            )


def _from(arguments: str, stages: dict[str, _Stage], line: int, source: str) -> _Stage:
    words = [word for word in arguments.split() if not word.startswith("--")]
    if not words:
        raise DockerfileError(f"{source}:{line}: FROM names no image")
    base = stages.get(words[0].lower())
    # FROM an earlier stage continues from it; FROM an image starts from what we can't see.
    stage = copy.deepcopy(base) if base is not None else _Stage()
    if len(words) >= 3 and words[1].lower() == "as":
        stages[words[2].lower()] = stage
    return stage


def _apply(stage: _Stage, keyword: str, arguments: str, line: int, source: str) -> None:
    if keyword == "USER":
        stage.user, stage.user_line = arguments, line
    elif keyword == "VOLUME":
        for path in _volume_paths(arguments, line, source):
            clean = posixpath.normpath(path)
            if clean not in stage.volumes:
                stage.volumes.append(clean)
    elif keyword == "WORKDIR":
        stage.workdir = _resolve(arguments, stage.workdir)
    elif keyword == "CMD":
        stage.cmd = _command(arguments, line, source)
    elif keyword == "HEALTHCHECK":
        stage.healthcheck = _healthcheck(arguments, line, source)
    elif keyword == "RUN":
        _read_installs(stage, arguments, line, source)


def _resolve(path: str, workdir: str | None) -> str:
    return posixpath.normpath(posixpath.join(workdir or "/", path))


def _volume_paths(arguments: str, line: int, source: str) -> list[str]:
    if arguments.startswith("["):
        return list(_json_strings(arguments, "VOLUME", line, source))
    return arguments.split()


def _command(arguments: str, line: int, source: str) -> tuple[str, ...]:
    if arguments.startswith("["):
        return _json_strings(arguments, "CMD", line, source)
    return ("/bin/sh", "-c", arguments)  # what Docker makes of the shell form


def _json_strings(arguments: str, keyword: str, line: int, source: str) -> tuple[str, ...]:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError as error:
        raise DockerfileError(
            f"{source}:{line}: {keyword} {arguments} is not a JSON array of strings "
            f"(JSON needs double quotes): {error.msg}"
        ) from error
    if not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        raise DockerfileError(f"{source}:{line}: {keyword} must list strings, not {arguments}")
    return tuple(value)


def _healthcheck(arguments: str, line: int, source: str) -> tuple[str, ...] | None:
    # Options are always --name=value, before the NONE or CMD that ends them.
    rest = re.sub(r"^(--[\w-]+=\S+\s+)*", "", arguments)
    keyword, _, command = rest.partition(" ")
    if keyword.upper() == "NONE":
        return None
    if keyword.upper() != "CMD" or not command.strip():
        raise DockerfileError(f"{source}:{line}: HEALTHCHECK needs CMD and a command, or NONE")
    return _command(command.strip(), line, source)


# --- install -d, the one way this reader learns a directory's owner -------------------------
def _read_installs(stage: _Stage, arguments: str, line: int, source: str) -> None:
    if arguments.startswith("["):
        commands = [list(_json_strings(arguments, "RUN", line, source))]
    else:
        commands = _shell_commands(arguments, line, source)
    for words in commands:
        if words and posixpath.basename(words[0]) == "install":
            _read_install(stage, words[1:], line, source)


def _shell_commands(script: str, line: int, source: str) -> list[list[str]]:
    """The simple commands of a shell line, split at &&, ||, ;, | and &."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as error:
        raise DockerfileError(f"{source}:{line}: cannot read this RUN line: {error}") from error
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in _SHELL_OPERATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return commands


def _read_install(stage: _Stage, arguments: list[str], line: int, source: str) -> None:
    try:
        options, paths = getopt.gnu_getopt(arguments, _INSTALL_SHORT, _INSTALL_LONG)
    except getopt.GetoptError as error:
        raise DockerfileError(
            f"{source}:{line}: cannot read `install {' '.join(arguments)}`: {error.msg}"
        ) from error
    given = dict(options)
    if "-d" not in given and "--directory" not in given:
        return  # installs files, not directories
    owner = given.get("-o", given.get("--owner"))
    group = given.get("-g", given.get("--group"))
    if (owner is None or group is None) and stage.user not in _ROOT_USERS:
        # install would use the current user's ids, and its group lives in /etc/passwd.
        raise DockerfileError(
            f"{source}:{line}: install -d under USER {stage.user} without -o and -g; "
            "write both so the owner is known"
        )
    mode = given.get("-m", given.get("--mode", "755"))  # install's own default
    for path in paths:
        stage.installs[_resolve(path, stage.workdir)] = _Install(
            owner=owner or "0", group=group or "0", mode=mode, line=line
        )
