"""GlusterFS facts, parsed from the gluster CLI's own XML output."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pyinfra.api import FactBase


class GlusterError(RuntimeError):
    """The gluster CLI answered with an error: glusterd cannot say what it holds."""


def _root(output) -> ET.Element:
    """The CLI's XML answer. The command fails by itself when glusterd does not answer; an
    answer that reports an error is refused too: an empty pool must never be assumed."""
    root = ET.fromstring("\n".join(output).strip())
    if root.findtext("opRet") != "0":
        raise GlusterError(f"gluster answered with an error: {root.findtext('opErrstr')}")
    return root


class GlusterPeers(FactBase):
    """
    Peers of the trusted pool as this host sees them, by hostname.

    .. code:: python

        {"web2": {"connected": True, "state": "Peer in Cluster"}}
    """

    default = dict

    def requires_command(self) -> str:
        return "gluster"

    def command(self) -> str:
        return "gluster --xml peer status"

    def process(self, output):
        root = _root(output)
        peers = {}
        for peer in root.iter("peer"):
            names = [peer.findtext("hostname")] + [n.text for n in peer.iterfind("hostnames/hostname")]
            info = {"connected": peer.findtext("connected") == "1", "state": peer.findtext("stateStr")}
            for name in filter(None, names):
                peers[name] = info
        return peers


class GlusterVolumes(FactBase):
    """
    Volumes with their status, bricks, replica count and reconfigured options.

    .. code:: python

        {"shop": {"status": "Started", "replica": 2, "arbiter": 0,
                  "bricks": ["web1:/raid1/brick", "web2:/raid1/brick"],
                  "options": {"network.ping-timeout": "10"}}}
    """

    default = dict

    def requires_command(self) -> str:
        return "gluster"

    def command(self) -> str:
        return "gluster --xml volume info all"

    def process(self, output):
        root = _root(output)
        volumes = {}
        for volume in root.iter("volume"):
            volumes[volume.findtext("name")] = {
                "status": volume.findtext("statusStr"),
                "replica": int(volume.findtext("replicaCount") or 0),
                "arbiter": int(volume.findtext("arbiterCount") or 0),
                "bricks": [brick.findtext("name") for brick in volume.iterfind("bricks/brick")],
                "options": {
                    option.findtext("name"): option.findtext("value")
                    for option in volume.iterfind("options/option")
                },
            }
        return volumes
