"""``hastack disk replace [SITE] HOST OLD NEW``: a new disk into a web host's RAID-1, in place of one
that has failed, is gone, or is failing.

- The array degraded, OLD failed or gone: OLD leaves the array (if mdadm still lists it) and NEW
  is added; the array rebuilds onto NEW from the disk that is left.
- The array whole, OLD still in sync (a disk that reports errors but still works): NEW is added as
  a spare, then ``mdadm --replace`` copies OLD onto it while OLD still serves, so the array never
  loses its second copy; OLD is then marked faulty by mdadm and removed.

The command waits for the rebuild (``--no-wait``: it starts it and returns; ``cat /proc/mdstat``
shows it), then removes OLD's md superblock where OLD is still readable, so that the old disk,
put back or moved to another slot, is never assembled again as a stale half of the array.

Before any change it refuses, naming why: a host that is not a web host with a RAID, an OLD that
is not in the host's ``disks``, a NEW that is, a NEW that does not exist or carries a partition
table, a filesystem or an md superblock, or is mounted; an OLD that is the array's last working
disk (that would remove the data's only copy: replace the other one). The array keeps its UUID,
its name and its filesystem: mdadm.conf, the initramfs and fstab name neither disk, so nothing
else changes on the host. The site file still names OLD: the command ends by saying to name NEW
in its place (``hosts.HOST.disks``), after which a deploy changes nothing, and until which
``hastack verify`` and the deploy name the difference.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable

from hastack.facts.mdadm import MdArray
from hastack.site import Site
from hastack.ssh import SiteHosts

# How often the wait for the rebuild says where it stands, in seconds.
PROGRESS_EVERY_S = 30


class Refused(Exception):
    """Nothing was changed on the host."""


class Failed(Exception):
    """A step failed after the array was changed: what ran is said, and the array's state."""


def site_problem(site: Site, name: str, old: str, new: str) -> str | None:
    """Why the site refuses this replacement before any host is contacted, or None."""
    if name not in site.hosts:
        return f"host {name} is not in the site ({', '.join(site.hosts)}): name one of its web hosts"
    spec = site.hosts[name]
    if spec.role != "web":
        return f"host {name} is a {spec.role} host: only web hosts carry the RAID-1 (hosts.{name}.disks)"
    if not site.setting("raid_enabled", spec):
        return f"host {name} has raid_enabled: false, so no array to replace a disk in"
    if old not in spec.disks:
        return (
            f"{old} is not one of host {name}'s disks ({', '.join(spec.disks)}, hosts.{name}.disks): "
            "name the disk to replace as the site names it"
        )
    if new in spec.disks:
        return f"{new} is already one of host {name}'s disks (hosts.{name}.disks): name a new disk"
    if not new.startswith("/dev/"):
        return f"{new} is not a device path: name the new disk as /dev/disk/by-id/..."
    return None


def member_states(detail: dict) -> dict[str, str]:
    """The array's member devices (kernel names) and their roles from ``mdadm --detail --export``:
    a slot number when in sync or rebuilding, else 'faulty' or 'spare'."""
    return dict(detail.get("members", {}))


def plan(detail: dict, old_real: str | None, new_real: str) -> tuple[str, list[str]]:
    """The kind of replacement ('degraded' or 'hot') and what it runs, from the array's detail
    and where OLD and NEW lead (OLD: None when its path leads nowhere, a disk gone). Raises
    Refused when it must not run."""
    device = detail["device"]
    members = member_states(detail)
    if new_real in members:
        raise Refused(f"{new_real} is already in {device} ({members[new_real]})")
    role = members.get(old_real or "")
    in_sync = [dev for dev, slot in members.items() if slot.isdigit()]
    wanted = int(detail.get("MD_DEVICES") or 2)
    degraded = detail.get("MD_DEGRADED", "0") not in ("", "0") or len(in_sync) < wanted
    if role is not None and role.isdigit():
        if degraded:
            others = [dev for dev in in_sync if dev != old_real]
            raise Refused(
                f"{old_real} is the last working disk of the degraded array {device}"
                f"{' (with ' + ', '.join(others) + ' rebuilding)' if others else ''}: removing it would "
                "lose the data. Replace the disk that failed, or wait for the rebuild to end"
            )
        return "hot", [
            f"mdadm {device} --add-spare {new_real}",
            f"mdadm {device} --replace {old_real} --with {new_real}",
        ]
    if not degraded:
        raise Refused(
            f"{device} is whole and {old_real or 'that disk'} is not in it "
            f"(members: {', '.join(f'{d} {r}' for d, r in sorted(members.items()))}): nothing to replace"
        )
    commands = []
    if role is not None:
        commands.append(f"mdadm {device} --remove {old_real}")
    commands.append(f"mdadm {device} --remove detached || true")
    commands.append(f"mdadm {device} --add {new_real}")
    return "degraded", commands


def rebuild_progress(mdstat: str, device: str) -> str | None:
    """The rebuild's line of /proc/mdstat for this array ('recovery = 12.5% ...'), or None."""
    short = device.rsplit("/", 1)[-1]
    lines = mdstat.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"{short} :"):
            for following in lines[index + 1 : index + 4]:
                if "recovery" in following or "resync" in following or "reshape" in following:
                    return " ".join(following.split())
            return None
    return None


