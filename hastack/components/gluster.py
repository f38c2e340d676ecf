"""Storage, web hosts: a GlusterFS replica volume, one brick per web host, mounted at /cluster."""

from pyinfra import host, logger
from pyinfra.api import StringCommand, deploy
from pyinfra.operations import files, python, systemd

from hastack import topology
from hastack.components.host_os import install
from hastack.operations import gluster
from hastack.operations.files import mount_at_boot


def web_hosts() -> list[dict]:
    return topology.in_role(host.data.site_hosts, "web")


def pool_hosts() -> list[dict]:
    """The web hosts, then the arbiter when the site has one."""
    return topology.storage_pool(host.data.site_hosts, host.data.gluster_arbiter)


def brick_path() -> str:
    return f"{host.data.gluster_brick_root.rstrip('/')}/brick"


def arbiter_brick_path() -> str:
    return f"{host.data.gluster_arbiter_brick_root.rstrip('/')}/brick"


def bricks() -> list[str]:
    data_bricks = [f"{other['name']}:{brick_path()}" for other in web_hosts()]
    if host.data.gluster_arbiter:
        data_bricks.append(f"{host.data.gluster_arbiter}:{arbiter_brick_path()}")
    return data_bricks


# `cluster.heal-timeout`: how often the self-heal daemon crawls the bricks' indices of pending
# heals. GlusterFS's 600 s left a copy missed in a brick's short absence (a client that gave up on
# it for `gluster_ping_timeout` under load: a CI run, 2026-12-06) unhealed for up to 10 minutes,
# and `hastack verify` waits for heal entries to drain (HEAL_DRAIN_S, twice this). The crawl reads
# only the indices, so a minute costs next to nothing.
HEAL_INTERVAL_S = 60


def volume_options() -> dict:
    return {
        "auth.allow": ",".join(other["addresses"]["back"] for other in pool_hosts()),
        "network.ping-timeout": host.data.gluster_ping_timeout,
        "cluster.quorum-type": host.data.gluster_quorum_type,
        "cluster.favorite-child-policy": host.data.gluster_favorite_child_policy,
        "cluster.self-heal-daemon": "on",
        "cluster.heal-timeout": HEAL_INTERVAL_S,
    }


def install_gluster() -> None:
    install("Install GlusterFS", ["glusterfs-server", "glusterfs-client"])
    systemd.service(name="Run glusterd", service="glusterd", running=True, enabled=True)


def configure_volume() -> None:
    names = [other["name"] for other in pool_hosts()]
    volume_name = host.data.site_cluster
    arbiter = host.name == host.data.gluster_arbiter
    path = arbiter_brick_path() if arbiter else brick_path()
    gluster.fresh_brick(name="No old brick in the way of this one", path=path, volume_name=volume_name)
    files.directory(name="Create the brick directory", path=path, mode="755")
    # The pool and the volume are cluster-wide: one web host manages them. A web host that
    # leaves was drained in HAProxy (before this step, on the proxies); its brick goes once
    # nothing is left to heal from it, and it leaves the pool, before any host joins (a peer
    # that cannot reach the new host would fail its add-brick): probed, then its brick added.
    if host.name == names[0]:
        gluster.volume_shrink(
            name=f"Bricks that leave volume {volume_name}, and their hosts out of the pool",
            volume_name=volume_name,
            bricks=bricks(),
            arbiter=1 if host.data.gluster_arbiter else 0,
            pool=names,
        )
        for other in names[1:]:
            gluster.peer(name=f"Probe {other} into the pool", hostname=other)
        gluster.volume(
            name=f"Replica volume {volume_name}",
            volume_name=volume_name,
            bricks=bricks(),
            replica=len(names),
            arbiter=1 if host.data.gluster_arbiter else 0,
            options=volume_options(),
        )


def configure_mount() -> None:
    names = [other["name"] for other in web_hosts()]
    mount_point = host.data.gluster_mount_point
    backups = [name for name in names if name != host.name]
    mounting = mount_at_boot(
        mount_point=mount_point,
        device=f"{host.name}:/{host.data.site_cluster}",
        fs_type="glusterfs",
        options=[
            "defaults",
            "_netdev",
            "x-systemd.requires=glusterd.service",
            f"backup-volfile-servers={':'.join(backups)}",
        ],
        how="at boot, from any web host",
    )
    if mounting:
        wait_for_every_brick(mount_point)


# How long a new mount may take to reach every brick before hastack writes on it.
BRICK_CONNECT_WAIT_S = 30


def wait_for_every_brick(mount_point: str) -> None:
    """A mount made a moment ago may not have reached every brick yet (one whose brick
    process was starting when it asked): what it writes then skips that copy, and is only
    healed at the self-heal daemon's next crawl, up to a minute later (HEAL_INTERVAL_S).
    hastack writes its health file and the sample page next, so it waits for the mount's
    client of each brick (GlusterFS's .meta tree) to be connected. A brick that stays down is the volume's
    state to report (hastack verify), not the deploy's to stop on: a warning, and on."""
    python.call(
        name=f"Wait until the new mount of {mount_point} reaches every brick",
        function=_wait_for_bricks,
        mount_point=mount_point,
        expected=len(pool_hosts()),
    )


def _wait_for_bricks(mount_point: str, expected: int) -> None:
    clients = f"{mount_point}/.meta/graphs/active/{host.data.site_cluster}-client-*/private"
    waited, output = host.run_shell_command(
        StringCommand(
            f"for i in $(seq {BRICK_CONNECT_WAIT_S}); do "
            f"up=$(cat {clients} 2>/dev/null | grep -c '^connected = 1'); "
            f'[ "$up" -ge {expected} ] && exit 0; sleep 1; done; echo "$up"; exit 1'
        ),
        _sudo=bool(host.data.get("_sudo")),
    )
    if not waited:
        up = output.stdout.strip() if output else "?"
        logger.warning(
            f"host {host.name}: {mount_point} reaches {up} of {expected} bricks after "
            f"{BRICK_CONNECT_WAIT_S} s (see `gluster volume status {host.data.site_cluster}`): what "
            "hastack writes next heals onto the others once they are back"
        )


@deploy("Storage: GlusterFS")
def deploy_gluster() -> None:
    """Web hosts: brick and mount. The arbiter (when the site has one): its brick only."""
    install_gluster()
    configure_volume()
    if "web" in host.groups:
        configure_mount()
