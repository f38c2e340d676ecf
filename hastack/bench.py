"""The seed's load table, reproduced: ApacheBench from the client through the VIP.

Runs ``ab -n N -c C`` for each concurrency through the VIP over HTTPS (a new TLS
connection per request, and keep-alive) and over plain HTTP (which answers 301 to
HTTPS, as the seed's shop did), so that TLS's cost shows as a ratio; with both web
hosts serving and with one (NGINX stopped on the last web host, then started
again); and directly against one web host (from the standby proxy: in the lab
only the proxies reach the back network) so that the proxy's cost shows too.
Prints a markdown table and writes a PNG chart.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from hastack import topology
from hastack.site import Site
from hastack.ssh import SshRunner

CONCURRENCY = (30, 60, 120, 240)
# Plain HTTP through the VIP: every answer is the 301 to HTTPS.
HTTP_SCENARIO = "VIP, HTTP 301"

AB_FIELDS = {
    "rps": r"Requests per second:\s+([\d.]+)",
    "mean_ms": r"Time per request:\s+([\d.]+) \[ms\] \(mean\)",
    "failed": r"Failed requests:\s+(\d+)",
    "complete": r"Complete requests:\s+(\d+)",
}


@dataclass
class Run:
    scenario: str
    concurrency: int
    requests: int
    rps: float
    mean_ms: float
    p50_ms: float
    p99_ms: float
    failed: int
    non_2xx: int

    @property
    def ok(self) -> bool:
        """No failed request, and every answer 2xx (or, for plain HTTP, every one the 301)."""
        wanted_non_2xx = self.requests if self.scenario == HTTP_SCENARIO else 0
        return self.failed == 0 and self.non_2xx == wanted_non_2xx

    def row(self) -> str:
        cells = [
            self.scenario,
            self.concurrency,
            self.requests,
            f"{self.rps:.0f}",
            f"{self.mean_ms:.1f}",
            f"{self.p50_ms:.0f}",
            f"{self.p99_ms:.0f}",
            self.failed,
            self.non_2xx,
        ]
        return "| " + " | ".join(str(cell) for cell in cells) + " |"


def parse_ab(output: str, scenario: str, concurrency: int) -> Run:
    """The figures of one ``ab`` run, from its text output."""
    values = {}
    for key, pattern in AB_FIELDS.items():
        match = re.search(pattern, output)
        if match is None:
            raise ValueError(f"ab printed no '{key}': {output[-500:]}")
        values[key] = float(match.group(1))
    percent = dict(re.findall(r"^\s+(\d+)%\s+(\d+)", output, re.M))
    non_2xx = re.search(r"Non-2xx responses:\s+(\d+)", output)
    return Run(
        scenario=scenario,
        concurrency=concurrency,
        requests=int(values["complete"]),
        rps=values["rps"],
        mean_ms=values["mean_ms"],
        p50_ms=float(percent["50"]),
        p99_ms=float(percent["99"]),
        failed=int(values["failed"]),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def vip_holder(site: Site, remotes: dict[str, SshRunner]) -> str:
    for name in topology.vip_holders(site, lambda name: remotes[name].run(topology.ADDRESSES_COMMAND)[1]):
        return name
    raise RuntimeError("no proxy holds the VIP: deploy the cluster first")


def ab(
    remote: SshRunner, url: str, scenario: str, concurrency: int, requests: int, keepalive: bool = False
) -> Run:
    """One ab run: a new connection (and TLS handshake) per request, or keep-alive (-k)."""
    code, output = remote.run(f"ab -q {'-k ' if keepalive else ''}-n {requests} -c {concurrency} -s 30 {url}")
    if code != 0:
        raise RuntimeError(f"ab failed ({scenario}, c={concurrency}): {output[-800:]}")
    return parse_ab(output, scenario, concurrency)


def wait_until_healthy(remote: SshRunner, url: str, limit: float = 60) -> None:
    """Wait until a web host's /healthz answers, then for HAProxy's rise checks (2 x 1 s)."""
    deadline = time.monotonic() + limit
    while remote.run(f"curl -fsS -o /dev/null {url}")[0] != 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {limit:.0f} s")
        time.sleep(1)
    time.sleep(3)


def run_bench(site: Site, requests: int, concurrency: tuple[int, ...] = CONCURRENCY, say=print) -> list[Run]:
    names = [h.name for h in site.hosts.values()]
    remotes = {name: SshRunner.to_host(site, name) for name in names}
    try:
        client = next(h.name for h in site.hosts_in("client"))
        active = vip_holder(site, remotes)
        standby = next(p.name for p in site.hosts_in("proxy") if p.name != active)
        webs = site.hosts_in("web")
        vip_url, http_url = site.ab_target(), site.ab_target(scheme="http")
        direct_url = f"http://{webs[0].addresses['back']}:{site.setting('web_port', webs[0])}/"
        runs: list[Run] = []
        for c in concurrency:
            say(f"[bench] through the VIP, both web hosts, c={c}: HTTPS, HTTPS keep-alive, plain HTTP (301)")
            runs.append(ab(remotes[client], vip_url, "VIP, 2 web hosts", c, requests))
            runs.append(ab(remotes[client], vip_url, "VIP, keep-alive", c, requests, keepalive=True))
            runs.append(ab(remotes[client], http_url, HTTP_SCENARIO, c, requests))
        last_web = webs[-1].name
        say(f"[bench] stopping NGINX on {last_web}")
        remotes[last_web].run("docker stop hastack-web")
        try:
            time.sleep(4)  # HAProxy's checks (1 s, fall 2) take it out
            for c in concurrency:
                say(f"[bench] through the VIP, one web host, c={c}")
                runs.append(ab(remotes[client], vip_url, "VIP, 1 web host", c, requests))
        finally:
            remotes[last_web].run("docker start hastack-web")
            wait_until_healthy(remotes[last_web], "http://127.0.0.1/healthz")
        for c in concurrency:
            say(f"[bench] directly to {webs[0].name} from {standby}, c={c}")
            runs.append(ab(remotes[standby], direct_url, f"direct to {webs[0].name}", c, requests))
            say(f"[bench] through the VIP from {standby}, c={c}")
            runs.append(ab(remotes[standby], vip_url, f"VIP from {standby}", c, requests))
        return runs
    finally:
        for remote in remotes.values():
            remote.close()


def table(runs: list[Run]) -> str:
    lines = [
        "| scenario | concurrency | requests | req/s | mean ms | p50 ms | p99 ms | failed | non-2xx |",
        "|---|---|---|---|---|---|---|---|---|",
        *[run.row() for run in runs],
    ]
    direct = {run.concurrency: run for run in runs if run.scenario.startswith("direct")}
    via = {run.concurrency: run for run in runs if run.scenario.startswith("VIP from")}
    if direct and via:
        lines += [
            "",
            "| concurrency | VIP (HTTPS) req/s ÷ direct (HTTP) req/s, same source host |",
            "|---|---|",
        ]
        lines += [f"| {c} | {via[c].rps / direct[c].rps:.2f} |" for c in sorted(direct) if c in via]
    https = {run.concurrency: run for run in runs if run.scenario == "VIP, 2 web hosts"}
    kept = {run.concurrency: run for run in runs if run.scenario == "VIP, keep-alive"}
    plain = {run.concurrency: run for run in runs if run.scenario == HTTP_SCENARIO}
    if plain and https:
        lines += [
            "",
            "| concurrency | HTTPS ÷ HTTP req/s (new TLS connection each) | HTTPS keep-alive ÷ HTTP req/s |",
            "|---|---|---|",
        ]
        lines += [
            f"| {c} | {https[c].rps / plain[c].rps:.2f} | {kept[c].rps / plain[c].rps:.2f} |"
            if c in kept
            else f"| {c} | {https[c].rps / plain[c].rps:.2f} | - |"
            for c in sorted(plain)
            if c in https
        ]
    return "\n".join(lines)


def chart(runs: list[Run], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(11, 4.2))
    for scenario in dict.fromkeys(run.scenario for run in runs):
        points = [run for run in runs if run.scenario == scenario]
        xs = [run.concurrency for run in points]
        throughput.plot(xs, [run.rps for run in points], marker="o", label=scenario)
        latency.plot(xs, [run.p99_ms for run in points], marker="o", label=scenario)
    throughput.set(xlabel="concurrency", ylabel="requests per second", title="Throughput")
    latency.set(xlabel="concurrency", ylabel="p99 latency (ms)", title="p99 latency")
    for axis in (throughput, latency):
        axis.set_ylim(bottom=0)
        axis.set_xscale("log", base=2)
        axis.set_xticks(
            sorted({run.concurrency for run in runs}), labels=sorted({run.concurrency for run in runs})
        )
        axis.grid(alpha=0.3)
    throughput.legend(fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