def run_disk_replace(
    site: Site, name: str, old: str, new: str, wait: bool = True, out: Callable[[str], None] = print
) -> int:
    problem = site_problem(site, name, old, new)
    if problem:
        out(f"hastack: refused, nothing changed: {problem}")
        return 2
    device = site.setting("raid_device", site.hosts[name])
    hosts = SiteHosts(site, timeout=60)
    try:
        return replace_on_host(hosts, name, device, old, new, wait, out)
    except Refused as refusal:
        out(f"hastack: refused, nothing changed on {name}: {refusal}")
        return 1
    except Failed as failure:
        out(f"hastack: failed on {name}: {failure}. See the array: cat /proc/mdstat; mdadm --detail {device}")
        return 1
    finally:
        hosts.close()


def replace_on_host(
    hosts: SiteHosts, name: str, device: str, old: str, new: str, wait: bool, out: Callable[[str], None]
) -> int:
    ran: list[str] = []

    def ask(command: str) -> str:
        """The command's output; a failure refuses before any change, and fails after one."""
        code, output = hosts.run(name, command)
        problem = (
            f"the host does not answer over SSH: {output.strip()}"
            if code == 255
            else f"`{command}` failed: {output.strip()}"
        )
        if code != 0 and ran:
            raise Failed(f"{problem} (after: {'; '.join(ran)})")
        if code != 0:
            raise Refused(problem)
        return output

    detail = MdArray().process(ask(f"mdadm --detail --export {shlex.quote(device)}").splitlines())
    if detail is None:
        raise Refused(f"{device} is not an array on this host: deploy the host first")
    detail["device"] = device
    # The kernel's own count of the array's missing copies (a rebuilding disk counts as missing).
    detail["MD_DEGRADED"] = ask(
        f"cat /sys/class/block/$(basename $(readlink -f {shlex.quote(device)}))/md/degraded"
    ).strip()
    old_real = ask(f"readlink -e {shlex.quote(old)} || true").strip() or None
    new_real = ask(f"readlink -e {shlex.quote(new)} || true").strip()
    if not new_real:
        raise Refused(f"{new} does not exist on {name} (ls -l /dev/disk/by-id shows its disks)")
    if ask(f"test -b {shlex.quote(new_real)} && echo block || echo other").strip() != "block":
        raise Refused(f"{new} ({new_real}) is not a block device")
    used = ask(
        f"wipefs -n {shlex.quote(new_real)} 2>/dev/null | tail -n +2; "
        f"lsblk -n -o MOUNTPOINTS {shlex.quote(new_real)} 2>/dev/null | grep . || true"
    ).strip()
    if used:
        raise Refused(
            f"{new} ({new_real}) is not blank: {' '.join(used.split())[:200]}. If what it holds is not "
            f"needed, wipe it (wipefs -a {new_real}) and run this again"
        )
    kind, commands = plan(detail, old_real, new_real)
    out(
        f"hastack: {name}: {device} {'degraded' if kind == 'degraded' else 'whole'}; "
        f"{old} ({old_real or 'gone'}) is replaced by {new} ({new_real})"
        + (": NEW is copied from OLD while OLD still serves (mdadm --replace)" if kind == "hot" else "")
    )
    for command in commands:
        out(f"  {command}")
        ask(command)
        ran.append(command)
    if not wait:
        out(f"hastack: the rebuild runs on {name} (cat /proc/mdstat); this command did not wait for it.")
        return finish_message(name, old, new, out, done=False)
    last = 0.0
    sysfs = f"/sys/class/block/$(basename $(readlink -f {shlex.quote(device)}))/md"
    while True:
        mdstat = ask("cat /proc/mdstat")
        progress = rebuild_progress(mdstat, device)
        detail = MdArray().process(ask(f"mdadm --detail --export {shlex.quote(device)}").splitlines()) or {}
        members = member_states(detail)
        # Done: no copy missing, no rebuild under way, and NEW holds a slot.
        state = ask(f"cat {sysfs}/degraded {sysfs}/sync_action").split()
        if state == ["0", "idle"] and members.get(new_real, "").isdigit():
            break
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            out(f"  {name}: {progress or 'waiting for the rebuild to start'}")
            last = time.monotonic()
        time.sleep(5)
    if old_real and old_real in members:
        ask(f"mdadm {device} --remove {old_real}")
        out(f"  mdadm {device} --remove {old_real}")
    if old_real:
        # A disk that still reads: its superblock goes, so it is never assembled as a stale half.
        code, _ = hosts.run(name, f"mdadm --zero-superblock {shlex.quote(old_real)}")
        out(f"  mdadm --zero-superblock {old_real}{'' if code == 0 else ' (failed: the disk does not read)'}")
    out(f"hastack: {device} on {name} is in sync on {new} and the disk that stayed.")
    return finish_message(name, old, new, out, done=True)


def finish_message(name: str, old: str, new: str, out: Callable[[str], None], done: bool) -> int:
    out(
        f"hastack: now name {new} in place of {old} in hosts.{name}.disks in the site file; a deploy "
        f"then changes nothing, and `hastack verify` holds{'' if done else ' once the rebuild ends'}."
    )
    return 0
