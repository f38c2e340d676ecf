"""The lab: real test hosts on this machine, reached over SSH like servers.

Each host is a systemd container in Docker, built from Debian packages (no
image is pulled), on two Docker networks that stand for the site's back and
front networks. ``hastack lab up`` also writes the lab's site file, which
``hastack check`` accepts and ``inventory.py`` reads through HASTACK_SITE.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hastack import topology
from hastack.defaults import ROOT
from hastack.probe import http_get
from hastack.site import dump_site, load_site

LAB_DIR = ROOT / ".lab"
RECIPE_DIR = ROOT / "lab"
SITE_FILE = LAB_DIR / "site.yaml"
KEY_FILE = LAB_DIR / "id_ed25519"
KNOWN_HOSTS = LAB_DIR / "known_hosts"
PREFIX = "hastack-lab"
LABEL = "hastack.lab"
MIRROR = os.environ.get("HASTACK_LAB_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"

# Docker's own pool for each network is its upper half (--ip-range), so the
# fixed host addresses and the VIP below never collide with it.
NETWORKS = {"back": "10.231.1.0/24", "front": "10.231.2.0/24"}
VIP = "10.231.2.10"

# Flags measured on this machine for a systemd container (--privileged fails
# here). /sys/fs/cgroup is never bind-mounted: systemd inside would remount the
# machine's own cgroup tree read-only.
SYSTEMD_FLAGS = [
    # A host that reboots comes back, as a server does (`docker kill` and
    # `docker stop` still leave it down: Docker counts those as stopped by hand).
    "--restart",
    "unless-stopped",
    "--cap-add",
    "ALL",
    "--cap-drop",
    "SYS_RESOURCE",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--security-opt",
    "systempaths=unconfined",
    "--cgroupns",
    "private",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
    "--stop-signal",
    "SIGRTMIN+3",
]
# Web hosts mount GlusterFS through FUSE and run their own Docker engine.
WEB_FLAGS = ["--device", "/dev/fuse", "--device-cgroup-rule", "a *:* rwm"]
# Volumes per role: the web hosts' inner Docker storage, and a filesystem of
# its own for each GlusterFS brick (where a server has its RAID-1 at /raid1;
# proxy1 keeps the arbiter brick).
ROLE_VOLUMES = {
    "web": {"docker": "/var/lib/docker", "gluster": "/srv/gluster"},
    "proxy": {"gluster": "/srv/gluster"},
}


@dataclass(frozen=True)
class LabHost:
    name: str
    role: str
    addresses: dict[str, str]

    @property
    def container(self) -> str:
        return f"{PREFIX}-{self.name}"

    @property
    def ssh_address(self) -> str:
        return topology.primary_address(self.addresses)


HOSTS = [
    LabHost("proxy1", "proxy", {"back": "10.231.1.11", "front": "10.231.2.11"}),
    LabHost("proxy2", "proxy", {"back": "10.231.1.12", "front": "10.231.2.12"}),
    LabHost("web1", "web", {"back": "10.231.1.21"}),
    LabHost("web2", "web", {"back": "10.231.1.22"}),
    LabHost("client", "client", {"front": "10.231.2.50"}),
]


class LabError(Exception):
    pass


def say(message: str) -> None:
    print(f"[lab] {message}", flush=True)


def run(cmd: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, text=True, capture_output=True, **kwargs)
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(cmd[:4])} ... failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(["docker", *args], check=check)


# --- Docker engine -----------------------------------------------------------


# The dockerd that hastack started itself (none when Docker runs as a service).
DOCKERD_PID = LAB_DIR / "dockerd.pid"


def own_dockerd() -> int | None:
    """The pid of a running dockerd that hastack started, or None."""
    try:
        pid = int(DOCKERD_PID.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except (OSError, ValueError):
        return None
    return pid if command.endswith(b"dockerd") else None


def restart_own_dockerd() -> bool:
    """Restart the dockerd hastack started (not one it did not); whether it did."""
    pid = own_dockerd()
    if pid is None:
        return False
    say("restarting the dockerd hastack started, to drop a stale network endpoint")
    os.kill(pid, signal.SIGTERM)
    for _ in range(60):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(1)
    ensure_docker()
    return True


def ensure_docker() -> None:
    """Use the running Docker engine, or start dockerd if none answers."""
    if shutil.which("docker") is None:
        raise LabError("the docker client is not installed: apt-get install docker.io")
    if docker("info", check=False).returncode == 0:
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise LabError("no Docker engine answers and dockerd is not installed: apt-get install docker.io")
    LAB_DIR.mkdir(exist_ok=True)
    say("starting dockerd (log: .lab/dockerd.log)")
    with open(LAB_DIR / "dockerd.log", "ab") as log:
        started = subprocess.Popen([dockerd], stdout=log, stderr=log, start_new_session=True)
    DOCKERD_PID.write_text(f"{started.pid}\n")
    for _ in range(60):
        if docker("info", check=False).returncode == 0:
            return
        time.sleep(1)
    raise LabError("dockerd did not answer within 60 s: see .lab/dockerd.log")


# --- base image ----------------------------------------------------------------


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


def build_image(image: str, debs: list[str], command: str, configure) -> None:
    """debootstrap a Debian root with ``debs``, let ``configure`` adjust it, import it into Docker."""
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is not installed: apt-get install debootstrap")
    LAB_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=LAB_DIR, prefix="build-") as build:
        rootfs = Path(build) / "rootfs"
        _stream(
            ["debootstrap", "--variant=minbase", f"--include={','.join(debs)}", SUITE, str(rootfs), MIRROR],
            f"debootstrap ({image})",
        )
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


def _stream(cmd: list[str], label: str, env: dict | None = None) -> None:
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
        _symlink(wants / unit, f"/etc/systemd/system/{unit}")
    # Docker owns the lab's addresses: networkd (which netplan would enable at
    # boot) must not flush them or the default route. The netplan file is still
    # rendered and validated by the deploy.
    for unit in (
        "systemd-networkd.service",
        "systemd-networkd.socket",
        "systemd-networkd-wait-online.service",
        "getty@tty1.service",
    ):
        _symlink(systemd / unit, "/dev/null")


def _symlink(link: Path, target: str) -> None:
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


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


# --- networks, containers, SSH --------------------------------------------------


def _check_subnets_free() -> None:
    routes = run(["ip", "-j", "route"], check=False)
    if routes.returncode != 0:
        return
    ours = {f"{PREFIX}-{name}" for name in NETWORKS}
    bridges = {_bridge_of(name) for name in ours}
    for route in json.loads(routes.stdout or "[]"):
        dst = route.get("dst", "")
        if dst in ("default", "") or route.get("dev") in bridges:
            continue
        try:
            net = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            continue
        for name, subnet in NETWORKS.items():
            if net.version == 4 and net.overlaps(ipaddress.ip_network(subnet)):
                raise LabError(
                    f"the lab's {name} network {subnet} overlaps {dst} on {route.get('dev')}: "
                    "this machine already uses it"
                )


def _bridge_of(network: str) -> str | None:
    result = docker("network", "inspect", "-f", "{{.Id}}", network, check=False)
    return f"br-{result.stdout.strip()[:12]}" if result.returncode == 0 else None


def ensure_networks() -> None:
    _check_subnets_free()
    for name, subnet in NETWORKS.items():
        network = f"{PREFIX}-{name}"
        if docker("network", "inspect", network, check=False).returncode == 0:
            continue
        net = ipaddress.ip_network(subnet)
        upper = list(net.subnets(prefixlen_diff=1))[1]
        docker(
            "network",
            "create",
            "--label",
            f"{LABEL}=1",
            "--subnet",
            subnet,
            "--ip-range",
            str(upper),
            network,
        )
        say(f"network {network} {subnet}")


def host_named(name: str) -> LabHost:
    """The lab host of that name; LabError when the lab has none."""
    for host in HOSTS:
        if host.name == name:
            return host
    raise LabError(f"the lab has no host {name!r}")


def container_state(host: LabHost) -> str:
    result = docker("inspect", "-f", "{{.State.Status}}", host.container, check=False)
    return result.stdout.strip() if result.returncode == 0 else "missing"


def ensure_key() -> str:
    LAB_DIR.mkdir(exist_ok=True)
    if not KEY_FILE.exists():
        run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "hastack-lab",
                "-f",
                str(KEY_FILE),
            ]
        )
        say("generated the lab's SSH key in .lab/ (git-ignored)")
    KEY_FILE.chmod(0o600)
    return Path(f"{KEY_FILE}.pub").read_text().strip()


def _forget_host_key(address: str) -> None:
    if KNOWN_HOSTS.exists():
        lines = KNOWN_HOSTS.read_text().splitlines(keepends=True)
        KNOWN_HOSTS.write_text("".join(line for line in lines if not line.startswith(f"{address} ")))


def create_container(host: LabHost, image: str) -> None:
    networks = list(host.addresses.items())
    first_net, first_ip = networks[0]
    cmd = [
        "run",
        "-d",
        "--name",
        host.container,
        "--hostname",
        host.name,
        "--label",
        f"{LABEL}=1",
        "--network",
        f"{PREFIX}-{first_net}",
        "--ip",
        first_ip,
        *SYSTEMD_FLAGS,
    ]
    if host.role == "web":
        cmd += WEB_FLAGS
    for suffix, path in ROLE_VOLUMES.get(host.role, {}).items():
        volume = f"{host.container}-{suffix}"
        docker("volume", "create", "--label", f"{LABEL}=1", volume)
        cmd += ["-v", f"{volume}:{path}"]
    docker(*cmd, image)
    for net_name, ip in networks[1:]:
        docker("network", "connect", "--ip", ip, f"{PREFIX}-{net_name}", host.container)
    for address in host.addresses.values():
        _forget_host_key(address)
    say(f"created {host.name} ({', '.join(f'{n} {a}' for n, a in host.addresses.items())})")


def install_key(host: LabHost, public_key: str) -> None:
    script = (
        "install -d -m 700 /root/.ssh && "
        f"grep -qxF '{public_key}' /root/.ssh/authorized_keys 2>/dev/null || "
        f"echo '{public_key}' >> /root/.ssh/authorized_keys; chmod 600 /root/.ssh/authorized_keys"
    )
    docker("exec", host.container, "sh", "-c", script)


def ssh_answers(address: str, timeout: float = 2.0, port: int = 22) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            return conn.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def wait_for_ssh(hosts: list[LabHost], limit: float = 120) -> None:
    started = time.monotonic()
    waiting = list(hosts)
    while waiting:
        waiting = [host for host in waiting if not ssh_answers(host.ssh_address)]
        if not waiting:
            break
        elapsed = time.monotonic() - started
        if elapsed > limit:
            names = ", ".join(host.name for host in waiting)
            raise LabError(
                f"SSH did not answer on {names} within {limit:.0f} s "
                "(docker logs hastack-lab-<host> shows why)"
            )
        say(f"waiting for SSH on {', '.join(h.name for h in waiting)} ({elapsed:.0f}s)")
        time.sleep(2)


# Why the lab's site differs from a real one, key by key (written into its header).
LAB_DATA_REASONS = {
    "netplan_apply": "Docker owns the lab's addresses",
    "chrony_set_clock": "the lab's hosts share this machine's clock",
    "raid_enabled": "no md driver in a container: the RAID is verified in a VM",
    "gluster_brick_root": "a volume of its own instead of the RAID",
    "gluster_arbiter": "replica 2 + arbiter: quorum with a web host away",
    "web_image": "built from Debian packages: no registry here",
}


def site_document() -> dict:
    """The lab's site, as a site file holds it."""
    hosts = {}
    for host in HOSTS:
        spec: dict = {"role": host.role, **host.addresses}
        if host.role == "web":
            # The containers have no disks of their own; the RAID layer is verified in a VM.
            spec["disks"] = ["/dev/vdb", "/dev/vdc"]
        hosts[host.name] = spec
    return {
        "lab": True,
        "cluster": "lab",
        "networks": dict(NETWORKS),
        "vip": VIP,
        "ssh": {"user": "root", "key": str(KEY_FILE), "port": 22, "known_hosts": str(KNOWN_HOSTS)},
        "data": {
            "netplan_apply": False,
            "chrony_set_clock": False,
            "raid_enabled": False,
            "gluster_brick_root": "/srv/gluster",
            "gluster_arbiter": "proxy1",
            "gluster_arbiter_brick_root": "/srv/gluster",
            "gluster_quorum_type": "auto",
            "web_image": web_image_name(),
            "web_image_archive": str(WEB_IMAGE_ARCHIVE),
        },
        "hosts": hosts,
    }


