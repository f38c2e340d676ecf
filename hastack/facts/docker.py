"""Facts about a host's Docker engine: images and containers."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase


def _inspect(what: str, template: str, name: str, missing: str) -> str:
    """``docker inspect`` that prints ``absent`` where Docker says there is no such object or
    where its daemon is not running (the deploy starts Docker before it uses what it found:
    a host whose Docker is stopped is repaired, not refused), and
    fails (its own message on stderr) for anything else."""
    quoted = shlex.quote(name)
    return (
        f"if out=$(docker {what} inspect --format '{template}' {quoted} 2>&1); then echo \"$out\"; "
        f"elif echo \"$out\" | grep -q -e '{missing}' -e 'Cannot connect to the Docker daemon'; "
        "then echo absent; "
        'else echo "$out" >&2; exit 1; fi'
    )


class DockerImageId(FactBase):
    """The id of a local image, or ``None`` when the host does not have it or its Docker is
    stopped (``absent``). Fails when Docker answers with an error."""

    def requires_command(self, image: str) -> str:
        return "docker"

    def command(self, image: str) -> str:
        return _inspect("image", "{{.Id}}", image, "No such image")

    def process(self, output):
        value = output[0].strip() if output else ""
        return None if value in ("", "absent") else value


class DockerContainerRunning(FactBase):
    """Whether a container of that name exists and runs (``absent``: no such container, or
    Docker is stopped). Fails when Docker answers with an error."""

    default = bool

    def requires_command(self, container: str) -> str:
        return "docker"

    def command(self, container: str) -> str:
        return _inspect("container", "{{.State.Running}}", container, "No such container")

    def process(self, output):
        return bool(output) and output[0].strip() == "true"


class EntryCount(FactBase):
    """How many entries a directory holds (0 when it is missing or empty); fails when the
    path is something else or cannot be read."""

    default = int

    def command(self, path: str) -> str:
        quoted = shlex.quote(path)
        return (
            f"if [ -d {quoted} ]; then ls -A {quoted} | wc -l; "
            f"elif [ -e {quoted} ]; then echo {quoted} is not a directory >&2; exit 1; "
            "else echo 0; fi"
        )

    def process(self, output):
        return int(output[0].strip() or 0)
