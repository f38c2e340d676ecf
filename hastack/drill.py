"""``hastack drill``: failures injected while the client streams requests through the VIP.

Each drill reports the seconds without service (the longest run of failed
requests), the requests that failed out of those sent, and whether data was
lost; after each one the cluster must be whole again (checked) before the next.

In the lab a host "dies" by ``docker kill``. Only the lab is supported for
now: on real servers the safe equivalent (power off through a fence device)
is not built yet, and the command refuses any other site.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from dataclasses import dataclass

from hastack import lab
from hastack.bench import Remote
from hastack.site import Site

# Runs on the client: GET the URL every 50 ms for the given seconds, one JSON
# line per request (time, status), 1 s timeout each. Bounded in count and time.
STREAM = """
import json, sys, time, urllib.request
url, seconds = sys.argv[1], float(sys.argv[2])
end = time.time() + seconds
while time.time() < end:
    started = time.time()
    try:
        status = urllib.request.urlopen(url, timeout=1).status
    except Exception:
        status = 0
    print(json.dumps([started, status]), flush=True)
    time.sleep(max(0, 0.05 - (time.time() - started)))
"""


@dataclass
class Result:
    name: str
    sent: int
    failed: int
    outage_s: float
    data_lost: str
    note: str = ""

    def row(self) -> str:
        cells = [self.name, self.sent, self.failed, f"{self.outage_s:.1f}", self.data_lost, self.note]
        return "| " + " | ".join(str(cell) for cell in cells) + " |"


def outage(samples: list[tuple[float, int]]) -> float:
    """The longest stretch of time from a failed request to the next good one."""
    longest, down_since = 0.0, None
    for started, status in samples:
        if status != 200 and down_since is None:
            down_since = started
        elif status == 200 and down_since is not None:
            longest = max(longest, started - down_since)
            down_since = None
    if down_since is not None and samples:
        longest = max(longest, samples[-1][0] - down_since)
    return longest


class Drills:
    def __init__(self, site: Site, seconds: float = 40):
        self.site = site
        self.seconds = seconds
        self.remotes: dict[str, Remote] = {}

    def remote(self, name: str, fresh: bool = False) -> Remote:
        if fresh or name not in self.remotes:
            if name in self.remotes:
                self.remotes[name].close()
            self.remotes[name] = Remote(self.site, name)
        return self.remotes[name]

    def vip_holders(self) -> list[str]:
        return [
            proxy.name
            for proxy in self.site.hosts_in("proxy")
            if f" {self.site.vip}/" in self.remote(proxy.name, fresh=True).run("ip -4 -o addr show")[1]
        ]

    def vip_holder(self) -> str:
        holders = self.vip_holders()
        if len(holders) != 1:
            raise RuntimeError(f"the VIP should be on exactly one proxy, it is on {holders}")
        return holders[0]

    def stream(self, action) -> list[tuple[float, int]]:
        """Stream from the client for ``seconds``, running ``action`` 5 s in."""
        client = next(h.name for h in self.site.hosts_in("client"))
        script = STREAM.replace("'", "'\"'\"'")
        command = f"python3 -c '{script}' http://{self.site.vip}/ {self.seconds}"
        runner = subprocess.Popen(
            [
                "ssh",
                "-i",
                str(lab.KEY_FILE),
                "-o",
                f"UserKnownHostsFile={lab.KNOWN_HOSTS}",
                "-o",
                "StrictHostKeyChecking=accept-new",
                "-o",
                "BatchMode=yes",
                f"root@{self.site.hosts[client].connect_address}",
                command,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        time.sleep(5)
        action()
        output, _ = runner.communicate(timeout=self.seconds + 60)
        return [tuple(json.loads(line)) for line in output.splitlines() if line.startswith("[")]

    def healthy(self, limit: float = 180) -> None:
        """Full health: every host up, both proxies online, both web hosts serving, no heal pending."""
        lab.up()
        deadline = time.monotonic() + limit
        proxies = sorted(p.name for p in self.site.hosts_in("proxy"))
        webs = [w.name for w in self.site.hosts_in("web")]
        while time.monotonic() < deadline:
            online = (
                f"Online: [ {' '.join(proxies)} ]" in self.remote(proxies[0], fresh=True).run("crm_mon -1")[1]
            )
            serving = all(
                self.remote(web, fresh=True).run("curl -fsS -o /dev/null http://127.0.0.1/healthz")[0] == 0
                for web in webs
            )
            heal = self.remote(webs[0]).run(f"gluster volume heal {self.site.cluster} info summary")[1]
            healed = "Total Number of entries: 0" in heal and "Connected" in heal
            if online and serving and healed and len(self.vip_holders()) == 1:
                return
            time.sleep(3)
        raise RuntimeError("the cluster did not come back to full health")

    def result(self, name: str, samples, data_lost="no", note="") -> Result:
        failed = sum(1 for _, status in samples if status != 200)
        return Result(name, len(samples), failed, outage(samples), data_lost, note)

    # --- the drills ---------------------------------------------------------------

    def proxy_dies(self) -> Result:
        active = self.vip_holder()
        samples = self.stream(lambda: lab.docker("kill", f"{lab.PREFIX}-{active}"))
        self.healthy()
        return self.result("active proxy dies", samples, note=f"{active} killed; VIP on {self.vip_holder()}")

    def haproxy_dies(self) -> Result:
        active = self.vip_holder()
        samples = self.stream(lambda: self.remote(active).run("systemctl kill -s KILL haproxy"))
        self.healthy()
        return self.result("haproxy dies", samples, note=f"on {active}")

    def web_dies(self) -> Result:
        victim = self.site.hosts_in("web")[-1].name

        def kill_and_return() -> None:
            lab.docker("kill", f"{lab.PREFIX}-{victim}")
            time.sleep(10)
            lab.up()

        samples = self.stream(kill_and_return)
        self.healthy()
        return self.result("web host dies and returns", samples, note=f"{victim} away 10 s")

    def gluster_peer_away(self) -> Result:
        webs = [w.name for w in self.site.hosts_in("web")]
        survivor, victim = webs[0], webs[-1]
        folder = f"/cluster/.drill-{uuid.uuid4().hex[:8]}"
        self.remote(survivor).run(f"mkdir -p {folder}")

        def write_while_away() -> None:
            lab.docker("kill", f"{lab.PREFIX}-{victim}")
            self.remote(survivor).run(
                f"for i in $(seq 50); do head -c 32768 /dev/urandom > {folder}/f$i; done", timeout=120
            )
            lab.up()

        samples = self.stream(write_while_away)
        self.healthy()
        brick = f"{self.brick_root()}/brick{folder[len('/cluster') :]}"
        sums = {
            web: self.remote(web, fresh=True).run(f"cd {brick} && sha256sum f* | sort")[1] for web in webs
        }
        self.remote(survivor).run(f"rm -rf {folder}")
        lost = "no" if sums[survivor] == sums[victim] and sums[survivor].count("\n") == 50 else "YES"
        return self.result(
            "GlusterFS peer away during writes",
            samples,
            data_lost=lost,
            note="50 files written on the survivor; bricks compared by sha256",
        )

    def brick_root(self) -> str:
        return self.site.data.get("gluster_brick_root", "/raid1")

    def close(self) -> None:
        for remote in self.remotes.values():
            remote.close()


DRILLS = {
    "proxy": Drills.proxy_dies,
    "haproxy": Drills.haproxy_dies,
    "web": Drills.web_dies,
    "gluster": Drills.gluster_peer_away,
}


def table(results: list[Result]) -> str:
    lines = [
        "| drill | requests sent | failed | seconds without service | data lost | note |",
        "|---|---|---|---|---|---|",
        *[result.row() for result in results],
    ]
    return "\n".join(lines)


def run_drills(site: Site, names: list[str], seconds: float, say=print) -> list[Result]:
    if site.source != str(lab.SITE_FILE):
        raise RuntimeError(
            "drills run against the lab only for now (hastack lab up); real servers are not built"
        )
    drills = Drills(site, seconds)
    try:
        drills.healthy()
        results = []
        for name in names:
            say(f"[drill] {name}")
            results.append(DRILLS[name](drills))
        return results
    finally:
        drills.close()
