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
from hastack.operations.mdadm import same_uuid
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


def array_state_command(device: str) -> str:
    """The shell that prints the array's state from the kernel (md's sysfs): one line per member
    (device, state flags, slot), then raid_disks, degraded and sync_action."""
    sysfs = f"/sys/class/block/$(basename $(readlink -f {shlex.quote(device)}))/md"
    return (
        f'for d in {sysfs}/dev-*; do [ -e "$d/block" ] || continue; '
        'echo "member /dev/$(basename $(readlink -f $d/block)) $(cat $d/state) $(cat $d/slot)"; done; '
        f'for f in raid_disks degraded sync_action; do echo "$f $(cat {sysfs}/$f)"; done'
    )


def array_state(output: str) -> dict:
    """``array_state_command``'s output: {"members": {dev: {"state": {...}, "slot": str}},
    "raid_disks": int, "degraded": int, "sync_action": str}."""
    state: dict = {"members": {}, "raid_disks": 2, "degraded": 0, "sync_action": ""}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "member":
            state["members"][words[1]] = {"state": set(words[2].split(",")), "slot": " ".join(words[3:])}
        elif len(words) == 2 and words[0] in ("raid_disks", "degraded"):
            state[words[0]] = int(words[1]) if words[1].isdigit() else 0
        elif len(words) == 2 and words[0] == "sync_action":
            state["sync_action"] = words[1]
    return state


def in_sync(state: dict) -> list[str]:
    return sorted(
        dev
        for dev, member in state["members"].items()
        if "in_sync" in member["state"] and "faulty" not in member["state"]
    )


def describe_members(state: dict) -> str:
    return ", ".join(f"{dev} {','.join(sorted(m['state']))}" for dev, m in sorted(state["members"].items()))


def plan(state: dict, device: str, old_real: str | None, new_real: str) -> tuple[str, list[str]]:
    """The kind of replacement and what it runs, from the array's state (``array_state``) and
    where OLD and NEW lead (OLD: None when its path leads nowhere, a disk gone):
    'degraded' (OLD failed or gone: NEW added, rebuilt onto), 'hot' (OLD in sync in a whole
    array: copied to NEW while it serves), 'resume' (NEW is already in the array, from a run
    cut short or --no-wait: the wait and the clean-up only). Raises Refused when it must not run."""
    members = state["members"]
    if old_real is not None and old_real == new_real:
        raise Refused(f"OLD and NEW are the same disk ({new_real}): name the new disk by /dev/disk/by-id/...")
    if new_real in members:
        return "resume", []
    if state["sync_action"] != "idle":
        raise Refused(
            f"a {state['sync_action'] or 'sync'} is under way on {device} (cat /proc/mdstat): wait for it "
            f"to end, or stop a check (echo idle > /sys/block/{device.rsplit('/', 1)[-1]}/md/sync_action)"
        )
    working = in_sync(state)
    degraded = state["degraded"] > 0 or len(working) < state["raid_disks"]
    old = members.get(old_real or "")
    if old is not None and old_real in working:
        if degraded:
            raise Refused(
                f"{old_real} is the last working disk of the degraded array {device} "
                f"({describe_members(state)}): removing it would lose the data. Replace the disk that failed"
            )
        return "hot", [f"mdadm {device} --add-spare {new_real}", f"mdadm {device} --replace {old_real}"]
    if not degraded:
        raise Refused(
            f"{device} is whole and {old_real or 'that disk'} is not in it ({describe_members(state)}): "
            "nothing to replace"
        )
    commands = []
    if old is not None:
        if "faulty" not in old["state"]:
            commands.append(f"mdadm {device} --fail {old_real}")
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

    quoted = shlex.quote(device)
    uuid = (MdArray().process(ask(f"mdadm --detail --export {quoted}").splitlines()) or {}).get("MD_UUID")
    if not uuid:
        raise Refused(f"{device} is not an array on this host: deploy the host first")
    state = array_state(ask(array_state_command(device)))
    old_real = ask(f"readlink -e {shlex.quote(old)} || true").strip() or None
    new_real = ask(f"readlink -e {shlex.quote(new)} || true").strip()
    if not new_real:
        raise Refused(f"{new} does not exist on {name} (ls -l /dev/disk/by-id shows its disks)")
    kind, commands = plan(state, device, old_real, new_real)
    if kind != "resume":
        refuse_a_new_disk_not_fit(ask, state, new, new_real)
    out(
        f"hastack: {name}: {device} ({describe_members(state)}); {old} ({old_real or 'gone'}) is replaced by "
        f"{new} ({new_real})"
        + {
            "hot": ": NEW is copied from OLD while OLD still serves (mdadm --replace)",
            "resume": ": NEW is already in the array (a run cut short, or --no-wait): it is waited for",
            "degraded": ": the array is rebuilt onto NEW",
        }[kind]
    )
    for command in commands:
        out(f"  {command}")
        ask(command)
        ran.append(command)
    if not wait:
        out(
            f"hastack: the rebuild runs on {name} (cat /proc/mdstat); this command did not wait for it. "
            "Run it again to wait and clear the old disk's superblock."
        )
        return finish_message(name, old, new, out, done=False)
    ran.append("the rebuild")
    state = wait_for_the_rebuild(hosts, name, device, new_real, out)
    if old_real and old_real in state["members"]:
        ask(f"mdadm {device} --remove {old_real}")
        out(f"  mdadm {device} --remove {old_real}")
    clear_the_old_superblock(hosts, name, old, old_real, uuid, out)
    out(f"hastack: {device} on {name} is in sync on {new} and the disk that stayed.")
    return finish_message(name, old, new, out, done=True)


