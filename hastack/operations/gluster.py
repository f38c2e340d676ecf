"""GlusterFS operations: peers and replica volumes, changed only where they differ."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from pyinfra import host
from pyinfra.api import OperationError, operation

from hastack.facts.gluster import GlusterPeers, GlusterVolumes

IN_CLUSTER = "Peer in Cluster"
VOLUME = "gluster --mode=script volume"


@operation()
def peer(hostname: str, wait_seconds: int = 60):
    """
    Probe a peer into this host's trusted pool and wait until it is in the cluster.

    + hostname: the peer's name as the bricks will use it
    + wait_seconds: how long to wait for "Peer in Cluster" after the probe
    """
    known = host.get_fact(GlusterPeers).get(hostname)
    if known and known["state"] == IN_CLUSTER:
        host.noop(f"{hostname} is in the pool")
        return
    name = shlex.quote(hostname)
    yield f"gluster peer probe {name}"
    yield (
        f"for i in $(seq {wait_seconds}); do "
        f"gluster peer status | grep -A2 -x 'Hostname: {hostname}' | grep -q '{IN_CLUSTER}' && exit 0; "
        f"sleep 1; done; echo 'peer {hostname} not in cluster after {wait_seconds}s' >&2; exit 1"
    )


@dataclass
class BrickPlan:
    """How a volume's bricks go from what they are to what the site wants."""

    drop_arbiter: str | None  # the arbiter brick that goes
    leaving: list[str]  # data bricks that go
    joining: list[str]  # data bricks that come
    add_arbiter: str | None  # the arbiter brick that comes
    final_data: int  # data bricks at the end


def brick_plan(name: str, current: dict, bricks: list[str], arbiter: int) -> BrickPlan:
    """The plan, or OperationError for a change hastack does not make in one run."""
    have_arbiter = current["bricks"][-1] if current["arbiter"] else None
    have_data = current["bricks"][:-1] if have_arbiter else list(current["bricks"])
    want_arbiter = bricks[-1] if arbiter else None
    want_data = bricks[:-1] if arbiter else list(bricks)
    joining = [brick for brick in want_data if brick not in have_data]
    leaving = [brick for brick in have_data if brick not in want_data]
    if not set(have_data) & set(want_data):
        raise OperationError(
            f"volume {name} has bricks {have_data}, the site wants {want_data}: not one in common, "
            "so no copy could be kept while they change; fix the site file (hastack never re-creates "
            "a volume)"
        )
    if joining and leaving:
        raise OperationError(
            f"volume {name}: {', '.join(joining)} would join while {', '.join(leaving)} leaves; one at a "
            "time: deploy with the new web host added first, then again with the old one removed"
        )
    if want_arbiter and len(want_data) != 2:
        raise OperationError(f"volume {name}: an arbiter goes with two data bricks, the site has {want_data}")
    changing = bool(joining or leaving)
    return BrickPlan(
        drop_arbiter=have_arbiter if have_arbiter and (have_arbiter != want_arbiter or changing) else None,
        leaving=leaving,
        joining=joining,
        add_arbiter=want_arbiter if want_arbiter and (want_arbiter != have_arbiter or changing) else None,
        final_data=len(want_data),
    )


def _host(brick: str) -> str:
    return brick.split(":", 1)[0]


@operation()
def volume_shrink(
    volume_name: str, bricks: list[str], arbiter: int, pool: list[str], heal_wait_seconds: int = 900
):
    """
    The bricks that leave a volume removed, and their hosts out of the pool: the first half of
    a change of bricks (``volume`` adds those that join, after the new hosts are probed).

    + volume_name: volume name
    + bricks: ``host:/path`` of every brick the site wants, in replica order (arbiter last)
    + arbiter: 1 if the last brick is an arbiter, else 0
    + pool: the hosts the site puts in the trusted pool
    + heal_wait_seconds: how long a brick that leaves may take to have nothing left to heal

    1. an arbiter that goes (or whose data bricks change) is removed first;
    2. a data brick that leaves is removed (``remove-brick replica N ... force``) only once
       ``heal info`` shows it connected with nothing that the others lack (waited for);
    3. hosts of the pool that are not in the site's pool and hold no brick are detached (a
       peer that cannot reach a new host would fail the next ``add-brick``).
    """
    current = host.get_fact(GlusterVolumes).get(volume_name)
    if current is None:
        host.noop(f"volume {volume_name} does not exist yet")
        return
    plan = brick_plan(volume_name, current, bricks, arbiter)
    commands = []
    data = len(current["bricks"]) - (1 if current["arbiter"] else 0)
    holding = set(map(_host, current["bricks"]))
    if plan.drop_arbiter:
        commands.append(f"{VOLUME} remove-brick {volume_name} replica {data} {plan.drop_arbiter} force")
        holding.discard(_host(plan.drop_arbiter))
    for brick in plan.leaving:
        commands.append(_nothing_left_to_heal(volume_name, brick, heal_wait_seconds))
        data -= 1
        commands.append(f"{VOLUME} remove-brick {volume_name} replica {data} {brick} force")
        holding.discard(_host(brick))
    peers = host.get_fact(GlusterPeers)
    for peer in sorted({name for name in peers if not _is_address(name)} - set(pool) - holding - {host.name}):
        commands.append(f"gluster --mode=script peer detach {shlex.quote(peer)}")
    if not commands:
        host.noop(f"no brick leaves volume {volume_name}")
    yield from commands


