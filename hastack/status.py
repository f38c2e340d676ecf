"""``hastack status [SITE]``: one screen of a running site's health, for any site.

Every host reachable; Pacemaker's nodes, the VIP's holder, the quorum device's vote and the
fencing as the site says; HAProxy's backends as each proxy sees them; GlusterFS's bricks, heal
and split-brain entries; each RAID; the days left on the certificate the VIP serves; the age of
Cacti's newest data. It reads, never changes; the hosts are asked in parallel. Exit 0 when all
is well, 1 when degraded, 2 when the shop does not answer through the VIP. The readings are
hastack.health's, the same as `hastack verify`'s checks.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from hastack import health, topology
from hastack.site import Site
from hastack.ssh import SiteHosts as Hosts

# Days of certificate left under which the site is degraded: time to renew.
CERT_DAYS_WARN = 21
# Cacti's newest data older than this many of its polls: the monitoring has stopped.
MONITORING_POLLS_LATE = 3


@dataclass
class Line:
    area: str
    ok: bool
    detail: str
    # the shop does not answer: exit 2
    down: bool = False


def reachable(site: Site, hosts: Hosts) -> list[Line]:
    silent = [name for name in site.hosts if hosts.connect(name) is None]
    return [
        Line(
            "hosts",
            not silent,
            f"{len(site.hosts) - len(silent)} of {len(site.hosts)} answer SSH"
            + "".join(f"; {name}: {hosts.errors.get(name, 'no answer')}" for name in silent),
        )
    ]


def shop(site: Site, hosts: Hosts) -> list[Line]:
    client = hosts.first("client") or hosts.first("proxy")
    url = site.url("/healthz")
    if client is None:
        return [Line("shop", False, "no client or proxy answers SSH to ask the VIP from", down=True)]
    code, out = hosts.run(client, f"curl {site.curl_to_vip} -sk -o /dev/null -m 5 -w '%{{http_code}}' {url}")
    ok = out.strip() == "200"
    return [Line("shop", ok, f"{url} answers {out.strip() or code} from {client}", down=not ok)]


def pacemaker(site: Site, hosts: Hosts) -> list[Line]:
    proxies = [p.name for p in site.hosts_in("proxy")]
    if hosts.first("proxy") is None:
        return [Line("pacemaker", False, "no proxy answers SSH", down=True)]
    # the first proxy whose Pacemaker answers (one may be booting after a fence, or stopped)
    failures = []
    for asker in proxies:
        code, out = hosts.run(asker, "crm_mon -1 --output-as=xml")
        if code == 0:
            break
        failures.append(f"{asker}: {out.strip()[-150:]}")
    else:
        return [Line("pacemaker", False, f"crm_mon answers on no proxy ({'; '.join(failures)})")]
    problems = health.node_problems(out, proxies)
    root = ET.fromstring(out)
    holders = [n.get("name") for n in root.iterfind("./resources/resource[@id='vip']/node")]
    options = root.find("./summary/cluster_options")
    stonith = options is not None and options.get("stonith-enabled") == "true"
    devices = [
        r.get("id")
        for r in root.iter("resource")
        if (r.get("resource_agent") or "").startswith("stonith:")
        and r.get("active") == "true"
        and r.get("failed") != "true"
    ]
    wanted = bool(site.proxy_setting("pacemaker_stonith_enabled"))
    lines = [
        Line(
            "pacemaker",
            not problems and len(holders) == 1,
            f"{', '.join(p for p in proxies if p not in problems)} online; "
            f"VIP on {', '.join(holders) or 'no proxy'}"
            + "".join(f"; {name} is {what}" for name, what in problems.items()),
        ),
        Line(
            "fencing",
            stonith == wanted and (not stonith or bool(devices)),
            f"STONITH {'on' if stonith else 'off'} (the site: {'on' if wanted else 'off'}), "
            f"devices: {', '.join(devices) or 'none'}",
        ),
    ]
    if site.proxy_setting("quorum_device_host"):
        _, status = hosts.run(asker, "corosync-quorumtool -s")
        members = status.split("Membership information", 1)[-1]
        cast = health.vote_cast(members, len(proxies))
        lines.append(
            Line(
                "quorum",
                cast,
                "the quorum device votes"
                if cast
                else f"the device's vote is missing: {' '.join(members.split())[-200:]}",
            )
        )
    return lines


def haproxy(site: Site, hosts: Hosts) -> list[Line]:
    webs = [w.name for w in site.hosts_in("web")]
    lines = []
    for proxy in site.hosts_in("proxy"):
        code, out = hosts.run(proxy.name, "echo 'show stat' | socat stdio /run/haproxy/admin.sock")
        if code != 0 or "pxname" not in out:
            lines.append(Line("haproxy", False, f"{proxy.name}: HAProxy's socket does not answer"))
            continue
        problems = health.backend_problems(out, webs)
        lines.append(
            Line(
                "haproxy",
                not problems,
                f"{proxy.name}: "
                + ("; ".join(f"{n} is {w}" for n, w in problems.items()) or f"{', '.join(webs)} UP"),
            )
        )
    return lines


def gluster(site: Site, hosts: Hosts) -> list[Line]:
    web = hosts.first("web")
    if web is None:
        return [Line("storage", False, "no web host answers SSH")]
    volume = site.cluster
    pool = health.brick_pool(site)
    _, out = hosts.run(web, health.gluster_retrying(f"gluster --xml volume status {volume}"))
    try:
        online = health.bricks_online(out)
    except ET.ParseError:
        online = {}
    away = [name for name in pool if online.get(name) != "1"]
    heal_code, heal = hosts.run(web, f"gluster volume heal {volume} info")
    entries = dict(zip(pool, health.heal_entries(heal), strict=False))
    split_code, split = hosts.run(web, f"gluster volume heal {volume} info split-brain")
    counts = health.split_brain_counts(split)
    split_count = sum(counts) if split_code == 0 and len(counts) == len(pool) else None
    pending = {name: entries.get(name, "?") for name in pool if entries.get(name) != "0"}
    if heal_code != 0:
        pending = {"heal info": heal.strip()[-200:] or f"failed ({heal_code})"}
    return [
        Line(
            "storage",
            not away,
            f"bricks online: {len(pool) - len(away)} of {len(pool)}"
            + (f"; away: {', '.join(away)}" if away else ""),
        ),
        Line(
            "storage", not pending, "no heal entries" if not pending else f"heal entries per brick: {pending}"
        ),
        Line(
            "storage",
            split_count == 0,
            f"{split_count} file(s) in split-brain"
            if split_count is not None
            else f"split-brain entries read from {len(counts)} of {len(pool)} bricks ({sum(counts)} there)"
            if split_code == 0
            else f"split-brain info not read: {' '.join(split.split())[-200:]}",
        ),
    ]


def raid(site: Site, hosts: Hosts) -> list[Line]:
    lines = []
    for web in site.hosts_in("web"):
        if not site.setting("raid_enabled", web):
            continue
        device = site.setting("raid_device", web)
        _, resolved = hosts.run(web.name, f"readlink -f {' '.join(web.disks)}")
        code, detail = hosts.run(web.name, f"mdadm --detail {device}")
        problems = health.array_problems(detail, resolved.split()) if code == 0 else [detail.strip()[-200:]]
        lines.append(Line("raid", not problems, f"{web.name} {device}: " + ("; ".join(problems) or "whole")))
    return lines


def certificate(site: Site, hosts: Hosts) -> list[Line]:
    asker = hosts.first("client") or hosts.first("proxy")
    if asker is None:
        return []
    port = site.proxy_setting("https_port")
    _, out = hosts.run(
        asker,
        f"echo | openssl s_client -connect {site.vip}:{port} {site.servername_option}2>/dev/null "
        "| openssl x509 -noout -enddate",
    )
    match = re.search(r"notAfter=(.+)", out)
    if not match:
        return [Line("certificate", False, f"no certificate read from {site.vip}:{port}")]
    end = datetime.strptime(match.group(1).strip(), "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)
    days = (end - datetime.now(UTC)).days
    return [
        Line("certificate", days >= CERT_DAYS_WARN, f"{days} days left (renew under {CERT_DAYS_WARN})"),
        *acme_renewals(site, hosts),
    ]


def acme_renewals(site: Site, hosts: Hosts) -> list[Line]:
    """With ACME: each proxy's last run of hastack-acme (its state file), a failure not ok."""
    if not site.proxy_setting("tls_acme_directory"):
        return []
    from hastack.components.acme import STATE

    lines = []
    for proxy in site.hosts_in("proxy"):
        code, out = hosts.run(proxy.name, f"cat {STATE}")
        words = out.strip().split(" ", 2) if code == 0 else []
        if not words:
            lines.append(Line("certificate", False, f"{proxy.name}: no ACME renewal yet ({STATE})"))
            continue
        detail = f"{proxy.name}: ACME {words[0]} at {' '.join(words[1:])}"[:200]
        lines.append(Line("certificate", words[0] == "ok", detail))
    return lines