def refuse_a_new_disk_not_fit(ask: Callable[[str], str], state: dict, new: str, new_real: str) -> None:
    """NEW must be a whole disk, blank, unused, and at least as large as a working member."""
    disk = shlex.quote(new_real)
    kind = ask(f"lsblk -dno TYPE {disk}").strip()
    if kind != "disk":
        raise Refused(
            f"{new} ({new_real}) is a {kind or 'device of no type'}, not a whole disk: the RAID-1 is of disks"
        )
    used = ask(
        f"wipefs -n {disk} 2>/dev/null | tail -n +2; lsblk -nro NAME,MOUNTPOINTS {disk} | tail -n +2; "
        f"lsblk -dnro MOUNTPOINTS {disk} | grep . ; ls /sys/class/block/$(basename {disk})/holders; true"
    ).strip()
    if used:
        raise Refused(
            f"{new} ({new_real}) is not blank, or is in use: {' '.join(used.split())[:200]}. If what it "
            f"holds is not needed, wipe it (wipefs -a {new_real}) and run this again"
        )
    working = in_sync(state)
    if working:
        size, need = (
            int(ask(f"blockdev --getsize64 {shlex.quote(d)}").strip() or 0) for d in (new_real, working[0])
        )
        if size < need:
            raise Refused(
                f"{new} ({new_real}) holds {size} bytes, less than {working[0]}'s {need}: name a larger disk"
            )


def wait_for_the_rebuild(
    hosts: SiteHosts, name: str, device: str, new_real: str, out: Callable[[str], None]
) -> dict:
    """Until NEW is in sync and no copy is missing; fails when NEW fails, or when nothing rebuilds
    while it is not in sync. A host that stops answering is waited for (a rebuild takes hours)."""
    last, idle, unreachable = 0.0, 0, 0
    while True:
        code, output = hosts.run(name, f"{array_state_command(device)}; cat /proc/mdstat")
        if code != 0:
            unreachable += 1
            if unreachable > 60:
                raise Failed(f"the host has not answered for 5 minutes during the rebuild: {output.strip()}")
            time.sleep(5)
            continue
        unreachable = 0
        state = array_state(output)
        member = state["members"].get(new_real, {"state": set()})
        if "faulty" in member["state"]:
            raise Failed(f"{new_real} failed during the rebuild ({describe_members(state)}): replace it too")
        if "in_sync" in member["state"] and state["degraded"] == 0 and state["sync_action"] == "idle":
            return state
        idle = idle + 1 if state["sync_action"] == "idle" else 0
        if idle >= 4:
            raise Failed(
                f"no rebuild runs and {new_real} is not in sync ({describe_members(state)}, degraded "
                f"{state['degraded']})"
            )
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            out(f"  {name}: {rebuild_progress(output, device) or 'waiting for the rebuild to start'}")
            last = time.monotonic()
        time.sleep(5)


def clear_the_old_superblock(
    hosts: SiteHosts, name: str, old: str, old_real: str | None, uuid: str, out: Callable[[str], None]
) -> None:
    """OLD's md superblock goes, so the old disk, put back or moved, is never assembled as a stale
    half: only where OLD still leads to the same disk and that disk still carries this array's."""
    if not old_real:
        return
    code, now = hosts.run(name, f"readlink -e {shlex.quote(old)}")
    if code != 0 or now.strip() != old_real:
        out(f"  {old} no longer leads to {old_real}: its superblock is left alone")
        return
    code, examined = hosts.run(name, f"mdadm --examine --export {shlex.quote(old_real)}")
    theirs = (MdArray().process(examined.splitlines()) or {}).get("MD_UUID") if code == 0 else None
    if not same_uuid(theirs, uuid):
        out(f"  {old_real} carries no superblock of this array: left alone")
        return
    code, said = hosts.run(name, f"mdadm --zero-superblock {shlex.quote(old_real)}")
    out(f"  mdadm --zero-superblock {old_real}" + ("" if code == 0 else f" failed: {said.strip()[:200]}"))


def finish_message(name: str, old: str, new: str, out: Callable[[str], None], done: bool) -> int:
    out(
        f"hastack: now name {new} in place of {old} in hosts.{name}.disks in the site file; a deploy "
        f"then changes nothing, and `hastack verify` holds{'' if done else ' once the rebuild ends'}."
    )
    return 0
