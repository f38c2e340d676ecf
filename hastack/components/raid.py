"""Disks, web hosts: an mdadm RAID-1 of the two site disks, ext4, mounted by UUID."""

import shlex
import uuid as uuidlib

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.deb import DebPackage
from pyinfra.facts.files import FindInFile
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from hastack.defaults import ROOT
from hastack.facts.mdadm import BlockSignature, DevicePaths, MdArray
from hastack.operations import mdadm
from hastack.operations.files import mount_at_boot, start_after_mount

MDADM_CONF = "/etc/mdadm/mdadm.conf"
# The array at boot with a disk missing (started without it) or back (put back): this script's unit.
BOOT_SCRIPT = "/usr/local/lib/hastack/raid-boot"
BOOT_UNIT = "hastack-raid-boot"
# The site's disks it saw missing at a boot (only those are put back).
AWAY_DIR = "/var/lib/hastack/raid-away"
TEMPLATES = ROOT / "templates" / "raid"
# Names are derived from the site, so a re-run computes the same ones.
NAMESPACE = uuidlib.UUID("5b0c8e62-8f7e-4d1f-9a40-1e2b7c3d9a10")


def colon_uuid(value: str) -> str:
    digits = value.replace("-", "").replace(":", "")
    return ":".join(digits[i : i + 8] for i in range(0, 32, 8))


def derived_array_uuid() -> str:
    """The UUID hastack gives the array it builds on this host (from the cluster's and host's names)."""
    return colon_uuid(str(uuidlib.uuid5(NAMESPACE, f"{host.data.site_cluster}/{host.name}/raid")))


def array_uuid() -> str:
    current = host.get_fact(MdArray, device=host.data.raid_device)
    if current and current.get("MD_UUID"):
        return colon_uuid(current["MD_UUID"])
    return derived_array_uuid()


def filesystem_uuid() -> str:
    signature = host.get_fact(BlockSignature, device=host.data.raid_device) or {}
    if signature.get("TYPE") == "ext4" and signature.get("UUID"):
        return signature["UUID"]
    return str(uuidlib.uuid5(NAMESPACE, f"{host.data.site_cluster}/{host.name}/raid-ext4"))


# glusterd's drop-in: it starts once the RAID is mounted (written with the RAID, so it holds for
# a glusterd installed later too).
GLUSTERD_DROPIN = "/etc/systemd/system/glusterd.service.d/hastack-raid.conf"


def start_glusterd_after_the_raid() -> None:
    """glusterd starts only once the RAID's filesystem is mounted (its brick is there), and not
    at all if it cannot be: started before it, as on a degraded boot where the array comes up
    about 30 s late, glusterd finds the brick's folder empty, gives up on the brick, and the
    brick stays offline until someone runs `volume start force`. RequiresMountsFor keeps the
    mount in local-fs.target, where fstab's x-systemd.required-by would take it out."""
    start_after_mount(
        "glusterd",
        GLUSTERD_DROPIN,
        host.data.raid_mount_point,
        "Managed by hastack (hastack/components/raid.py): the GlusterFS brick is on the RAID.",
    )


def refuse_foreign_array() -> None:
    """Before any operation: an array already at raid_device whose members are not the
    site's disks (the OS's own md0, say) is never adopted: its filesystem would be mounted
    at the RAID's mount point and served as the cluster's bricks."""
    device, disks = host.data.raid_device, list(host.data.site_disks)
    current = host.get_fact(MdArray, device=device)
    if current is None:
        return
    resolved = host.get_fact(DevicePaths, paths=tuple(disks + sorted(current["members"])))
    ours = {resolved.get(disk, disk) for disk in disks}
    members = sorted(current["members"])
    if members and {resolved.get(member, member) for member in members} <= ours:
        return
    if colon_uuid(current.get("MD_UUID", "")) == derived_array_uuid():
        raise DeployError(
            f"host {host.name}: {device}, the array hastack built, is of {', '.join(members)}, not of the "
            f"site's disks ({', '.join(disks)}): after a disk replacement (hastack disk replace), name the "
            f"new disk in place of the old one in hosts.{host.name}.disks"
        )
    raise DeployError(
        f"host {host.name}: {device} is already an array of {', '.join(members) or 'no disk'}, not of "
        f"the site's disks ({', '.join(disks)}); it may be the system's own and hastack will not adopt "
        f"it. Set raid_device to a free md device (for example /dev/md10) in hosts.{host.name}.data, "
        f"or fix hosts.{host.name}.disks"
    )


def refuse_disks_in_use(md_uuid: str) -> None:
    """Before any operation: a disk in use stops the whole run, nothing half-applied."""
    if host.get_fact(MdArray, device=host.data.raid_device) is not None:
        return
    signatures = {disk: host.get_fact(BlockSignature, device=disk) for disk in host.data.site_disks}
    problem = mdadm.disk_problem(host.name, signatures, md_uuid, host.data.raid_force)
    if problem:
        raise DeployError(problem)