def site_text() -> str:
    header = [
        "Written by `hastack lab up`: the lab's own site file. Regenerated on",
        "every `lab up`; edit lab/ and hastack/lab.py instead. Where it differs from a real site:",
    ] + [f"  {key}: {reason}" for key, reason in LAB_DATA_REASONS.items()]
    return dump_site(site_document(), "\n".join(header))


def derived_site(path: Path, **data) -> Path:
    """A site file at ``path``: the lab's, with these data keys set (for tests that redeploy)."""
    path.write_text(dump_site(load_site(SITE_FILE).document(data)))
    return path


# --- commands ---------------------------------------------------------------------


def deploy_into_lab():
    """Bring the lab up and run deploys/all.py into it; the DeployRun (log: .lab/deploy.log)."""
    from hastack.deploying import run_deploy

    up()
    return run_deploy(SITE_FILE, log=LAB_DIR / "deploy.log")


def up() -> None:
    ensure_docker()
    public_key = ensure_key()
    image = ensure_image()
    ensure_web_image()
    ensure_networks()
    for host in HOSTS:
        state = container_state(host)
        if state == "missing":
            create_container(host, image)
        elif state != "running":
            say(f"starting {host.name} (was {state})")
            docker("start", host.container)
    wait_for_ssh(HOSTS)
    for host in HOSTS:
        install_key(host, public_key)
    text = site_text()
    if not SITE_FILE.exists() or SITE_FILE.read_text() != text:
        SITE_FILE.write_text(text)
    say(f"lab is up: {len(HOSTS)} hosts; site file {SITE_FILE.relative_to(ROOT)}")


