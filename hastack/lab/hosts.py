"""The lab's hosts: two Docker networks, a systemd container per host, SSH; up, down, status."""

from __future__ import annotations

import fcntl
import ipaddress
import json
import socket
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hastack.defaults import ROOT
from hastack.lab import fence, guard
from hastack.lab.common import (
    KEY_FILE,
    KNOWN_HOSTS,
    LAB_DIR,
    LABEL,
    PREFIX,
    RELEASE_LABEL,
    SITE_FILE,
    LabError,
    run,
    say,
    suite,
    wanted_release,
)
from hastack.lab.engine import docker, ensure_docker, restart_own_dockerd
from hastack.lab.images import GANGLIA_IMAGE, GANGLIA_IMAGE_RELEASE, WEB_IMAGE, ensure_image
from hastack.lab.layout import (
    MAX_WEB,
    NETWORKS,
    SMTP_SINK,
    SUDO_USER,
    VIP,
    LabHost,
    lab_hosts,
    needs_ganglia_image,
)
from hastack.lab.sitefile import site_text
from hastack.probe import http_get, shop_get
from hastack.site import load_site

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
    # Docker's default /dev/shm is 64 MB; a server's is half its memory. Corosync (an 8 MB
    # blackbox, 3 MB a client connection), Pacemaker and corosync-qdevice filled 64 MB on a
    # proxy: corosync then refused its clients ("No space left on device").
    "--shm-size",
    "256m",
]
# Web hosts mount GlusterFS through FUSE and run their own Docker engine.
WEB_FLAGS = ["--device", "/dev/fuse", "--device-cgroup-rule", "a *:* rwm"]
# The arbiter (a proxy): glusterd mounts the volume (FUSE) on the host of a brick that an
# add-brick adds to a replica set, as when the arbiter returns after a web host left.
PROXY_FLAGS = ["--device", "/dev/fuse"]
# Volumes per role: the web hosts' inner Docker storage, and a filesystem of
# its own for each GlusterFS brick (where a server has its RAID-1 at /raid1;
# proxy1 keeps the arbiter brick).
ROLE_VOLUMES = {
    "web": {"docker": "/var/lib/docker", "gluster": "/srv/gluster"},
    "proxy": {"gluster": "/srv/gluster"},
}


def web_count() -> int:
    """How many web hosts the lab has now: its site file's, else two."""
    if SITE_FILE.exists():
        return sum(1 for host in load_site(SITE_FILE).hosts.values() if host.role == "web")
    return 2


def current_hosts() -> list[LabHost]:
    """The lab's hosts as its site file has them now."""
    return lab_hosts(web_count())


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
            # the address Docker would choose, written down: the fence gate listens there
            "--gateway",
            fence.gateway(subnet),
            network,
        )
        say(f"network {network} {subnet}")


def host_named(name: str) -> LabHost:
    """The lab host of that name; LabError when the lab has none."""
    for host in current_hosts():
        if host.name == name:
            return host
    raise LabError(f"the lab has no host {name!r}")


def container_state(host: LabHost) -> str:
    result = docker("inspect", "-f", "{{.State.Status}}", host.container, check=False)
    return result.stdout.strip() if result.returncode == 0 else "missing"


