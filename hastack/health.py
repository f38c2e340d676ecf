"""Readings of a cluster's health from its tools' own output: Pacemaker's nodes, HAProxy's
backends, GlusterFS's heal info, an md array, the quorum device's vote. Pure functions, each
giving what is wrong and what to do: `hastack verify`'s checks and `hastack status` share them
(tests/unit/test_degraded_checks.py reads real output kept as fixtures)."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET


def node_problems(crm_mon_xml: str, proxies: list[str]) -> dict[str, str]:
    """What keeps each proxy from holding the VIP, as Pacemaker sees it (``crm_mon
    --output-as=xml``), each with what to do; a proxy that is fine is left out."""
    # the cluster's nodes (<nodes>), not those its resources run on (<resource><node .../>)
    nodes = {node.get("name"): node for node in ET.fromstring(crm_mon_xml).iterfind("./nodes/node")}
    problems = {}
    options = ET.fromstring(crm_mon_xml).find("./summary/cluster_options")
    if options is not None and options.get("maintenance-mode") == "true":
        problems["the cluster"] = "in maintenance mode: `pcs property set maintenance-mode=false` when done"
    if options is not None and options.get("stop-all-resources") == "true":
        problems["the cluster"] = "told to stop every resource: `pcs property set stop-all-resources=false`"
    for name in proxies:
        node = nodes.get(name)
        if node is None:
            problems[name] = "not in the cluster: deploy it (pyinfra inventory.py deploys/proxy.py)"
        elif node.get("unclean") == "true":
            problems[name] = (
                "unclean, waiting for fencing: see `pcs status` and `pcs stonith history`; only once it is "
                f"known to be off, `pcs stonith confirm {name}`"
            )
        elif node.get("online") != "true":
            problems[name] = f"offline: `systemctl start corosync pacemaker` on {name}, then `pcs status`"
        elif node.get("standby_onfail") == "true":
            problems[name] = (
                "in standby after a failure: find it in `pcs status`, then `pcs resource cleanup`"
            )
        elif node.get("standby") == "true":
            problems[name] = (
                f"in standby: `hastack maintenance {name} off` (or `pcs node unstandby {name}`) when its "
                "work is done"
            )
        elif node.get("maintenance") == "true":
            problems[name] = f"in maintenance: `pcs node unmaintenance {name}` when its work is done"
    return problems


def backend_rows(show_stat_csv: str) -> dict[str, dict[str, str]]:
    """The servers of HAProxy's ``web`` backend in its ``show stat`` CSV, by name."""
    lines = [line for line in show_stat_csv.splitlines() if line.strip()]
    if not lines:
        return {}
    # HAProxy quotes free-text fields (a check's last answer) as CSV does
    header, *rows = csv.reader([lines[0].lstrip("# "), *lines[1:]])
    return {
        row["svname"]: row
        for row in (dict(zip(header, r, strict=False)) for r in rows)
        if row.get("pxname") == "web"
    }


def backend_problems(show_stat_csv: str, servers: list[str]) -> dict[str, str]:
    """The web hosts HAProxy does not send requests to (``show stat`` of its ``web``
    backend), each with its status and last check."""
    states = backend_rows(show_stat_csv)
    problems = {}
    for name in servers:
        row = states.get(name)
        if row is None:
            problems[name] = "not in HAProxy's web backend: deploy the proxies (deploys/proxy.py)"
        elif row.get("status", "").startswith(("DRAIN", "MAINT")):
            problems[name] = (
                f"{row.get('status')}, set by an operator: `hastack maintenance {name} off` when its work "
                f"is done (or `echo 'set server web/{name} state ready' | socat stdio "
                "/run/haproxy/admin.sock` on each proxy)"
            )
        elif row.get("status") != "UP":
            problems[name] = (
                f"{row.get('status')} (last check: {row.get('check_status')} {row.get('last_chk')}): "
                f"see NGINX on {name} (docker ps, curl its /healthz)"
            )
    return problems


