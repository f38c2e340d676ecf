"""No false failover under load: the seed's heaviest load through the VIP for a while, then
the same with the active proxy's CPU saturated.

Each phase runs ``ab -c 240`` (a new TLS connection per request, the seed's heaviest
row) from the client through the VIP in a loop for ``seconds``, while this machine
looks at which proxy holds the VIP every second. The second phase also runs busy
processes on the proxy holding the VIP, one per CPU, each ended by its own
``timeout``. A phase holds when the VIP never moved, no resource gained a fail count and
no request failed. A change of the cluster's membership (Corosync's ring id: a proxy was
taken for dead a moment and rejoined) is shown, not failed: without fencing it moves
nothing; with STONITH on it would fence that proxy (see corosync_token_ms).
Fail counts are read every second with the VIP (a failure expires after
pacemaker_failure_timeout: one read at the end could miss it). Prints a table.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from hastack import topology
from hastack.bench import parse_ab
from hastack.site import Site
from hastack.snmp_probe import saturate
from hastack.ssh import SshRunner

CONCURRENCY = 240
MARK = "=== hastack soak: one ab run ==="


@dataclass
class Phase:
    name: str
    seconds: float
    requests: int = 0
    failed: int = 0
    holders: list[str] = field(default_factory=list)
    failcounts_gained: dict[str, int] = field(default_factory=dict)
    ring_before: str = ""
    ring_after: str = ""

    @property
    def vip_moves(self) -> int:
        pairs = zip(self.holders, self.holders[1:], strict=False)
        return sum(1 for before, after in pairs if before != after)

    @property
    def held(self) -> bool:
        return self.failed == 0 and self.vip_moves == 0 and all(self.holders) and not self.failcounts_gained

    def row(self) -> str:
        gained = ", ".join(f"{name} +{count}" for name, count in sorted(self.failcounts_gained.items()))
        seen = sorted({holder or "none" for holder in self.holders})
        cells = [
            self.name,
            f"{self.seconds:.0f}",
            self.requests,
            self.failed,
            "/".join(seen),
            self.vip_moves,
            gained or "none",
            "no" if self.ring_before == self.ring_after else f"{self.ring_before} -> {self.ring_after}",
            "yes" if self.held else "NO",
        ]
        return "| " + " | ".join(str(cell) for cell in cells) + " |"


def failcounts(cib_status: str) -> dict[str, int]:
    """Fail counts by node and resource operation, from ``cibadmin --query --scope status``."""
    counts: dict[str, int] = {}
    for node, body in re.findall(r'<node_state [^>]*uname="([^"]+)"(.*?)</node_state>', cib_status, re.S):
        for name, value in re.findall(r'name="fail-count-([^"]+)" value="([^"]+)"', body):
            counts[f"{node} {name}"] = 1_000_000 if value == "INFINITY" else int(value)
    return counts


def ring_id(quorumtool: str) -> str:
    """Corosync's ring id from ``corosync-quorumtool -s``: it changes with every membership change."""
    match = re.search(r"Ring ID:\s+(\S+)", quorumtool)
    if match is None:
        raise ValueError(f"corosync-quorumtool printed no ring id: {quorumtool[-300:]}")
    return match.group(1)


def ab_totals(output: str) -> tuple[int, int]:
    """(requests, failed) over every ab run of a phase (a run that printed no figures: failed)."""
    requests = failed = 0
    for chunk in output.split(MARK)[1:]:
        try:
            run = parse_ab(chunk, "soak", CONCURRENCY)
        except ValueError:
            failed += 1
            continue
        requests += run.requests
        failed += run.failed + run.non_2xx
    return requests, failed


class Soak:
    def __init__(self, site: Site, seconds: float) -> None:
        self.site = site
        self.seconds = seconds
        self.remotes: dict[str, SshRunner] = {}

    def remote(self, name: str) -> SshRunner:
        if name not in self.remotes:
            self.remotes[name] = SshRunner.to_host(self.site, name)
        return self.remotes[name]

    def holder(self) -> str:
        """The proxy holding the VIP now ("" when none answers with it)."""
        holders = topology.vip_holders(
            self.site, lambda name: self.remote(name).run(topology.ADDRESSES_COMMAND)[1]
        )
        return holders[0] if holders else ""

    def cluster(self) -> tuple[str, dict[str, int]]:
        proxy = self.site.hosts_in("proxy")[0].name
        ring = ring_id(self.remote(proxy).run("corosync-quorumtool -s")[1])
        return ring, failcounts(self.remote(proxy).run("cibadmin --query --scope status")[1])

    def phase(self, name: str, busy_on: str | None = None) -> Phase:
        client = self.site.hosts_in("client")[0].name
        result = Phase(name, self.seconds)
        result.ring_before, counts_before = self.cluster()
        seconds = int(self.seconds)
        url = self.site.ab_target()
        loop = (
            f"end=$(( $(date +%s) + {seconds} )); while [ $(date +%s) -lt $end ]; do "
            f"echo '{MARK}'; ab -q -r -c {CONCURRENCY} -n {CONCURRENCY * 40} -s 5 {url} 2>&1; done"
        )
        if busy_on:
            # One busy process per CPU, each ended by its own timeout (nothing is killed).
            saturate(self.remote(busy_on), seconds)
        _, stdout, _ = self.remote(client).client.exec_command(loop, timeout=seconds + 120)
        started = time.monotonic()
        highest = dict(counts_before)
        while time.monotonic() - started < seconds:
            result.holders.append(self.holder())
            for key, count in self.cluster()[1].items():
                highest[key] = max(count, highest.get(key, 0))
            time.sleep(1)
        output = stdout.read().decode(errors="replace")
        result.requests, result.failed = ab_totals(output)
        result.ring_after, counts_after = self.cluster()
        for key, count in counts_after.items():
            highest[key] = max(count, highest.get(key, 0))
        result.failcounts_gained = {
            key: count - counts_before.get(key, 0)
            for key, count in highest.items()
            if count > counts_before.get(key, 0)
        }
        if busy_on:
            # Let the busy processes end (their timeout) before anything else runs.
            self.remote(busy_on).run("sleep 3")
        return result

    def close(self) -> None:
        for remote in self.remotes.values():
            remote.close()


def table(phases: list[Phase]) -> str:
    return "\n".join(
        [
            "| phase | seconds | requests | failed | VIP on | VIP moves | fail counts gained "
            "| membership changed | held |",
            "|---|---|---|---|---|---|---|---|---|",
            *[phase.row() for phase in phases],
        ]
    )


def run_soak(site: Site, seconds: float, say=print) -> list[Phase]:
    soak = Soak(site, seconds)
    try:
        phases = []
        say(f"[soak] ab -c {CONCURRENCY} through the VIP for {seconds:.0f} s")
        phases.append(soak.phase(f"ab -c {CONCURRENCY}"))
        active = soak.holder()
        say(f"[soak] the same with {active}'s CPU saturated (one busy process per CPU)")
        phases.append(soak.phase(f"ab -c {CONCURRENCY}, {active}'s CPU saturated", busy_on=active))
        return phases
    finally:
        soak.close()
