"""Pacemaker operations through pcs, each computed against the live CIB: only what differs changes."""

from __future__ import annotations

import re
import shlex

from pyinfra import host
from pyinfra.api import OperationError, operation

from hastack.facts.pacemaker import CibConfiguration

# The intervals `pcs resource create` accepts (its own check, stricter than Pacemaker's).
PCS_CREATE_INTERVAL_RE = re.compile(r"^[0-9]+(s|sec|m|min|h|hr)?$")

EMPTY_CIB = {
    "properties": {},
    "rsc_defaults": {},
    "resources": {},
    "stonith": {},
    "clones": {},
    "colocations": [],
    "constraint_ids": {},
    "nodes": [],
    "alerts": {},
}


def _cib() -> dict:
    # No CIB yet (the stack is installed earlier in the same run): everything
    # is to be made. Should Pacemaker still not run then, pcs says so.
    return host.get_fact(CibConfiguration) or EMPTY_CIB


def _pairs(values: dict) -> str:
    return " ".join(f"{key}={shlex.quote(str(value))}" for key, value in values.items())


def _differs(current: dict, wanted: dict) -> dict:
    return {key: value for key, value in wanted.items() if current.get(key) != str(value)}


def _nvpair(section: str, name: str, value, command: str, label: str):
    """Set one name=value of a CIB section with ``command`` unless it already holds."""
    if _cib()[section].get(name) == str(value):
        host.noop(f"{label}{name} is {value}")
        return
    yield f"{command} {name}={shlex.quote(str(value))}"


@operation()
def cluster_property(property_name: str, value: str):
    """
    A cluster property (``pcs property set``).

    + property_name: e.g. ``stonith-enabled``
    + value: its value
    """
    yield from _nvpair("properties", property_name, value, "pcs property set", "")


@operation()
def resource_default(option: str, value: str):
    """
    A resource default (``pcs resource defaults update``).

    + option: e.g. ``resource-stickiness``
    + value: its value
    """
    yield from _nvpair("rsc_defaults", option, value, "pcs resource defaults update", "resource default ")


@operation()
def resource(
    resource_id: str,
    agent: str,
    params: dict | None = None,
    meta: dict | None = None,
    monitor_interval: str = "10s",
    stonith: bool = False,
    monitor_on_fail: str | None = None,
):
    """
    A primitive resource (or a fence device with ``stonith``).

    + resource_id: the resource's id
    + agent: ``ocf:heartbeat:IPaddr2``, ``systemd:haproxy``, a fence agent with ``stonith``
    + params: instance attributes
    + meta: meta attributes
    + monitor_interval: interval of the monitor operation
    + stonith: create it with ``pcs stonith create``
    + monitor_on_fail: what a failed monitor does (``standby``: every resource leaves the node
      in the transition that sees the failure); Pacemaker's default (restart) when None

    A resource is never re-created: one with another agent is an error.
    """
    params, meta = params or {}, meta or {}
    on_fail = f" on-fail={shlex.quote(monitor_on_fail)}" if monitor_on_fail else ""
    cib = _cib()
    current = (cib["stonith"] if stonith else cib["resources"]).get(resource_id)
    kind = "stonith" if stonith else "resource"
    if current is None:
        command = f"pcs {kind} create {resource_id} {agent} {_pairs(params)}"
        if meta:
            command += f" meta {_pairs(meta)}"
        # `pcs resource create` takes whole seconds, minutes or hours only ("500ms" is refused),
        # `pcs resource update` any Pacemaker interval: a finer one is set right after.
        first = monitor_interval if PCS_CREATE_INTERVAL_RE.match(monitor_interval) else "1s"
        yield f"{command} op monitor interval={first}{on_fail}"
        if first != monitor_interval:
            yield f"pcs resource update {resource_id} op monitor interval={monitor_interval}{on_fail}"
        return
    wanted_agent = agent.removeprefix("stonith:")
    if current["agent"].removeprefix("stonith:") != wanted_agent:
        raise OperationError(
            f"resource {resource_id} runs {current['agent']}, the site wants {agent}: hastack never "
            "re-creates a resource; remove it by hand (pcs resource delete) to let the deploy make it"
        )
    changes = []
    if _differs(current["params"], params):
        changes.append(f"pcs {kind} update {resource_id} {_pairs(_differs(current['params'], params))}")
    if _differs(current["meta"], meta):
        changes.append(f"pcs resource meta {resource_id} {_pairs(_differs(current['meta'], meta))}")
    if current["monitor"] != monitor_interval or current.get("monitor_on_fail") != monitor_on_fail:
        changes.append(f"pcs resource update {resource_id} op monitor interval={monitor_interval}{on_fail}")
    if not changes:
        host.noop(f"{kind} {resource_id} is as wanted")
    yield from changes


@operation()
def clone(resource_id: str):
    """
    Run a primitive on every node (``pcs resource clone``; the clone is ``<id>-clone``).

    + resource_id: the primitive, made earlier (in this run or before)

    The constraints that named the primitive itself are deleted first: they placed one
    instance, and a clone's constraints name the clone.
    """
    cib = _cib()
    if resource_id in cib["clones"]:
        host.noop(f"{resource_id} is cloned ({cib['clones'][resource_id]})")
        return
    for constraint, names in sorted(cib["constraint_ids"].items()):
        if resource_id in names:
            yield f"pcs constraint delete {shlex.quote(constraint)}"
    yield f"pcs resource clone {resource_id}"


@operation()
def colocation(resource_id: str, with_id: str, score: str = "INFINITY"):
    """
    Keep a resource on the node of another.

    + resource_id: the resource that follows
    + with_id: the resource it follows
    + score: the constraint's score
    """
    wanted = {"rsc": resource_id, "with": with_id, "score": score}
    if wanted in _cib()["colocations"]:
        host.noop(f"{resource_id} is colocated with {with_id}")
        return
    yield f"pcs constraint colocation add {resource_id} with {with_id} {score}"


@operation()
def alert(alert_id: str, path: str, recipient: str, present: bool = True):
    """
    A Pacemaker alert (``pcs alert``): its agent, run on the node of each event, and its one
    recipient; a different one is made again, an unwanted one removed.

    + alert_id: the alert's id
    + path: the agent, on every node
    + recipient: the value the agent is given (``CRM_alert_recipient``)
    + present: whether the alert should exist
    """
    current = _cib()["alerts"].get(alert_id)
    if not present:
        if current is None:
            host.noop(f"no alert {alert_id}")
            return
        yield f"pcs alert remove {shlex.quote(alert_id)}"
        return
    if current == {"path": path, "recipients": [recipient]}:
        host.noop(f"alert {alert_id} runs {path} for {recipient}")
        return
    if current is not None:
        yield f"pcs alert remove {shlex.quote(alert_id)}"
    yield f"pcs alert create id={shlex.quote(alert_id)} path={shlex.quote(path)}"
    yield (
        f"pcs alert recipient add {shlex.quote(alert_id)} value={shlex.quote(recipient)} "
        f"id={shlex.quote(f'{alert_id}-{recipient}')}"
    )