def lab_objects(kind: str) -> list[str]:
    listed = docker(
        kind, "ls", "-q", *(["-a"] if kind == "container" else []), "--filter", f"label={LABEL}=1"
    )
    return listed.stdout.split()


def down() -> None:
    if docker("info", check=False).returncode != 0:
        say("no Docker engine answers: nothing to remove")
        return
    ids = lab_objects("container")
    if ids:
        docker("container", "rm", "-f", *ids)
        say(f"removed {len(ids)} container(s)")
    ids = lab_objects("network")
    if ids and docker("network", "rm", *ids, check=False).returncode != 0:
        # Docker sometimes keeps an endpoint of a removed container (moby
        # #17217): only a restart of the daemon drops it.
        if not restart_own_dockerd():
            raise LabError(
                "Docker keeps a stale endpoint on a lab network (a Docker bug): restart the Docker "
                "daemon (systemctl restart docker) and run `hastack lab down` again"
            )
        docker("network", "rm", *lab_objects("network"))
    if ids:
        say(f"removed {len(ids)} network(s)")
    ids = lab_objects("volume")
    if ids:
        docker("volume", "rm", "-f", *ids)
        say(f"removed {len(ids)} volume(s)")
    for path in (SITE_FILE, KNOWN_HOSTS):
        path.unlink(missing_ok=True)
    say("lab is down (the base image stays cached)")


