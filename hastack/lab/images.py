"""Images from Debian packages, with one builder (debootstrap into a folder) for the lab's
containers (imported into Docker) and the RAID VM (made into a disk image)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hastack.defaults import ROOT
from hastack.lab.common import LAB_DIR, MIRROR, PREFIX, RECIPE_DIR, LabError, say, suite
from hastack.lab.engine import docker


def stream(cmd: list[str], label: str, env: dict | None = None) -> None:
    """Run a long command, showing a line of progress every few seconds."""
    started = time.monotonic()
    last = 0.0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        tail: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            tail = (tail + [line.rstrip()])[-20:]
            now = time.monotonic()
            if now - last >= 5:
                say(f"{label} {now - started:4.0f}s: {line.strip()[:100]}")
                last = now
    if proc.returncode != 0:
        raise LabError(f"{label} failed:\n" + "\n".join(tail))


def symlink(link: Path, target: str) -> None:
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def debootstrap(rootfs: Path, debs: list[str], label: str, release: int) -> None:
    """A minimal Debian root in ``rootfs`` with ``debs``, from the lab's mirror, of that release."""
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is not installed: apt-get install debootstrap")
    stream(
        ["debootstrap", "--variant=minbase", f"--include={','.join(debs)}", suite(release), str(rootfs)]
        + [MIRROR],
        f"debootstrap ({label})",
    )


def build_image(image: str, release: int, debs: list[str], command: str, configure) -> None:
    """debootstrap a Debian root with ``debs``, let ``configure`` adjust it, import it into Docker."""
    LAB_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=LAB_DIR, prefix="build-") as build:
        rootfs = Path(build) / "rootfs"
        debootstrap(rootfs, debs, image, release)
        configure(rootfs)
        for cache in (rootfs / "var/cache/apt/archives").glob("*.deb"):
            cache.unlink()
        say(f"importing {image} into Docker")
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        result = subprocess.run(
            ["docker", "import", "--change", command, "-", image],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
        )
        # closed here too: a docker import that stopped early ends tar (a broken pipe) instead
        # of leaving it blocked on a full one
        assert tar.stdout is not None
        tar.stdout.close()
        tar.wait()
        if result.returncode != 0 or tar.returncode != 0:
            raise LabError(f"docker import failed: {result.stderr.strip()}")


def recipe_hash(release: int) -> str:
    digest = hashlib.sha256()
    digest.update(f"{suite(release)} {MIRROR}".encode())
    for path in sorted(RECIPE_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(RECIPE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def image_name(release: int) -> str:
    """The base image of a release: a tag per release, so each keeps its own cache."""
    return f"{PREFIX}-base:{release}-{recipe_hash(release)}"


def packages() -> list[str]:
    lines = (RECIPE_DIR / "packages.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ensure_image(release: int) -> str:
    image = image_name(release)
    if docker("image", "inspect", image, check=False).returncode != 0:
        say(f"building the base image {image} from Debian {release} packages (about a minute)")
        configure = lambda rootfs: _configure_rootfs(rootfs, release)  # noqa: E731
        build_image(image, release, packages(), 'CMD ["/sbin/init"]', configure)
        say(f"base image {image} ready")
    return image


def _configure_rootfs(rootfs: Path, release: int) -> None:
    shutil.copytree(RECIPE_DIR / "image", rootfs, dirs_exist_ok=True, symlinks=True)
    name = suite(release)
    (rootfs / "etc/apt/sources.list").write_text(
        f"deb {MIRROR} {name} main\n"
        f"deb {MIRROR} {name}-updates main\n"
        f"deb {MIRROR.replace('/debian', '/debian-security')} {name}-security main\n"
    )
    # trixie's debootstrap writes a deb822 file too: one list of sources only.
    (rootfs / "etc/apt/sources.list.d/debian.sources").unlink(missing_ok=True)
    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (rootfs / "etc/machine-id").write_text("")
    systemd = rootfs / "etc/systemd/system"
    wants = systemd / "sysinit.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for unit in ("lab-unbind.service", "lab-cgroup-rw.service"):
        symlink(wants / unit, f"/etc/systemd/system/{unit}")
    # Docker owns the lab's addresses: networkd (which netplan would enable at
    # boot) must not flush them or the default route. The netplan file is still
    # rendered and validated by the deploy.
    for unit in (
        "systemd-networkd.service",
        "systemd-networkd.socket",
        "systemd-networkd-wait-online.service",
        "getty@tty1.service",
    ):
        symlink(systemd / unit, "/dev/null")


# --- images of the hosts' own Docker: NGINX (web hosts), Ganglia (where Debian has none) ---


@dataclass(frozen=True)
class AppImage:
    """An image built from Debian packages and saved as an archive the deploys upload.

    No registry can be reached from here; the lab's site file names the image
    and its archive, which a deploy loads into a host's Docker when the image
    is not there.
    """

    kind: str
    packages: tuple[str, ...]
    command: str

    def name(self, release: int) -> str:
        recipe = f"{suite(release)} {MIRROR} {' '.join(self.packages)} {self.command}"
        return f"{PREFIX}-{self.kind}:{release}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"

    def archive(self, release: int) -> Path:
        return LAB_DIR / f"{self.kind}-image-{release}.tar"

    def ensure(self, release: int) -> str:
        image = self.name(release)
        archive = self.archive(release)
        marker = archive.with_suffix(".name")
        if archive.exists() and marker.exists() and marker.read_text() == image:
            return image
        if docker("image", "inspect", image, check=False).returncode != 0:
            say(f"building the {self.kind} image {image} from Debian {release} packages")
            build_image(image, release, list(self.packages), self.command, lambda rootfs: None)
        say(f"saving {image} to {archive.relative_to(ROOT)}")
        docker("save", "-o", str(archive), image)
        marker.write_text(image)
        return image


WEB_IMAGE = AppImage("nginx", ("nginx-light", "ca-certificates"), 'CMD ["nginx", "-g", "daemon off;"]')
# gmond and gmetad from Debian 12's packages, for releases that have none (Debian 13):
# one image, the container's command chooses the daemon.
GANGLIA_IMAGE = AppImage("ganglia", ("ganglia-monitor", "gmetad", "rrdtool"), 'CMD ["gmond", "-f"]')
GANGLIA_IMAGE_RELEASE = 12