def ensure_key() -> str:
    """The lab's SSH public key, the pair made on first use: by one process at a time (the lab
    and the VM tests start side by side; a second ssh-keygen would refuse to overwrite)."""
    LAB_DIR.mkdir(exist_ok=True)
    with open(LAB_DIR / ".key.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _make_key()
    KEY_FILE.chmod(0o600)
    return Path(f"{KEY_FILE}.pub").read_text().strip()


def _make_key() -> None:
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


def _forget_host_key(address: str) -> None:
    if KNOWN_HOSTS.exists():
        lines = KNOWN_HOSTS.read_text().splitlines(keepends=True)
        KNOWN_HOSTS.write_text("".join(line for line in lines if not line.startswith(f"{address} ")))


def create_container(host: LabHost, image: str, release: int) -> None:
    networks = list(host.addresses.items())
    first_net, first_ip = networks[0]
    cmd = [
        "create",
        "--name",
        host.container,
        "--hostname",
        host.name,
        "--label",
        f"{LABEL}=1",
        "--label",
        f"{RELEASE_LABEL}={release}",
        "--network",
        f"{PREFIX}-{first_net}",
        "--ip",
        first_ip,
        *SYSTEMD_FLAGS,
    ]
    cmd += {"web": WEB_FLAGS, "proxy": PROXY_FLAGS}.get(host.role, [])
    for suffix, path in ROLE_VOLUMES.get(host.role, {}).items():
        volume = f"{host.container}-{suffix}"
        docker("volume", "create", "--label", f"{LABEL}=1", volume)
        cmd += ["-v", f"{volume}:{path}"]
    docker(*cmd, image)
    # A machine-id of its own before systemd boots: left empty, systemd makes one from this
    # machine's DMI uuid, the same on every lab host, as on VMs cloned from one (the preflight
    # refuses those). Changed later, journald would write where journalctl does not look.
    with tempfile.TemporaryDirectory() as folder:
        machine_id = Path(folder) / "machine-id"
        machine_id.write_text(uuid.uuid4().hex + "\n")
        machine_id.chmod(0o444)
        docker("cp", str(machine_id), f"{host.container}:/etc/machine-id")
    for net_name, ip in networks[1:]:
        docker("network", "connect", "--ip", ip, f"{PREFIX}-{net_name}", host.container)
    docker("start", host.container)
    for address in host.addresses.values():
        _forget_host_key(address)
    say(f"created {host.name} ({', '.join(f'{n} {a}' for n, a in host.addresses.items())})")


def install_key(host: LabHost, public_key: str) -> None:
    """The lab's key for root, and for the sudo user (made here if missing)."""
    home = f"/home/{SUDO_USER}"
    script = (
        "install -d -m 700 /root/.ssh && "
        f"grep -qxF '{public_key}' /root/.ssh/authorized_keys 2>/dev/null || "
        f"echo '{public_key}' >> /root/.ssh/authorized_keys; chmod 600 /root/.ssh/authorized_keys; "
        f"id -u {SUDO_USER} >/dev/null 2>&1 || useradd -m -s /bin/sh {SUDO_USER}; "
        f"install -d -m 700 -o {SUDO_USER} -g {SUDO_USER} {home}/.ssh && "
        f"echo '{public_key}' > {home}/.ssh/authorized_keys && "
        f"chown {SUDO_USER}: {home}/.ssh/authorized_keys && chmod 600 {home}/.ssh/authorized_keys; "
        f"mkdir -p /etc/sudoers.d; echo '{SUDO_USER} ALL=(root) NOPASSWD: ALL' > /etc/sudoers.d/{SUDO_USER}; "
        f"chmod 440 /etc/sudoers.d/{SUDO_USER}"
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


def running_release() -> int | None:
    """The Debian release of the lab's containers; None when there are none.

    No Docker engine answering (a fresh machine, before `lab up` starts dockerd) means no lab.
    """
    template = f'{{{{.Label "{RELEASE_LABEL}"}}}}'
    listed = docker(
        "container", "ls", "-a", "--filter", f"label={LABEL}=1", "--format", template, check=False
    )
    if listed.returncode != 0:
        return None
    releases = {int(value) if value.isdigit() else 12 for value in listed.stdout.split()}
    if len(releases) > 1:
        raise LabError(f"the lab's containers run several releases ({sorted(releases)}): `hastack lab down`")
    return releases.pop() if releases else None


def lab_release() -> int:
    """The release of the lab: the running one's, else the one a new lab gets."""
    return running_release() or wanted_release()


def images(release: int) -> str:
    """The images a lab of this release runs, built where missing (no host is started): the
    hosts' base image (its name returned), NGINX's and, where Debian has none, Ganglia's."""
    suite(release)
    ensure_docker()
    # Built side by side: each is a debootstrap (downloads, then one dpkg at a time) and a
    # Docker import or save. The three of Debian 13 with a lab's hosts started: 154 s one after
    # the other, 113 s side by side (2026-12-07, two cores).
    builds = {"base": lambda: ensure_image(release), "NGINX's": lambda: WEB_IMAGE.ensure(release)}
    if needs_ganglia_image(release):
        builds["Ganglia's"] = lambda: GANGLIA_IMAGE.ensure(GANGLIA_IMAGE_RELEASE)
    with ThreadPoolExecutor(max_workers=len(builds)) as pool:
        futures = {name: pool.submit(build) for name, build in builds.items()}
    failed = {name: future.exception() for name, future in futures.items() if future.exception()}
    for error in failed.values():
        if not isinstance(error, LabError):
            raise error
    if failed:
        raise LabError("\n".join(f"the {name} image: {error}" for name, error in failed.items()))
    return futures["base"].result()


def up(release: int | None = None, web: int | None = None) -> int:
    """Bring the lab up on a Debian release (default: the running lab's, else 13) with ``web``
    web hosts (default: as many as it has, else two); its release.

    Fewer web hosts than before leaves the others' containers running, out of the site: the
    next deploy drains them and removes their bricks; `lab down` removes them."""
    web = web_count() if web is None else web
    if not 2 <= web <= MAX_WEB:
        raise LabError(f"--web {web}: the lab runs 2 to {MAX_WEB} web hosts (fewer than two is not HA)")
    ensure_docker()
    running = running_release()
    if release is None:
        release = running or wanted_release()
    suite(release)
    if running is not None and running != release:
        raise LabError(
            f"the lab runs Debian {running}; `hastack lab down` first to bring it up on Debian {release}"
        )
    public_key = ensure_key()
    image = images(release)
    ensure_networks()
    guard.ensure(list(NETWORKS.values()))
    fence.start_gate()
    hosts = lab_hosts(web)
    for host in hosts:
        state = container_state(host)
        if state == "missing":
            create_container(host, image, release)
        elif state != "running":
            say(f"starting {host.name} (was {state})")
            docker("start", host.container)
    wait_for_ssh(hosts)
    for host in hosts:
        install_key(host, public_key)
        if host.role == "client":
            # the alert relay of the lab's site file (lab/image/etc/systemd/system/lab-smtp-sink.service)
            docker("exec", host.container, "systemctl", "start", SMTP_SINK)
    for left in lab_hosts(MAX_WEB)[len(hosts) - 1 : -1]:
        if container_state(left) == "running":
            say(f"{left.name} is out of the site now: the next deploy drains it and removes its brick")
    text = site_text(release, hosts)
    if not SITE_FILE.exists() or SITE_FILE.read_text() != text:
        SITE_FILE.write_text(text)
    where = SITE_FILE.relative_to(ROOT)
    say(f"lab is up: {len(hosts)} hosts ({web} web) on Debian {release}; site file {where}")
    return release


def remove_host(host: LabHost) -> None:
    """A host's container and its volumes gone (a host out of the lab's site, retired)."""
    docker("rm", "-f", host.container, check=False)
    volumes = [f"{host.container}-{suffix}" for suffix in ROLE_VOLUMES.get(host.role, {})]
    if volumes:
        docker("volume", "rm", "-f", *volumes, check=False)


def lab_objects(kind: str) -> list[str]:
    listed = docker(
        kind, "ls", "-q", *(["-a"] if kind == "container" else []), "--filter", f"label={LABEL}=1"
    )
    return listed.stdout.split()


def down() -> None:
    fence.stop_gate()
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
    for host in current_hosts():
        state = container_state(host)
        ssh = state == "running" and ssh_answers(host.ssh_address)
        all_up = all_up and ssh
        print(
            f"{host.name:<8} {host.role:<7} {state:<10} {host.addresses.get('back', '-'):<13} "
            f"{host.addresses.get('front', '-'):<13} {'yes' if ssh else 'no'}"
        )
    release = running_release()
    print(f"{'release:':<8} Debian {release}" if release else "release: no lab containers")
    site = load_site(SITE_FILE) if SITE_FILE.exists() else None
    ca = site.probe_ca() if site else None
    for name, path in (("shop", "/"), ("ganglia", "/ganglia/"), ("cacti", "/cacti/")):
        url = site.url(path, by_address=True) if site else f"https://{VIP}{path}"
        status_code = shop_get(site, path, timeout=10)[0] if site else http_get(url, timeout=10)[0]
        answer = f"answers {status_code}" if status_code else "does not answer (deploy the cluster)"
        print(f"{name + ':':<8} {url} {answer}")
    if ca:
        print(f"{'CA:':<8} {ca} (trust it to verify the shop's certificate)")
    return 0 if all_up else 1


def ssh(name: str, command: list[str]) -> int:
    hosts = {host.name: host for host in lab_hosts(MAX_WEB)}
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