def status() -> int:
    if docker("info", check=False).returncode != 0:
        print("no Docker engine answers: the lab is down")
        return 1
    print(f"{'host':<8} {'role':<7} {'container':<10} {'back':<13} {'front':<13} ssh")
    all_up = True
    for host in HOSTS:
        state = container_state(host)
        ssh = state == "running" and ssh_answers(host.ssh_address)
        all_up = all_up and ssh
        print(
            f"{host.name:<8} {host.role:<7} {state:<10} {host.addresses.get('back', '-'):<13} "
            f"{host.addresses.get('front', '-'):<13} {'yes' if ssh else 'no'}"
        )
    for name, path in (("shop", "/"), ("ganglia", "/ganglia/"), ("cacti", "/cacti/")):
        status_code, _ = http_get(f"http://{VIP}{path}", timeout=10)
        answer = f"answers {status_code}" if status_code else "does not answer (deploy the cluster)"
        print(f"{name + ':':<8} http://{VIP}{path} {answer}")
    return 0 if all_up else 1


def ssh(name: str, command: list[str]) -> int:
    hosts = {host.name: host for host in HOSTS}
    if name not in hosts:
        raise LabError(f"no lab host {name!r}: one of {', '.join(hosts)}")
    args = [
        "ssh",
        "-i",
        str(KEY_FILE),
        "-o",
        f"UserKnownHostsFile={KNOWN_HOSTS}",
        "-o",
        "StrictHostKeyChecking=accept-new",
        f"root@{hosts[name].ssh_address}",
        *command,
    ]
    return subprocess.call(args)


def main(args) -> int:
    try:
        if args.lab_command == "up":
            up()
        elif args.lab_command == "down":
            down()
        elif args.lab_command == "status":
            return status()
        elif args.lab_command == "ssh":
            return ssh(args.host, args.remote_command)
    except LabError as error:
        print(f"[lab] error: {error}", file=sys.stderr)
        return 1
    return 0
