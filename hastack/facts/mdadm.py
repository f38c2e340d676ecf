"""Facts about block devices and md arrays, from blkid and mdadm's --export output."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase


def _export(output) -> dict[str, str]:
    values = {}
    for line in output:
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


class BlockSignature(FactBase):
    """
    What is written on a block device (probed, not from the cache): a partition
    table, a filesystem or an md superblock. ``{}`` for a blank device, ``None``
    when the device does not exist (no output: pyinfra gives the fact's default).

    .. code:: python

        {"TYPE": "linux_raid_member", "UUID": "8d2c...", "LABEL": "web1:0"}
    """

    def requires_command(self, device: str) -> str:
        return "blkid"

    def command(self, device: str) -> str:
        # A first line, so that a blank device (blkid prints nothing) still has output;
        # blkid's status 2 is "no signature found", any other failure fails the fact.
        quoted = shlex.quote(device)
        return (
            f"if test -b {quoted}; then echo DEVICE={quoted}; blkid -p -o export {quoted} || [ $? -eq 2 ]; fi"
        )

    def process(self, output):
        values = _export(output)
        values.pop("DEVICE", None)
        values.pop("DEVNAME", None)
        return values


class MdArray(FactBase):
    """
    An md array's detail (``mdadm --detail --export``), with its member devices;
    ``None`` when there is no such device (``absent``). Fails when mdadm cannot read
    a device that exists.

    .. code:: python

        {"MD_LEVEL": "raid1", "MD_DEVICES": "2", "MD_UUID": "...", "members": {"/dev/vdb": "0"}}
    """

    def requires_command(self, device: str) -> str:
        return "mdadm"

    def command(self, device: str) -> str:
        quoted = shlex.quote(device)
        return f"if test -b {quoted}; then mdadm --detail --export {quoted}; else echo absent; fi"

    def process(self, output):
        if output and output[0].strip() == "absent":
            return None
        values = _export(output)
        if "MD_LEVEL" not in values and "MD_UUID" not in values:
            return None
        members = {
            values[key]: values.get(key[: -len("_DEV")] + "_ROLE", "")
            for key in values
            if key.startswith("MD_DEVICE_") and key.endswith("_DEV")
        }
        return {**{k: v for k, v in values.items() if not k.startswith("MD_DEVICE_")}, "members": members}


class DevicePaths(FactBase):
    """Where each of these device paths leads (``readlink -f``): a by-id or by-path name
    compares with the /dev/vdX names mdadm reports. A path that leads nowhere maps to itself.

    .. code:: python

        {"/dev/disk/by-id/virtio-a": "/dev/vdb"}
    """

    def command(self, paths: tuple[str, ...]) -> str:
        return "; ".join(
            f"printf '%s\\t%s\\n' {q} \"$(readlink -f {q} || echo {q})\"" for q in map(shlex.quote, paths)
        )

    def process(self, output):
        pairs = (line.split("\t", 1) for line in output if "\t" in line)
        return {path: target.strip() or path for path, target in pairs}
