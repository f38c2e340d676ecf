"""The RAID VM: a small Debian VM under qemu (TCG, no KVM here) with spare disks.

The lab's containers cannot create md devices (this kernel has no md driver),
so the RAID layer is deployed into a real kernel: a VM built from Debian
packages only, reached over SSH through a host forward on 127.0.0.1.
"""

from __future__ import annotations

import fcntl
import hashlib
import inspect
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import paramiko

from hastack.lab.common import DEFAULT_RELEASE, KEY_FILE, LAB_DIR, MIRROR, LabError, run, suite
from hastack.lab.hosts import ensure_key, ssh_answers
from hastack.lab.images import debootstrap, stream, symlink
from hastack.site import dump_site
from hastack.ssh import SshRunner

VM_DIR = LAB_DIR / "vm"
PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "udev",
    "openssh-server",
    "python3",
    "iproute2",
    "kmod",
    "initramfs-tools",
    "ca-certificates",
    "netbase",
    "procps",
    # ext4's tools: Debian 13's minimal base no longer has them (the root is ext4).
    "e2fsprogs",
]
KERNEL_PACKAGE = "linux-image-cloud-amd64"
# What hastack's deploys would install into the VMs anyway (the base layer's, GlusterFS's),
# installed with the image, natively: under qemu's TCG each VM's own install took minutes (a
# storage VM alone: the base packages 2 min, GlusterFS nearly 5). The lab's containers still install
# them from nothing in every deploy. Not mdadm: the RAID tests install it (a fresh package
# builds the initramfs with the array's mdadm.conf), and a VM would build it again anyway.
PREINSTALLED = ["chrony", "netplan.io", "glusterfs-server", "glusterfs-client"]
# The services those start at boot, off until a deploy starts them: chrony's own sources are
# public NTP pools, which nothing in the tests may reach. rpcbind (GlusterFS's, through
# nfs-common) would answer on every address: masked, as the storage deploy does (a unit that
# wants it cannot start it, and masking a unit a release no longer brings does not fail).
PREINSTALLED_OFF = ["chrony.service", "glusterd.service"]
PREINSTALLED_MASKED = ["rpcbind.service", "rpcbind.socket"]
# The VM runs the lab's default release (the current stable one).
VM_RELEASE = DEFAULT_RELEASE
# The MAC of the VM's first network card (eth0), the one SSH reaches it through.
FIRST_MAC = "52:54:00:12:34:56"
QEMU_FLAGS = [
    "-machine",
    "q35",
    "-accel",
    "tcg,thread=multi,tb-size=256",
    "-cpu",
    "max",
    "-smp",
    "2",
    "-display",
    "none",
    "-no-reboot",
]


def ensure_installed(machine, package: str) -> None:
    """``package`` in the VM: the image's own (PREINSTALLED), else installed now."""
    machine.ssh(
        f"dpkg-query -W -f='${{Status}}' {package} 2>/dev/null | grep -q 'ok installed' || "
        f"(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {package})"
    )


def say(message: str) -> None:
    print(f"[vm] {message}", flush=True)


def recipe_hash(public_key: str) -> str:
    recipe = [
        *PACKAGES,
        KERNEL_PACKAGE,
        *PREINSTALLED,
        *PREINSTALLED_OFF,
        *PREINSTALLED_MASKED,
        suite(VM_RELEASE),
        MIRROR,
        public_key,
    ]
    digest = hashlib.sha256(" ".join(recipe).encode())
    # The image's own recipe: a change to it builds a new image.
    for recipe in (_install_kernel_and_packages, _configure):
        digest.update(inspect.getsource(recipe).encode())
    return digest.hexdigest()[:12]


