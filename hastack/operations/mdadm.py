"""mdadm operations: a RAID-1 that is created once, and never over a disk in use."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import OperationError, operation

from hastack.facts.mdadm import BlockSignature, MdArray


def same_uuid(a: str | None, b: str | None) -> bool:
    """md UUIDs come as 8:8:8:8 (mdadm) or 8-4-4-4-12 (blkid): compare the hex digits."""

    def digits(value: str | None) -> str:
        return (value or "").replace(":", "").replace("-", "").lower()

    return bool(a and b) and digits(a) == digits(b)


def describe(signature: dict) -> str:
    if signature.get("PTTYPE"):
        return f"a {signature['PTTYPE']} partition table"
    if signature.get("TYPE") == "linux_raid_member":
        return f"the md superblock of another array (UUID {signature.get('UUID', '?')})"
    return f"a {signature.get('TYPE', 'unknown')} filesystem (UUID {signature.get('UUID', '?')})"


def is_member_of(signature: dict, uuid: str) -> bool:
    return signature.get("TYPE") == "linux_raid_member" and same_uuid(signature.get("UUID"), uuid)


def disk_problem(host_name: str, signatures: dict[str, dict | None], uuid: str, force: bool) -> str | None:
    """Why the array must not be built on these disks, or None. Members of the array itself are fine."""
    for disk, signature in signatures.items():
        if signature is None:
            return f"disk {disk} does not exist on host {host_name}: fix hosts.{host_name}.disks"
    if force or any(is_member_of(signature, uuid) for signature in signatures.values()):
        return None
    for disk, signature in signatures.items():
        if signature:
            return (
                f"disk {disk} on host {host_name} carries {describe(signature)}: hastack will not build "
                f"a RAID over it. If its data is not needed, wipe it (wipefs -a {disk}) or set "
                f"raid_force: true in hosts.{host_name}.data"
            )
    return None


@operation()
def array(device: str, disks: list[str], uuid: str, array_name: str, force: bool = False):
    """
    A RAID-1 array of two disks, with a write-intent bitmap.

    + device: the array's device, e.g. ``/dev/md0``
    + disks: the two member disks
    + uuid: the array UUID to create it with (an existing array keeps its own)
    + array_name: the name stored in the superblock
    + force: wipe disks that carry a partition table, a filesystem or another
      array's superblock; without it such a disk is refused

    An array that exists is never re-created. One that exists on the disks but
    is not running (as after a boot with a disk missing) is assembled and run.
    """
    current = host.get_fact(MdArray, device=device)
    if current is not None:
        if current.get("MD_STATE", "").startswith("inactive") or not current.get("MD_LEVEL"):
            yield f"mdadm --run {device}"
        else:
            host.noop(f"{device} exists ({current.get('MD_LEVEL')}, {len(current['members'])} members)")
        return

    signatures = {disk: host.get_fact(BlockSignature, device=disk) for disk in disks}
    problem = disk_problem(host.name, signatures, uuid, force)
    if problem:
        raise OperationError(problem)
    ours = [disk for disk, signature in signatures.items() if is_member_of(signature, uuid)]
    if ours:
        yield f"mdadm --assemble --run {device} {' '.join(ours)}"
        return
    in_use = [disk for disk, signature in signatures.items() if signature]
    for disk in in_use:
        yield f"mdadm --zero-superblock --force {disk} 2>/dev/null; wipefs -a {disk}"
    yield (
        f"mdadm --create {device} --run --level=1 --raid-devices=2 --metadata=1.2 "
        f"--bitmap=internal --uuid={uuid} --name={array_name} {' '.join(disks)}"
    )


@operation()
def filesystem(device: str, fs_type: str, uuid: str, label: str):
    """
    A filesystem on a device, made once.

    + device: the block device
    + fs_type: filesystem type (``mkfs.<fs_type>`` makes it)
    + uuid: the UUID to make it with, so that fstab can name it before it exists
    + label: the filesystem label

    A device that carries another filesystem is refused, never reformatted.
    """
    signature = host.get_fact(BlockSignature, device=device) or {}
    kind = signature.get("TYPE")
    if kind == fs_type:
        host.noop(f"{device} carries {fs_type}")
        return
    if kind:
        raise OperationError(
            f"{device} on host {host.name} carries {describe(signature)}, not {fs_type}: "
            "hastack never reformats it"
        )
    yield f"mkfs.{fs_type} -q -U {uuid} -L {label} {device}"
