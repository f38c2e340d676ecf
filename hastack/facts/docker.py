"""Facts about a host's Docker engine: images and containers."""

from __future__ import annotations

from pyinfra.api import FactBase


class DockerImageId(FactBase):
    """The id of a local image, or ``None`` when the host does not have it."""

    def requires_command(self, image: str) -> str:
        return "docker"

    def command(self, image: str) -> str:
        return f"docker image inspect --format '{{{{.Id}}}}' {image} 2>/dev/null || true"

    def process(self, output):
        return output[0].strip() or None if output else None


class DockerContainerRunning(FactBase):
    """Whether a container of that name exists and runs."""

    default = bool

    def requires_command(self, container: str) -> str:
        return "docker"

    def command(self, container: str) -> str:
        return f"docker inspect --format '{{{{.State.Running}}}}' {container} 2>/dev/null || true"

    def process(self, output):
        return bool(output) and output[0].strip() == "true"


class EntryCount(FactBase):
    """How many entries a directory holds (0 when it is missing or empty)."""

    default = int

    def command(self, path: str) -> str:
        return f"ls -A {path} 2>/dev/null | wc -l"

    def process(self, output):
        return int(output[0].strip() or 0)