def build_image() -> Path:
    """The cached base image folder (base.qcow2, vmlinuz, initrd.img), built if missing: by one
    process at a time (a VM test module and `hastack drill raid` run by hand may ask together;
    the others wait, saying so, then find it built)."""
    public_key = ensure_key()
    folder = VM_DIR / f"base-{recipe_hash(public_key)}"
    if (folder / "base.qcow2").exists():
        return folder
    VM_DIR.mkdir(parents=True, exist_ok=True)
    with open(VM_DIR / ".build.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("waiting for another process that builds the VM image")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / "base.qcow2").exists():
            return folder
        remove_unfinished_builds()
        return _build(folder, public_key)


def remove_unfinished_builds() -> None:
    """What a build killed midway left (its root file system, /proc still mounted in it, a 3 GB
    raw disk): only ever called under the build lock, so no build is running."""
    for unfinished in VM_DIR.glob("build-*"):
        proc = unfinished / "rootfs" / "proc"
        if proc.is_mount():
            subprocess.run(["umount", str(proc)], check=False)
        if not proc.is_mount():
            shutil.rmtree(unfinished, ignore_errors=True)


def _build(folder: Path, public_key: str) -> Path:
    for tool in ("debootstrap", "qemu-system-x86_64", "qemu-img", "mkfs.ext4"):
        if shutil.which(tool) is None:
            raise LabError(
                f"{tool} is not installed (apt-get install debootstrap qemu-system-x86 qemu-utils)"
            )
    say("building the VM image from Debian packages (about two minutes)")
    with tempfile.TemporaryDirectory(dir=VM_DIR, prefix="build-") as build:
        rootfs = Path(build) / "rootfs"
        debootstrap(rootfs, PACKAGES, "the RAID VM", VM_RELEASE)
        _install_kernel_and_packages(rootfs)
        _configure(rootfs, public_key)
        staging = Path(build) / "out"
        staging.mkdir()
        shutil.copy(sorted((rootfs / "boot").glob("vmlinuz-*"))[-1], staging / "vmlinuz")
        shutil.copy(sorted((rootfs / "boot").glob("initrd.img-*"))[-1], staging / "initrd.img")
        raw = Path(build) / "root.raw"
        run(["truncate", "-s", "3G", str(raw)])
        run(["mkfs.ext4", "-q", "-L", "root", "-d", str(rootfs), str(raw)])
        run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(staging / "base.qcow2")])
        staging.rename(folder)
    prune_images(folder)
    say(f"VM image ready in {folder}")
    return folder


def prune_images(keep: Path) -> None:
    """Remove the images of earlier recipes beside ``keep``: never used again (0.6 GB each)."""
    for old in keep.parent.glob("base-*"):
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def _install_kernel_and_packages(rootfs: Path) -> None:
    (rootfs / "usr/sbin/policy-rc.d").write_text("#!/bin/sh\nexit 101\n")
    (rootfs / "usr/sbin/policy-rc.d").chmod(0o755)
    shutil.copy("/etc/resolv.conf", rootfs / "etc/resolv.conf")
    (rootfs / "etc/apt/sources.list").write_text(f"deb {MIRROR} {suite(VM_RELEASE)} main\n")
    subprocess.run(["mount", "-t", "proc", "proc", str(rootfs / "proc")], check=True)
    try:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        stream(["chroot", str(rootfs), "apt-get", "update"], "vm apt-get update", env=env)
        stream(
            ["chroot", str(rootfs), "apt-get", "install", "-y", "--no-install-recommends", KERNEL_PACKAGE],
            "vm kernel",
            env=env,
        )
        # as the deploys install them (recommends too)
        stream(["chroot", str(rootfs), "apt-get", "install", "-y", *PREINSTALLED], "vm packages", env=env)
        stream(["chroot", str(rootfs), "systemctl", "disable", *PREINSTALLED_OFF], "vm services off", env=env)
        stream(
            ["chroot", str(rootfs), "systemctl", "mask", *PREINSTALLED_MASKED], "vm rpcbind masked", env=env
        )
        stream(["chroot", str(rootfs), "apt-get", "clean"], "vm apt clean", env=env)
    finally:
        subprocess.run(["umount", str(rootfs / "proc")], check=False)
    (rootfs / "usr/sbin/policy-rc.d").unlink()