def array_problems(detail: str, disks: list[str]) -> list[str]:
    """What keeps an array (``mdadm --detail``, its member paths resolved) from being a whole
    RAID-1 of the site's ``disks`` (resolved too): each a sentence."""
    fields = dict(
        (key.strip(), value.strip())
        for key, value in (line.split(" : ", 1) for line in detail.splitlines() if " : " in line)
    )
    problems = []
    if fields.get("Raid Level") != "raid1":
        problems.append(f"its level is {fields.get('Raid Level')}, not raid1")
    state = fields.get("State", "")
    if "recovering" in state or "resyncing" in state:
        problems.append(f"its state is '{state}' (a resync is under way: wait for it, see /proc/mdstat)")
    elif "degraded" in state or "FAILED" in state or "inactive" in state:
        problems.append(f"its state is '{state}'")
    active, failed = fields.get("Active Devices"), fields.get("Failed Devices", "0")
    if active != str(len(disks)):
        problems.append(f"{active} of {len(disks)} disks are active")
    if failed != "0":
        problems.append(f"{failed} disk(s) failed")
    members = re.findall(r"\bactive sync\b[^/\n]*(/dev/\S+)", detail)
    missing = [disk for disk in disks if disk not in members]
    if missing:
        problems.append(f"{', '.join(missing)} not an active member")
    return problems


def heal_entries(heal_info: str) -> list[str]:
    """``gluster volume heal VOL info``: the entries of each brick, "-" where a brick did not
    answer."""
    return re.findall(r"Number of entries:\s*(\S+)", heal_info)


def heal_by_brick(heal_info: str) -> dict[str, str]:
    """``gluster volume heal VOL info [summary]``: each brick's host and its entries ("-": it
    did not answer), in the order GlusterFS prints them (the volume's, not the site's)."""
    blocks = re.split(r"^Brick ", heal_info, flags=re.MULTILINE)[1:]
    found = {}
    for block in blocks:
        host = re.match(r"([^:\s]+):", block)
        entries = heal_entries(block)
        if host and entries:
            found[host.group(1)] = entries[0]
    return found


def vote_cast(members: str, proxies: int = 0, expect: bool = False) -> bool:
    """Every node's line says the device is alive and voted ("1  1  A,V,NMW proxy1": A,V), and
    the device has its vote ("0  1  Qdevice"). ``proxies``: how many node lines there must be."""
    flags = re.findall(r"^\s*[1-9]\d*\s+\d+\s+(\S+)\s+\S+", members, re.MULTILINE)
    device = re.search(r"^\s*0\s+1\s+Qdevice", members, re.MULTILINE)
    return (
        bool(device)
        and bool(flags)
        and (expect or len(flags) == proxies)
        and all(flag.startswith("A,V") for flag in flags)
    )


def brick_pool(site) -> list[str]:
    """The hosts with a brick: the web hosts, then the arbiter when the site has one."""
    arbiter = site.setting("gluster_arbiter")
    return [h.name for h in site.hosts_in("web")] + ([arbiter] if arbiter else [])


def gluster_retrying(command: str, tries: int = 8) -> str:
    """A gluster command, asked again after a pause while glusterd answers that another
    transaction holds its cluster-wide lock (someone's `gluster volume status`, a deploy): a
    busy moment, not an answer. Its standard output and exit code are the last try's."""
    return (
        f'for i in $(seq {tries}); do out=$({command}); rc=$?; case "$out" in '
        "*'Another transaction is in progress'*|*'Locking failed'*) sleep 2;; *) break;; esac; done; "
        'printf "%s\\n" "$out"; exit $rc'
    )


def bricks_online(volume_status_xml: str) -> dict[str, str]:
    """``gluster --xml volume status VOL``: each brick's host and its status ("1": online)."""
    return {
        node.findtext("hostname"): node.findtext("status")
        for node in ET.fromstring(volume_status_xml).iter("node")
        if (node.findtext("path") or "").endswith("/brick")
    }


def split_brain_counts(split_brain_info: str) -> list[int]:
    """``gluster volume heal VOL info split-brain``: the entries of each brick that answered."""
    return [int(n) for n in re.findall(r"Number of entries in split-brain:\s*(\d+)", split_brain_info)]


# Cacti's effective poller interval (seconds) and RRD folder, as Cacti itself reads them.
CACTI_CONFIG = (
    'cd /usr/share/cacti/site && php -r \'include "./include/cli_check.php"; '
    'echo read_config_option("poller_interval"), " ", $config["rra_path"];\''
)
