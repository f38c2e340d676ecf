"""Images from Debian packages, with one builder (debootstrap into a folder) for the lab's
containers (imported into Docker) and the RAID VM (made into a disk image)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from hastack.defaults import ROOT
from hastack.lab.common import LAB_DIR, MIRROR, PREFIX, RECIPE_DIR, SUITE, LabError, say
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


def debootstrap(rootfs: Path, debs: list[str], label: str) -> None:
    """A minimal Debian root in ``rootfs`` with ``debs``, from the lab's mirror and release."""
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is not installed: apt-get install debootstrap")
    stream(
        ["debootstrap", "--variant=minbase", f"--include={','.join(debs)}", SUITE, str(rootfs), MIRROR],
        f"debootstrap ({label})",
    )


def build_image(image: str, debs: list[str], command: str, configure) -> None:
    """debootstrap a Debian root with ``debs``, let ``configure`` adjust it, import it into Docker."""
    LAB_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=LAB_DIR, prefix="build-") as build:
        rootfs = Path(build) / "rootfs"
        debootstrap(rootfs, debs, image)
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
        tar.wait()
        if result.returncode != 0 or tar.returncode != 0:
            raise LabError(f"docker import failed: {result.stderr.strip()}")


def recipe_hash() -> str:
    digest = hashlib.sha256()
    digest.update(f"{SUITE} {MIRROR}".encode())
    for path in sorted(RECIPE_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(RECIPE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def image_name() -> str:
    return f"{PREFIX}-base:{recipe_hash()}"


def packages() -> list[str]:
    lines = (RECIPE_DIR / "packages.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ensure_image() -> str:
    image = image_name()
    if docker("image", "inspect", image, check=False).returncode != 0:
        say(f"building the base image {image} from Debian packages (about a minute)")
        build_image(image, packages(), 'CMD ["/sbin/init"]', _configure_rootfs)
        say(f"base image {image} ready")
    return image


def _configure_rootfs(rootfs: Path) -> None:
    shutil.copytree(RECIPE_DIR / "image", rootfs, dirs_exist_ok=True, symlinks=True)
    (rootfs / "etc/apt/sources.list").write_text(
        f"deb {MIRROR} {SUITE} main\n"
        f"deb {MIRROR} {SUITE}-updates main\n"
        f"deb {MIRROR.replace('/debian', '/debian-security')} {SUITE}-security main\n"
    )
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


# --- the NGINX image for the web hosts' own Docker ------------------------------

WEB_IMAGE_PACKAGES = ["nginx-light", "ca-certificates"]
WEB_IMAGE_ARCHIVE = LAB_DIR / "web-image.tar"


def web_image_name() -> str:
    digest = hashlib.sha256(f"{SUITE} {MIRROR} {' '.join(WEB_IMAGE_PACKAGES)}".encode()).hexdigest()[:12]
    return f"{PREFIX}-nginx:{digest}"


def ensure_web_image() -> str:
    """An NGINX image built from Debian packages, saved where the web deploy can load it.

    No registry can be reached from here; the lab's site file names this image
    (web_image) and its archive (web_image_archive), which the deploy uploads
    and loads into a web host's Docker when the image is not there.
    """
    image = web_image_name()
    marker = LAB_DIR / "web-image.name"
    if WEB_IMAGE_ARCHIVE.exists() and marker.exists() and marker.read_text() == image:
        return image
    if docker("image", "inspect", image, check=False).returncode != 0:
        say(f"building the NGINX image {image} from Debian packages")
        build_image(image, WEB_IMAGE_PACKAGES, 'CMD ["nginx", "-g", "daemon off;"]', lambda rootfs: None)
    say(f"saving {image} to {WEB_IMAGE_ARCHIVE.relative_to(ROOT)}")
    docker("save", "-o", str(WEB_IMAGE_ARCHIVE), image)
    marker.write_text(image)
    return image