def _configure(rootfs: Path, public_key: str) -> None:
    (rootfs / "etc/fstab").write_text("LABEL=root / ext4 defaults 0 1\n")
    (rootfs / "etc/hostname").write_text("raidvm\n")
    (rootfs / "etc/hosts").write_text("127.0.0.1 localhost\n127.0.1.1 raidvm\n")
    (rootfs / "etc/resolv.conf").write_text("nameserver 10.0.2.3\n")
    network = rootfs / "etc/systemd/network/10-eth0.network"
    network.write_text("[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n")
    wants = rootfs / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    symlink(wants / "systemd-networkd.service", "/lib/systemd/system/systemd-networkd.service")
    ssh = rootfs / "root/.ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    (ssh / "authorized_keys").write_text(public_key + "\n")
    (ssh / "authorized_keys").chmod(0o600)
    (rootfs / "etc/machine-id").write_text("")
    subprocess.run(["chroot", str(rootfs), "passwd", "-l", "root"], check=False, capture_output=True)
    # The initramfs the VM builds (mdadm's install, the RAID deploy's update) holds the modules
    # this machine boots with only, as the image's own (built in the chroot) cannot: under
    # qemu's TCG a build took 47 s of CPU instead of 70 (2026-12-07), about eight in a CI run.
    (rootfs / "etc/initramfs-tools/conf.d/hastack-vm-modules").write_text("MODULES=dep\n")


