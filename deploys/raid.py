"""Disks, web hosts: an mdadm RAID-1 of the two site disks, ext4, mounted by UUID."""

import uuid as uuidlib

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.operations import apt, files, server

from hastack.defaults import ROOT
from hastack.facts.mdadm import BlockSignature, MdArray
from hastack.operations import mdadm
from hastack.operations.files import mount_at_boot

TEMPLATES = ROOT / "templates" / "raid"
# Names are derived from the site, so a re-run computes the same ones.
NAMESPACE = uuidlib.UUID("5b0c8e62-8f7e-4d1f-9a40-1e2b7c3d9a10")


def colon_uuid(value: str) -> str:
    digits = value.replace("-", "").replace(":", "")
    return ":".join(digits[i : i + 8] for i in range(0, 32, 8))


def array_uuid() -> str:
    current = host.get_fact(MdArray, device=host.data.raid_device)
    if current and current.get("MD_UUID"):
        return colon_uuid(current["MD_UUID"])
    return colon_uuid(str(uuidlib.uuid5(NAMESPACE, f"{host.data.site_cluster}/{host.name}/raid")))


def filesystem_uuid() -> str:
    signature = host.get_fact(BlockSignature, device=host.data.raid_device) or {}
    if signature.get("TYPE") == "ext4" and signature.get("UUID"):
        return signature["UUID"]
    return str(uuidlib.uuid5(NAMESPACE, f"{host.data.site_cluster}/{host.name}/raid-ext4"))


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
    md_uuid = array_uuid()
    refuse_disks_in_use(md_uuid)
    # mdadm.conf first: the package's postinst then builds the initramfs with it.
    conf = files.template(
        name="Write mdadm.conf with the array",
        src=str(TEMPLATES / "mdadm.conf.j2"),
        dest="/etc/mdadm/mdadm.conf",
        create_remote_dir=True,
        device=device,
        uuid=md_uuid,
    )
    packages = apt.packages(
        name="Install mdadm and ext4's tools",
        # e2fsprogs: a minimal Debian 13 lacks it (12's minimal base had it).
        packages=["mdadm", "e2fsprogs"],
        update=True,
        cache_time=3600,
        _env={"DEBIAN_FRONTEND": "noninteractive"},
    )
    server.shell(
        name="Update the initramfs with mdadm.conf",
        commands=["update-initramfs -u"],
        _if=lambda: conf.did_change() and not packages.did_change(),
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