@deploy("Disks: mdadm RAID-1")
def deploy_raid() -> None:
    device = host.data.raid_device
    name = f"{host.name}-raid1"
    refuse_foreign_array()
    md_uuid = array_uuid()
    refuse_disks_in_use(md_uuid)
    # mdadm.conf first: the package's postinst then builds the initramfs with it. Only the
    # array's own ARRAY line is hastack's: the file's other lines and arrays stay. The line
    # makes the array assemble as raid_device (not /dev/md127) at boot, matched by UUID alone
    # (the superblock's name carries the hostname it was made on, unknown to the initramfs).
    files.directory(name="mdadm's folder", path="/etc/mdadm")
    conf = files.line(
        name="mdadm.conf names the array",
        path=MDADM_CONF,
        line=rf"^ARRAY\s\+{device}\s.*$",
        replace=f"ARRAY {device} metadata=1.2 UUID={md_uuid}",
    )
    changes = [conf]
    # Without a mail address mdadm's monitor does not run: root's, unless the file has one.
    if not host.get_fact(FindInFile, path=MDADM_CONF, pattern="^MAILADDR"):
        changes.append(files.line(name="mdadm's monitor mails root", path=MDADM_CONF, line="MAILADDR root"))
    # A fresh mdadm package builds the initramfs with the file; where mdadm was already
    # there (the system's own arrays), hastack rebuilds it.
    fresh_mdadm = host.get_fact(DebPackage, package="mdadm") is None
    apt.packages(
        name="Install mdadm and ext4's tools",
        # e2fsprogs: a minimal Debian 13 lacks it (12's minimal base had it).
        packages=["mdadm", "e2fsprogs"],
        # not its recommended mail server (exim4): alerts bring nullmailer where the site wants mail
        no_recommends=True,
        update=True,
        cache_time=3600,
        _env={"DEBIAN_FRONTEND": "noninteractive"},
    )
    server.shell(
        name="Update the initramfs with mdadm.conf",
        commands=["update-initramfs -u"],
        _if=lambda: any_changed(*changes)() and not fresh_mdadm,
    )
    mdadm.array(
        name=f"RAID-1 {device} of {' '.join(host.data.site_disks)}",
        device=device,
        disks=host.data.site_disks,
        uuid=md_uuid,
        array_name=name,
        force=host.data.raid_force,
    )
    fs_uuid = filesystem_uuid()
    mdadm.filesystem(name=f"ext4 on {device}", device=device, fs_type="ext4", uuid=fs_uuid, label="raid1")
    mount_at_boot(
        mount_point=host.data.raid_mount_point,
        device=f"UUID={fs_uuid}",
        fs_type="ext4",
        # nofail: a host whose array is late (degraded, started by mdadm's
        # last-resort timer after 30 s) still boots.
        options=["defaults", "nofail", "x-systemd.device-timeout=90s"],
        how="by UUID at boot",
        passno=2,
    )
    start_glusterd_after_the_raid()
    the_array_at_boot(device, md_uuid)


def the_array_at_boot(device: str, md_uuid: str) -> None:
    """At boot: an array still waiting for a missing disk after 30 s is started without it (mdadm's
    last-resort timer is not started where the initramfs assembled it); a site disk that was
    missing at an earlier boot, is back, carries this array's superblock and did not run the
    array alone meanwhile is re-added (mdadm leaves the older copy out at assembly), and the
    bitmap makes the resync copy only what changed. A disk out of the array that was not seen
    away (md failed it, someone removed it) stays out, and the unit fails naming it. Enabled,
    not run by the deploy (templates/raid/hastack-raid-boot.sh.j2)."""
    files.template(
        name=f"The RAID at boot, a disk missing or back ({BOOT_SCRIPT})",
        src=str(TEMPLATES / "hastack-raid-boot.sh.j2"),
        dest=BOOT_SCRIPT,
        mode="755",
        # site values, shell-quoted
        device=shlex.quote(device),
        uuid=shlex.quote(md_uuid),
        disks=shlex.quote(" ".join(host.data.site_disks)),
        mount_point=shlex.quote(host.data.raid_mount_point),
        away_dir=AWAY_DIR,
    )
    unit = files.put(
        name=f"Its unit ({BOOT_UNIT}.service)",
        src=str(TEMPLATES / "hastack-raid-boot.service"),
        dest=f"/etc/systemd/system/{BOOT_UNIT}.service",
        mode="644",
    )
    systemd.daemon_reload(name=f"Load {BOOT_UNIT}.service", _if=unit.did_change)
    systemd.service(name=f"Run {BOOT_UNIT}.service at boot", service=BOOT_UNIT, running=None, enabled=True)