def free_port(addresses: tuple[str, ...] = ("127.0.0.1",)) -> int:
    """A TCP port free on each of these loopback addresses."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind((addresses[0], 0))
            port = sock.getsockname()[1]
        try:
            for address in addresses[1:]:
                with socket.socket() as sock:
                    sock.bind((address, port))
        except OSError:
            continue
        return port
    raise LabError(f"no port free on each of {', '.join(addresses)}")


class RaidVM:
    """One VM run: an overlay on the base image plus named spare disks."""

    def __init__(
        self,
        disks: dict[str, str],
        workdir: Path,
        nics: dict[str, str] | None = None,
        address: str = "127.0.0.1",
        port: int | None = None,
        links: dict[str, tuple[str, int, int]] | None = None,
        memory_mb: int = 768,
    ):
        """``nics``: more network cards, by MAC, each on a qemu network of its own (no way
        out): name -> MAC. The first card (eth0) is SSH's, MAC ``FIRST_MAC``, forwarded from
        ``address``:``port`` (a loopback address; a free port by default). ``links``: cards
        on a segment shared with other VMs, name -> (MAC, this VM's UDP port, the other VM's),
        both on 127.0.0.1 (qemu's socket network: nothing else is on it)."""
        self.base = build_image()
        self.disks = disks
        self.nics = nics or {}
        self.links = links or {}
        self.memory_mb = memory_mb
        self.workdir = workdir
        self.address = address
        self.port = port or free_port((address,))
        self.initrd = self.base / "initrd.img"
        self.known_hosts = workdir / "known_hosts"
        self.process: subprocess.Popen | None = None
        self.runner: SshRunner | None = None
        self.unplugged: set[str] = set()
        run(
            [
                "qemu-img",
                "create",
                "-q",
                "-f",
                "qcow2",
                "-b",
                str(self.base / "base.qcow2"),
                "-F",
                "qcow2",
                str(workdir / "root.qcow2"),
            ]
        )
        for name, size in disks.items():
            run(["qemu-img", "create", "-q", "-f", "qcow2", str(workdir / f"{name}.qcow2"), size])

    def disk_path(self, name: str) -> str:
        return f"/dev/disk/by-id/virtio-{name}"

    # Boots that may end in a guest kernel panic before the VM answers, each launched again.
    PANIC_RETRIES = 2

    def start(self) -> None:
        self.launch()
        self.wait_for_boot()

    def wait_for_boot(self) -> None:
        """Wait for the launched VM to answer SSH; launched again where its kernel panicked."""
        for attempt in range(self.PANIC_RETRIES + 1):
            if attempt:
                self.launch()
            try:
                self.wait_for_ssh()
                return
            except LabError:
                console = self.workdir / "console.log"
                exited = self.process is not None and self.process.poll() is not None
                text = console.read_text(errors="replace") if console.exists() else ""
                panicked = exited and "Kernel panic" in text
                if attempt == self.PANIC_RETRIES or not panicked:
                    raise
                kept = console.rename(self.workdir / f"console-panic-{attempt + 1}.log")
                say(f"the guest kernel panicked while booting (qemu's TCG; {kept}): started again")

    def launch(self) -> None:
        """Start qemu (``wait_for_boot`` then waits for the system)."""
        cmd = [
            "qemu-system-x86_64",
            *QEMU_FLAGS,
            "-m",
            str(self.memory_mb),
            "-kernel",
            str(self.base / "vmlinuz"),
            "-initrd",
            str(self.initrd),
            "-append",
            # panic=5: a guest kernel that panics while booting does not hang there: its reboot
            # ends qemu (-no-reboot), and start() launches it again (seen in CI: an int3 oops in
            # sched_clock_cpu 2.7 s into a boot under qemu's multi-threaded TCG; in the storage
            # test, an oops in dequeue_entities 13 s in).
            "root=LABEL=root console=ttyS0 net.ifnames=0 quiet panic=5",
            "-serial",
            f"file:{self.workdir / 'console.log'}",
            "-drive",
            f"if=none,id=root,file={self.workdir / 'root.qcow2'},format=qcow2",
            "-device",
            "virtio-blk-pci,drive=root,serial=root",
            "-netdev",
            f"user,id=net0,hostfwd=tcp:{self.address}:{self.port}-:22",
            "-device",
            f"virtio-net-pci,netdev=net0,mac={FIRST_MAC}",
        ]
        for index, mac in enumerate(self.nics.values(), start=1):
            cmd += [
                "-netdev",
                f"user,id=net{index},net=10.0.{2 + index}.0/24,restrict=on",
                "-device",
                f"virtio-net-pci,netdev=net{index},mac={mac}",
            ]
        for index, (mac, mine, other) in enumerate(self.links.values(), start=1 + len(self.nics)):
            cmd += [
                "-netdev",
                f"socket,id=net{index},udp=127.0.0.1:{other},localaddr=127.0.0.1:{mine}",
                "-device",
                f"virtio-net-pci,netdev=net{index},mac={mac}",
            ]
        for name in [disk for disk in self.disks if disk not in self.unplugged]:
            cmd += [
                "-drive",
                f"if=none,id={name},file={self.workdir / (name + '.qcow2')},format=qcow2",
                "-device",
                f"virtio-blk-pci,drive={name},serial={name}",
            ]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_for_ssh(self, limit: float = 240) -> None:
        started = time.monotonic()
        while not self.ssh_ready():
            if self.process and self.process.poll() is not None:
                raise LabError(f"qemu exited: {self.process.stderr.read().decode()[-500:]}")
            if time.monotonic() - started > limit:
                raise LabError(f"the VM did not answer SSH in {limit:.0f} s: see {self.workdir}/console.log")
            time.sleep(3)
        say(f"VM answers SSH on {self.address}:{self.port} after {time.monotonic() - started:.0f} s")

    def ssh_ready(self) -> bool:
        if not ssh_answers(self.address, port=self.port):
            return False
        return self.ssh("true", check=False).returncode == 0

    def ssh(self, command: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        """A command in the VM over the lab's SSH runner (255: no connection, as ssh says)."""
        try:
            if self.runner is None:
                self.runner = SshRunner(self.address, port=self.port, key=str(KEY_FILE), trust_any=True)
            result = self.runner.execute(command, timeout)
        except (OSError, EOFError, paramiko.SSHException) as error:
            self.drop_connection()
            result = subprocess.CompletedProcess(command, 255, "", f"ssh: {error}")
        if result.returncode < 0:
            # the connection died under the command (a poweroff, a reset)
            self.drop_connection()
        if check and result.returncode != 0:
            raise LabError(f"VM command failed: {command}: {result.stderr.strip()}")
        return result

    def drop_connection(self) -> None:
        if self.runner is not None:
            self.runner.close()
            self.runner = None

    def stop(self) -> None:
        """Power off cleanly; kill qemu (which this object started) if it does not exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.ssh("systemctl poweroff", check=False, timeout=30)
        self.drop_connection()
        try:
            self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def power_cycle(self, without: tuple[str, ...] = ()) -> None:
        """Power off, then start again with the disks of ``without`` unplugged (all of them
        plugged back otherwise)."""
        self.stop()
        self.unplugged = set(without)
        self.start()

    def use_own_initramfs(self) -> None:
        """Boot from the next start on with the initramfs the guest built (a server's boot: with
        mdadm in it, the array is assembled there); qemu would reuse the one given at launch."""
        target = self.workdir / "guest-initrd.img"
        self.ssh("true")
        assert self.runner is not None
        self.runner.get("/initrd.img", target)
        self.initrd = target

    def reboot_with_own_initramfs(self) -> None:
        """Reboot into the initramfs the guest built."""
        self.use_own_initramfs()
        self.stop()
        self.start()

    def deploy_raid(self, disks: list[str], name: str):
        """Run deploys/raid_only.py into the VM with these disks; the DeployRun (log: <name>.log here)."""
        return self.deploy("deploys/raid_only.py", self.site_document(disks), name)

    def deploy(self, entry: str, document: dict, name: str, limit: str = "web1"):
        """Run a deploy into the VM (web1) with this site; the DeployRun (log: <name>.log here).
        ``limit``: the site's hosts that are VMs, comma-separated (the others are never
        contacted)."""
        from hastack.deploying import run_deploy

        site = self.workdir / f"{name}.yaml"
        header = f"Written by the VM tests: the VMs are {limit}; the other hosts are never contacted."
        site.write_text(dump_site(document, header))
        limits = [arg for each in limit.split(",") for arg in ("--limit", each.strip())]
        return run_deploy(site, entry, *limits, *SSH_PATIENCE, log=self.workdir / f"{name}.log")

    def site_text(self, disks: list[str]) -> str:
        header = "Written by the RAID VM test: web1 is the VM; the other hosts are never contacted."
        return dump_site(self.site_document(disks), header)

    def site_document(self, disks: list[str]) -> dict:
        """A site whose web1 is this VM; pyinfra is run with --limit web1, so no other host is touched."""
        web = {"role": "web", "back": "127.0.1.21", "ssh_host": "127.0.0.1", "disks": disks}
        document = {
            "cluster": "raidvm",
            "networks": {"back": "127.0.1.0/24", "front": "127.0.2.0/24"},
            "vip": "127.0.2.10",
            "ssh": {
                "user": "root",
                "key": str(KEY_FILE),
                "port": self.port,
                "known_hosts": str(self.known_hosts),
            },
            "hosts": {
                "proxy1": {"role": "proxy", "back": "127.0.1.11", "front": "127.0.2.11"},
                "proxy2": {"role": "proxy", "back": "127.0.1.12", "front": "127.0.2.12"},
                "web1": web,
                "web2": {"role": "web", "back": "127.0.1.22", "disks": ["/dev/vdb", "/dev/vdc"]},
            },
        }
        return document


# pyinfra's connection to a VM, tried again: in CI's cgroup of small CPU weight, a VM busy just
# after an install (systemd-resolved's, 2026-12-07) did not finish SSH's key exchange within
# pyinfra's 10 s, and the run stopped at "SSH error (No existing session)". Up to 3 more tries,
# 5 to 15 s apart.
SSH_PATIENCE = (
    "--data",
    "ssh_connect_retries=3",
    "--data",
    "ssh_connect_retry_min_delay=5",
    "--data",
    "ssh_connect_retry_max_delay=15",
)


# The VM tests' back network: qemu's user network of a second card (RaidVM's nics), or a segment
# between VMs (links). The front network is on no card.
BACK_NET = "10.0.3.0/24"
# The VM tests' `netplan_confirm_seconds` where the change is right: a VM emulated by qemu's TCG,
# in a cgroup of small CPU weight beside two lab passes, took over 60 s (the default) in CI to take
# a new SSH login or to fetch the mirror's InRelease after `netplan apply` (twice, 2026-12-06). A
# test of a wrong change gives its own, shorter, bound.
CONFIRM_SECONDS = 180


def on_test_networks(document: dict) -> dict:
    """A ``site_document`` moved onto the VM tests' networks: back ``BACK_NET``, front
    10.0.4.0/24, the VIP and every host's addresses there."""
    document["networks"] = {"back": BACK_NET, "front": "10.0.4.0/24"}
    document["vip"] = "10.0.4.10"
    document["hosts"]["proxy1"].update(back="10.0.3.11", front="10.0.4.11")
    document["hosts"]["proxy2"].update(back="10.0.3.12", front="10.0.4.12")
    document["hosts"]["web1"]["back"] = "10.0.3.21"
    document["hosts"]["web2"]["back"] = "10.0.3.22"
    return document


@contextmanager
def started(name: str, disks: dict[str, str], nics: dict[str, str] | None = None):
    """A fresh VM run in .lab/vm/<name> (for a test module's fixture); powered off after.
    LabError when it cannot start."""
    workdir = VM_DIR / name
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    machine = RaidVM(disks, workdir, nics=nics)
    machine.start()
    try:
        yield machine
    finally:
        machine.stop()