def _is_address(name: str) -> bool:
    return all(part.isdigit() for part in name.split("."))


@operation()
def volume(
    volume_name: str,
    bricks: list[str],
    replica: int,
    arbiter: int = 0,
    options: dict | None = None,
):
    """
    A started replica volume with the given bricks and options.

    + volume_name: volume name
    + bricks: ``host:/path`` of every brick, in replica order (arbiter last)
    + replica: replica count (bricks per copy set)
    + arbiter: 1 if the last brick is an arbiter, else 0
    + options: volume options to set (``gluster volume set``), by name

    An existing volume is never re-created. Bricks that join are added after
    ``volume_shrink`` removed those that leave: data bricks (``add-brick replica N``, then a
    full heal), then the arbiter, last.
    """
    options = options or {}
    current = host.get_fact(GlusterVolumes).get(volume_name)
    commands = []
    if current is None:
        layout = f"replica {replica}" + (f" arbiter {arbiter}" if arbiter else "")
        commands.append(f"{VOLUME} create {volume_name} {layout} {' '.join(bricks)}")
        current = {"status": "Created", "options": {}}
    else:
        plan = brick_plan(volume_name, current, bricks, arbiter)
        if plan.joining:
            commands.append(_add_brick(volume_name, f"replica {plan.final_data} {' '.join(plan.joining)}"))
            # the self-heal daemon restarts with the new brick: the full heal is retried until it starts
            commands.append(
                f"for i in $(seq 30); do gluster volume heal {volume_name} full >/dev/null 2>&1 && exit 0; "
                "sleep 1; done; "
                f"echo 'volume {volume_name}: no full heal onto {' '.join(plan.joining)}' >&2; "
                "exit 1"
            )
        if plan.add_arbiter:
            commands.append(
                _add_brick(volume_name, f"replica {plan.final_data + 1} arbiter 1 {plan.add_arbiter}")
            )
    for option, value in sorted(options.items()):
        if str(current["options"].get(option)) != str(value):
            value = shlex.quote(str(value))
            commands.append(f"{VOLUME} set {volume_name} {option} {value}")
    if current["status"] != "Started":
        commands.append(f"{VOLUME} start {volume_name}")
    if not commands:
        host.noop(f"volume {volume_name} is started with its bricks and options")
    yield from commands


def _add_brick(name: str, layout: str) -> str:
    """add-brick, retried for 30 s while a peer has not yet connected to the new host."""
    return (
        f"for i in $(seq 30); do out=$({VOLUME} add-brick {name} {layout} 2>&1) && exit 0; "
        'echo "$out" | grep -q \'not connected\' || break; sleep 1; done; echo "$out" >&2; exit 1'
    )


def _nothing_left_to_heal(name: str, brick: str, seconds: int) -> str:
    """Wait until ``heal info`` shows the brick connected with no entry the others lack."""
    return (
        f"for i in $(seq {seconds}); do "
        f"s=$(gluster volume heal {name} info summary | grep -A2 -x 'Brick {brick}'); "
        "echo \"$s\" | grep -qx 'Status: Connected' && echo \"$s\" | grep -qx 'Total Number of entries: 0' "
        "&& exit 0; sleep 1; done; "
        f"echo 'volume {name}: {brick} still has entries to heal to the other bricks (or does not "
        f"answer) after {seconds}s: it is not removed, so no file is lost; see gluster volume heal "
        f"{name} info, then deploy again' >&2; exit 1"
    )


@operation()
def fresh_brick(path: str, volume_name: str):
    """
    No old brick in the way of this host's brick joining the volume.

    + path: the brick's directory on this host
    + volume_name: the volume it belongs in

    A directory that was a brick before (it holds ``.glusterfs``) and that this host's
    glusterd does not list in the volume now cannot be added again (GlusterFS refuses it):
    it is moved aside to ``<path>.removed-<time>``, files and all, never deleted.
    """
    brick = f"{host.name}:{path}"
    if brick in host.get_fact(GlusterVolumes).get(volume_name, {}).get("bricks", []):
        host.noop(f"{brick} is a brick of volume {volume_name}")
        return
    quoted = shlex.quote(path)
    yield (
        f"if [ -d {quoted}/.glusterfs ]; then mv {quoted} {quoted}.removed-$(date +%Y%m%d%H%M%S) && "
        f"echo 'moved the old brick {path} aside'; fi"
    )
