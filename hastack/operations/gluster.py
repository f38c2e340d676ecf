"""GlusterFS operations: peers and replica volumes, changed only where they differ."""

from __future__ import annotations

import shlex

from pyinfra import host
from pyinfra.api import OperationError, operation

from hastack.facts.gluster import GlusterPeers, GlusterVolumes

IN_CLUSTER = "Peer in Cluster"


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


@operation()
def volume(volume_name: str, bricks: list[str], replica: int, arbiter: int = 0, options: dict | None = None):
    """
    A started replica volume with the given bricks and options.

    + volume_name: volume name
    + bricks: ``host:/path`` of every brick, in replica order (arbiter last)
    + replica: replica count (bricks per copy set)
    + arbiter: 1 if the last brick is an arbiter, else 0
    + options: volume options to set (``gluster volume set``), by name

    An existing volume is never re-created: if its bricks differ from the ones
    wanted, the operation fails and says so.
    """
    options = options or {}
    current = host.get_fact(GlusterVolumes).get(volume_name)
    commands = []
    if current is None:
        layout = f"replica {replica}" + (f" arbiter {arbiter}" if arbiter else "")
        commands.append(f"gluster --mode=script volume create {volume_name} {layout} {' '.join(bricks)}")
        current = {"status": "Created", "options": {}}
    elif arbiter and current["bricks"] == bricks[:-1] and current["arbiter"] == 0:
        # a replica 2 volume gets its arbiter: added, never re-created
        commands.append(
            f"gluster --mode=script volume add-brick {volume_name} replica {replica} arbiter 1 {bricks[-1]}"
        )
    elif current["bricks"] != bricks:
        raise OperationError(
            f"volume {volume_name} exists with bricks {current['bricks']}, the site wants {bricks}: "
            "hastack never re-creates a volume; change its bricks by hand (gluster volume "
            "replace-brick) or fix the site file"
        )
    for option, value in sorted(options.items()):
        if str(current["options"].get(option)) != str(value):
            value = shlex.quote(str(value))
            commands.append(f"gluster --mode=script volume set {volume_name} {option} {value}")
    if current["status"] != "Started":
        commands.append(f"gluster --mode=script volume start {volume_name}")
    if not commands:
        host.noop(f"volume {volume_name} is started with its bricks and options")
    yield from commands
