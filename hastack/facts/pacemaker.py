"""Pacemaker and Corosync facts: the live CIB (cibadmin XML), the corosync cluster name."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from pyinfra.api import FactBase


def _nvpairs(element: ET.Element | None, path: str) -> dict[str, str]:
    if element is None:
        return {}
    return {pair.get("name"): pair.get("value") for pair in element.iterfind(f"{path}/nvpair")}


def agent_of(primitive: ET.Element) -> str:
    parts = [primitive.get("class"), primitive.get("provider"), primitive.get("type")]
    return ":".join(part for part in parts if part)


class CibConfiguration(FactBase):
    """
    The cluster configuration as Pacemaker holds it, or ``None`` without a running CIB.

    .. code:: python

        {"properties": {"stonith-enabled": "false"},
         "rsc_defaults": {"resource-stickiness": "100"},
         "resources": {"vip": {"agent": "ocf:heartbeat:IPaddr2", "params": {"ip": "..."},
                               "meta": {}, "monitor": "1s"}},
         "stonith": {"fence1": {...}},
         "colocations": [{"rsc": "haproxy", "with": "vip", "score": "INFINITY"}],
         "orders": [{"first": "vip", "then": "haproxy"}],
         "nodes": ["proxy1", "proxy2"]}
    """

    def requires_command(self) -> str:
        return "cibadmin"

    def command(self) -> str:
        return "cibadmin --query --scope configuration 2>/dev/null || true"

    def process(self, output):
        text = "\n".join(output).strip()
        if not text.startswith("<configuration"):
            return None
        root = ET.fromstring(text)
        resources, stonith = {}, {}
        for primitive in root.iterfind("resources//primitive"):
            monitors = [
                op.get("interval")
                for op in primitive.iterfind("operations/op")
                if op.get("name") == "monitor"
            ]
            entry = {
                "agent": agent_of(primitive),
                "params": _nvpairs(primitive, "instance_attributes"),
                "meta": _nvpairs(primitive, "meta_attributes"),
                "monitor": monitors[0] if monitors else None,
            }
            (stonith if primitive.get("class") == "stonith" else resources)[primitive.get("id")] = entry
        return {
            "properties": _nvpairs(root.find("crm_config"), "cluster_property_set"),
            "rsc_defaults": _nvpairs(root.find("rsc_defaults"), "meta_attributes"),
            "resources": resources,
            "stonith": stonith,
            "colocations": [
                {"rsc": c.get("rsc"), "with": c.get("with-rsc"), "score": c.get("score")}
                for c in root.iterfind("constraints/rsc_colocation")
            ],
            "orders": [
                {"first": o.get("first"), "then": o.get("then")}
                for o in root.iterfind("constraints/rsc_order")
            ],
            "nodes": [node.get("uname") for node in root.iterfind("nodes/node")],
        }


class CorosyncClusterName(FactBase):
    """The ``cluster_name`` in /etc/corosync/corosync.conf, or ``None`` without one."""

    def command(self) -> str:
        pattern = "s/^[[:space:]]*cluster_name:[[:space:]]*//p"
        return f"sed -n '{pattern}' /etc/corosync/corosync.conf 2>/dev/null || true"

    def process(self, output):
        return output[0].strip() or None if output else None


class PcsdKnownHosts(FactBase):
    """Hosts this node's pcsd is authenticated to (``pcs host auth``)."""

    default = list

    def command(self) -> str:
        return "cat /var/lib/pcsd/known-hosts 2>/dev/null || true"

    def process(self, output):
        text = "\n".join(output).strip()
        return sorted(json.loads(text).get("known_hosts", {})) if text else []