def monitoring(site: Site, hosts: Hosts) -> list[Line]:
    if not site.setting("monitoring_enabled"):
        return []
    holders = topology.vip_holders(site, lambda name: hosts.run(name, topology.ADDRESSES_COMMAND)[1])
    if not holders:
        return [Line("monitoring", False, "no proxy holds the VIP: Cacti runs on its holder")]
    code, out = hosts.run(holders[0], health.CACTI_CONFIG)
    if code != 0 or len(out.split()) != 2:
        return [Line("monitoring", False, f"Cacti's settings not read on {holders[0]}")]
    interval, rra = out.split()
    # the folder is a link (Debian: /usr/share/cacti/site/rra -> /var/lib/cacti/rra): find it with "/"
    _, newest = hosts.run(holders[0], f"find {rra}/ -name '*.rrd' -printf '%T@\\n' | sort -n | tail -1")
    if not newest.strip():
        return [Line("monitoring", False, f"no RRD in {rra} on {holders[0]}")]
    age = time.time() - float(newest.strip())
    late = age > MONITORING_POLLS_LATE * int(interval)
    return [Line("monitoring", not late, f"Cacti's newest data {age:.0f} s old (polls every {interval} s)")]


AREAS: list[Callable[[Site, Hosts], list[Line]]] = [
    reachable,
    shop,
    pacemaker,
    haproxy,
    gluster,
    raid,
    certificate,
    monitoring,
]


