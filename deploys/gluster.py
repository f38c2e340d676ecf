"""Storage, web hosts: a GlusterFS replica volume, one brick per web host, mounted at /cluster."""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, systemd

from hastack.defaults import component_defaults
from hastack.operations import gluster
from hastack.operations.files import mount_at_boot

DEFAULTS = component_defaults("gluster_")


def web_hosts() -> list[dict]:
    return [other for other in host.data.site_hosts if other["role"] == "web"]


def brick_path() -> str:
    return f"{host.data.gluster_brick_root.rstrip('/')}/brick"


def volume_options() -> dict:
    return {
        "auth.allow": ",".join(other["addresses"]["back"] for other in web_hosts()),
        "network.ping-timeout": host.data.gluster_ping_timeout,
        "cluster.quorum-type": host.data.gluster_quorum_type,
        "cluster.favorite-child-policy": host.data.gluster_favorite_child_policy,
        "cluster.self-heal-daemon": "on",
    }


def install_gluster() -> None:
    apt.packages(
        name="Install GlusterFS",
        packages=["glusterfs-server", "glusterfs-client"],
        update=True,
        cache_time=3600,
    )
    systemd.service(name="Run glusterd", service="glusterd", running=True, enabled=True)


def configure_volume() -> None:
    names = [other["name"] for other in web_hosts()]
    volume_name = host.data.site_cluster
    files.directory(name="Create the brick directory", path=brick_path(), mode="755")
    # The pool and the volume are cluster-wide: one web host manages them.
    if host.name == names[0]:
        for other in names[1:]:
            gluster.peer(name=f"Probe {other} into the pool", hostname=other)
        gluster.volume(
            name=f"Replica volume {volume_name}",
            volume_name=volume_name,
            bricks=[f"{name}:{brick_path()}" for name in names],
            replica=len(names),
            options=volume_options(),
        )


def configure_mount() -> None:
    names = [other["name"] for other in web_hosts()]
    mount_point = host.data.gluster_mount_point
    backups = [name for name in names if name != host.name]
    mount_at_boot(
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


@deploy("Storage: GlusterFS", data_defaults=DEFAULTS)
def deploy_gluster() -> None:
    install_gluster()
    configure_volume()
    configure_mount()
