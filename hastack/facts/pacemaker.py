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
    The cluster configuration as Pacemaker holds it, or ``None`` when Pacemaker does not
    run (``absent``). Fails when Pacemaker runs and its CIB cannot be read.

    .. code:: python

        {"properties": {"stonith-enabled": "false"},
         "rsc_defaults": {"resource-stickiness": "100"},
         "resources": {"vip": {"agent": "ocf:heartbeat:IPaddr2", "params": {"ip": "..."},
                               "meta": {}, "monitor": "1s"}},
         "stonith": {"fence1": {...}},
         "clones": {"haproxy": "haproxy-clone"},
         "colocations": [{"rsc": "vip", "with": "haproxy-clone", "score": "INFINITY"}],
         "constraint_ids": {"colocation-vip-haproxy-clone-INFINITY": ["haproxy-clone", "vip"]},
         "nodes": ["proxy1", "proxy2"],
         "alerts": {"hastack-mail": {"path": "/usr/local/lib/hastack/pacemaker-alert",
                                     "recipients": ["root"]}}}
    """

    def requires_command(self) -> str:
        return "cibadmin"

    def command(self) -> str:
        return (
            "if systemctl is-active -q pacemaker; then cibadmin --query --scope configuration; "
            "else echo absent; fi"
        )

    def process(self, output):
        text = "\n".join(output).strip()
        if text == "absent":
            return None
        if not text.startswith("<configuration"):
            raise ValueError(f"cibadmin printed no CIB configuration: {text[:200]!r}")
        root = ET.fromstring(text)
        resources, stonith = {}, {}
        for primitive in root.iterfind("resources//primitive"):
            monitors = [op for op in primitive.iterfind("operations/op") if op.get("name") == "monitor"]
            entry = {
                "agent": agent_of(primitive),
                "params": _nvpairs(primitive, "instance_attributes"),
                "meta": _nvpairs(primitive, "meta_attributes"),
                "monitor": monitors[0].get("interval") if monitors else None,
                # What a failed monitor does (Pacemaker's default, restart in place, when unset).
                "monitor_on_fail": monitors[0].get("on-fail") if monitors else None,
            }
            (stonith if primitive.get("class") == "stonith" else resources)[primitive.get("id")] = entry
        return {
            "properties": _nvpairs(root.find("crm_config"), "cluster_property_set"),
            "rsc_defaults": _nvpairs(root.find("rsc_defaults"), "meta_attributes"),
            "resources": resources,
            "stonith": stonith,
            "clones": {
                primitive.get("id"): clone.get("id")
                for clone in root.iterfind("resources/clone")
                for primitive in clone.iterfind("primitive")
            },
            "colocations": [
                {"rsc": c.get("rsc"), "with": c.get("with-rsc"), "score": c.get("score")}
                for c in root.iterfind("constraints/rsc_colocation")
            ],
            "constraint_ids": {
                c.get("id"): sorted({c.get(key) for key in ("rsc", "with-rsc", "first", "then")} - {None})
                for c in root.iterfind("constraints/*")
            },
            "nodes": [node.get("uname") for node in root.iterfind("nodes/node")],
            "alerts": {
                alert.get("id"): {
                    "path": alert.get("path"),
                    "recipients": [r.get("value") for r in alert.iterfind("recipient")],
                }
                for alert in root.iterfind("alerts/alert")
            },
        }


class CorosyncClusterName(FactBase):
    """The ``cluster_name`` in /etc/corosync/corosync.conf, or ``None`` without the file or
    the name. Fails when the file cannot be read."""

    def command(self) -> str:
        pattern = "s/^[[:space:]]*cluster_name:[[:space:]]*//p"
        conf = "/etc/corosync/corosync.conf"
        return f"if [ -e {conf} ]; then sed -n '{pattern}' {conf}; fi"

    def process(self, output):
        return output[0].strip() or None if output else None


class PcsdKnownHosts(FactBase):
    """Hosts this node's pcsd is authenticated to (``pcs host auth``); none without its file.
    Fails when the file cannot be read."""

    default = list

    def command(self) -> str:
        known = "/var/lib/pcsd/known-hosts"
        return f"if [ -e {known} ]; then cat {known}; fi"

    def process(self, output):
        text = "\n".join(output).strip()
        return sorted(json.loads(text).get("known_hosts", {})) if text else []