def read(area: Callable[[Site, Hosts], list[Line]], site: Site, hosts: Hosts) -> list[Line]:
    """One area's lines; an answer it cannot read is a line that says so, not a crash."""
    try:
        return area(site, hosts)
    except Exception as error:  # noqa: BLE001 - any unreadable answer
        return [Line(area.__name__, False, f"not read: {type(error).__name__}: {str(error)[:200]}")]


def gather(site: Site) -> list[Line]:
    hosts = Hosts(site)
    try:
        with ThreadPoolExecutor(max_workers=len(site.hosts)) as pool:
            list(pool.map(hosts.connect, site.hosts))
        with ThreadPoolExecutor(max_workers=len(AREAS)) as pool:
            found = list(pool.map(lambda area: read(area, site, hosts), AREAS))
    finally:
        hosts.close()
    return [line for lines in found for line in lines]


def exit_code(lines: list[Line]) -> int:
    if any(line.down for line in lines):
        return 2
    return 0 if all(line.ok for line in lines) else 1


def render(site: Site, lines: list[Line], seconds: float) -> str:
    state = {0: "healthy", 1: "DEGRADED", 2: "DOWN"}[exit_code(lines)]
    out = [f"{site.source} (cluster {site.cluster}): {state}, read in {seconds:.1f} s"]
    out += [f"  {'ok' if line.ok else '!!'}  {line.area:<12} {line.detail}" for line in lines]
    return "\n".join(out)


def run_status(site: Site, as_json: bool = False) -> int:
    started = time.monotonic()
    lines = gather(site)
    seconds = time.monotonic() - started
    if as_json:
        state = {0: "healthy", 1: "degraded", 2: "down"}[exit_code(lines)]
        print(
            json.dumps(
                {
                    "site": site.source,
                    "state": state,
                    "seconds": round(seconds, 1),
                    "lines": [asdict(x) for x in lines],
                }
            )
        )
    else:
        print(render(site, lines, seconds))
    return exit_code(lines)
