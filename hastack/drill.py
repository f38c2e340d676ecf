"""``hastack drill``: failures injected while the client streams requests through the VIP.

Each drill reports the seconds without service (the longest run of failed
requests), the requests that failed out of those sent, and whether data was
lost; after each one the cluster must be whole again (checked) before the next.

A host "dies" by ``docker kill`` in the lab and returns by ``hastack lab
up``. On real servers it is rebooted at once, with no clean shutdown
(``systemctl reboot --force --force``: what a reset button does, minus the
disks' caches), and returns by itself; the drills then wait for it. A RAID
disk "fails" by ``mdadm --fail`` (software: the disk itself is fine) and is
re-added, on the first web host with RAID, or in the lab in the RAID VM.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from hastack import lab, topology
from hastack.site import Site
from hastack.soak import ring_id
from hastack.ssh import SshRunner
from hastack.timings import predicted_gap_s, stall_tolerance_ms

# Runs on the client: an open-loop stream. Requests start on a fixed schedule (``rate`` a
# second, whatever the answers do), each on a new connection (closed after its answer) with a
# 1 s timeout, each in a thread of its own; one JSON line per request: [start, status, end]
# (status 0: no HTTP answer within the timeout). A tool that retries or waits for the
# previous answer would hide the outage it is meant to measure. Bounded in count and time;
# with a fourth argument, it also stops once that file exists. With a fifth, every connection
# goes to that address (the VIP) whatever the URL's name resolves to: TLS SNI, the
# certificate's check (the system's CAs) and the Host header stay the name (Site.shop_name).
STREAM = """
import http.client, json, os, socket, ssl, sys, threading, time, urllib.parse
url, seconds, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
stop = sys.argv[4] if len(sys.argv) > 4 else ""
address = sys.argv[5] if len(sys.argv) > 5 else ""
parts = urllib.parse.urlsplit(url)
target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
context = ssl.create_default_context()
out = threading.Lock()
def one(start):
    try:
        if parts.scheme == "https":
            c = http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=1, context=context)
        else:
            c = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=1)
        if address:
            c._create_connection = lambda where, wait, source=None: socket.create_connection(
                (address, where[1]), wait, source)
        try:
            c.request("GET", target)
            response = c.getresponse()
            response.read()
            status = response.status
        finally:
            c.close()
    except Exception:
        status = 0
    with out:
        print(json.dumps([start, status, time.time()]), flush=True)
begin, number = time.time(), 0
while number < seconds * rate and not (stop and os.path.exists(stop)):
    time.sleep(max(0, begin + number / rate - time.time()))
    threading.Thread(target=one, args=(time.time(),)).start()
    number += 1
"""

# Runs on a RAID host: write a 64 KiB file of random bytes every 50 ms for the
# given seconds, each synced to disk; one JSON line per write (time, 200 or 0,
# sha256 of what was written), then "done".
RAID_WRITER = """
import hashlib, json, os, sys, time
folder, seconds = sys.argv[1], float(sys.argv[2])
os.makedirs(folder, exist_ok=True)
end, number = time.time() + seconds, 0
while time.time() < end:
    started, number = time.time(), number + 1
    data = os.urandom(65536)
    try:
        with open(os.path.join(folder, "f%05d" % number), "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        status = 200
    except OSError:
        status = 0
    print(json.dumps([started, status, hashlib.sha256(data).hexdigest()]), flush=True)
    time.sleep(max(0, 0.05 - (time.time() - started)))
print("done", flush=True)
"""


# Runs on a proxy: whether it holds the VIP, about every 60 ms for the given seconds, one
# "time 1|0" line a sample (bash and ip only: a proxy needs no Python). Two processes a sample,
# ip and sleep: the clock and the loop are bash's own ($EPOCHREALTIME, $SECONDS). With date
# twice and ip piped into grep, five, a busy lab's CI run (2026-12-06) spaced them 205 ms apart
# at the 99th percentile, over HOLDER_SAMPLE_LIMIT_S.
HOLDER_SAMPLER = (
    'end=$((SECONDS + {seconds})); while [ "$SECONDS" -lt "$end" ]; do t=$EPOCHREALTIME; '
    'if [ -n "$(ip -o -4 addr show to {vip}/32)" ]; then echo "$t 1"; else echo "$t 0"; fi; '
    "sleep 0.05; done"
)

# Runs on the client: who answers ARP for the VIP, as the shop's neighbours see it. Every 200
# ms a broadcast request on the interface that reaches the VIP, and every MAC that answers
# within 150 ms: one JSON line a round, [time, [MACs]]. Two MACs in a round: two holders.
ARP_PROBE = """
import fcntl, json, socket, struct, sys, time
iface, vip, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
raw.bind((iface, 0))
mine = raw.getsockname()[4][:6]
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ip = fcntl.ioctl(udp.fileno(), 0x8915, struct.pack("256s", iface.encode()[:15]))[20:24]
target = socket.inet_aton(vip)
request = (b"\\xff" * 6 + mine + b"\\x08\\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
           + mine + ip + b"\\x00" * 6 + target)
raw.settimeout(0.02)
end = time.time() + seconds
while time.time() < end:
    start, macs = time.time(), set()
    raw.send(request)
    while time.time() < start + 0.15:
        try:
            frame = raw.recv(128)
        except socket.timeout:
            continue
        if frame[12:14] == b"\\x08\\x06" and frame[20:22] == b"\\x00\\x02" and frame[28:32] == target:
            macs.add(frame[22:28].hex(":"))
    print(json.dumps([start, sorted(macs)]), flush=True)
    time.sleep(max(0, start + 0.2 - time.time()))
"""

# The client's ARP rounds for the VIP (partition, isolate): the MACs that answer each.
ARP_LOG = "/tmp/hastack-drill-arp.log"

# The partition: Corosync's links (UDP) to and from the other proxies dropped, in a table of
# its own, removed by a timer on the host itself should the drill not come back to heal it.
CUT_TABLE = "hastack_drill_cut"
CUT = """table inet {table} {{
    chain in {{
        type filter hook input priority -200; policy accept;
        meta l4proto udp ip saddr {{ {peers} }} drop;
    }}
    chain out {{
        type filter hook output priority -200; policy accept;
        meta l4proto udp ip daddr {{ {peers} }} drop;
    }}
}}
"""

# A proxy gone silent (a power loss, a dead NIC, a hung VM): everything in and out dropped but
# loopback, ARP too (an inet table does not see it: the silent proxy went on answering ARP for
# the VIP), in tables of their own that timers on the host put in and take out (no SSH
# reaches it meanwhile).
ISOLATE_TABLE = "hastack_drill_isolate"
ISOLATE = """table inet {table} {{
    chain in {{
        type filter hook input priority -300; policy drop;
        iif lo accept;
    }}
    chain out {{
        type filter hook output priority -300; policy drop;
        oif lo accept;
    }}
}}
table arp {table} {{
    chain in {{
        type filter hook input priority -300; policy drop;
    }}
    chain out {{
        type filter hook output priority -300; policy drop;
    }}
}}
"""

# Loss on Corosync's links: this share of its UDP packets, in and out, dropped at random
# (nftables' numgen: this machine's kernel has no netem), in a table of its own.
LOSS_TABLE = "hastack_drill_loss"
LOSS = """table inet {table} {{
    chain in {{
        type filter hook input priority -200; policy accept;
        meta l4proto udp ip saddr {{ {peers} }} numgen random mod 100 < {percent} drop;
    }}
    chain out {{
        type filter hook output priority -200; policy accept;
        meta l4proto udp ip daddr {{ {peers} }} numgen random mod 100 < {percent} drop;
    }}
}}
"""
LOSSES_PERCENT = (5, 10)

# A web host that stops accepting connections (its SYNs dropped) for a moment: a full accept
# queue, a stalled VM. In a table of its own on that host.
SYN_TABLE = "hastack_drill_syn"
SYN_DROP = """table inet {table} {{
    chain in {{
        type filter hook input priority -200; policy accept;
        tcp dport {port} tcp flags & (syn | ack) == syn drop;
    }}
}}
"""


def python_command(script: str, *args: str) -> str:
    return f"python3 -c {shlex.quote(script)} {' '.join(shlex.quote(arg) for arg in args)}"


def gap_goal_s(token_ms: int, was_dc: bool) -> float:
    """The `proxy` drill's goal: the gap the token predicts, at most GAP_GOAL_S, and
    DC_ELECTION_S more when the proxy that died was the DC."""
    return min(GAP_GOAL_S, predicted_gap_s(token_ms)) + (DC_ELECTION_S if was_dc else 0.0)


@dataclass
class Result:
    name: str
    sent: int
    failed: int
    outage_s: float
    data_lost: str
    note: str = ""
    # Requests in flight (started, not answered) when the failure was injected.
    in_flight: int | None = None
    # The goal this drill is held to ("" when none), and whether it was met.
    goal: str = ""
    met: bool = True
    # Memberships Corosync formed during the drill (the loss drill's count), when counted.
    memberships: int | None = None
    # The web-stall drill's: the web hosts HAProxy marked down, and the answers that were a 5xx.
    marked_down: list[str] | None = None
    five_xx: int | None = None

    def row(self) -> str:
        flying = "-" if self.in_flight is None else self.in_flight
        verdict = f"{'met' if self.met else 'MISSED'}: {self.goal}" if self.goal else "-"
        cells = [
            self.name,
            self.sent,
            self.failed,
            flying,
            f"{self.outage_s:.2f}",
            self.data_lost,
            verdict,
            self.note,
        ]
        return "| " + " | ".join(str(cell) for cell in cells) + " |"


def in_flight(samples: list[tuple], moment: float) -> int:
    """Requests started before ``moment`` and not answered by then (samples with an end)."""
    return sum(1 for sample in samples if len(sample) > 2 and sample[0] <= moment < sample[2])


def outage(samples: list[tuple]) -> float:
    """The longest stretch of time from a failed request to the next good one (by start)."""
    longest, down_since = 0.0, None
    for started, status, *_ in sorted(samples):
        if status != 200 and down_since is None:
            down_since = started
        elif status == 200 and down_since is not None:
            longest = max(longest, started - down_since)
            down_since = None
    if down_since is not None and samples:
        longest = max(longest, samples[-1][0] - down_since)
    return longest


def failures(samples: list[tuple], moment: float | None) -> str:
    """The failed requests by answer (0: none within the timeout) and when they started,
    in seconds from ``moment`` (the injection): what a missed goal is read from."""
    failed = [(started, status) for started, status, *_ in samples if status != 200]
    if not failed:
        return ""
    kinds: dict[int, int] = {}
    for _, status in failed:
        kinds[status] = kinds.get(status, 0) + 1
    said = ", ".join(
        f"{count} {'timeouts' if status == 0 else status}" for status, count in sorted(kinds.items())
    )
    base = moment if moment is not None else samples[0][0]
    return f"failed: {said}, started {failed[0][0] - base:+.1f} s to {failed[-1][0] - base:+.1f} s"


def two_holders(samples: dict[str, list[tuple[float, int]]], fresh: float = 0.5) -> list[float]:
    """The moments (any proxy's sample) at which two or more proxies held the VIP: each proxy's
    latest sample at that moment, if no older than ``fresh`` seconds, says whether it held it."""
    moments = sorted({moment for series in samples.values() for moment, _ in series})
    found = []
    for moment in moments:
        holding = 0
        for series in samples.values():
            latest = [held for when, held in series if moment - fresh <= when <= moment]
            holding += bool(latest and latest[-1])
        if holding >= 2:
            found.append(moment)
    return found


def parse_holder_samples(output: str) -> list[tuple[float, int]]:
    """(time, 1|0) from the sampler's "time 1|0" lines; any other line (cut short, written over)
    is left out."""
    samples = []
    for row in (line.split() for line in output.splitlines()):
        if len(row) == 2 and row[1] in ("0", "1"):
            try:
                samples.append((float(row[0]), int(row[1])))
            except ValueError:
                continue
    return samples


def unsampled_in_the_cut(samples: dict[str, list[tuple[float, int]]], cut_at: float | None) -> list[str]:
    """The proxies whose samples do not run from before the cut (``cut_at``) into it: none, or
    all after it began, or all before it (None: the cut never came, so no proxy was sampled in
    it)."""
    return sorted(
        name
        for name, series in samples.items()
        if cut_at is None or not series or series[0][0] > cut_at or series[-1][0] < cut_at
    )


def parse_arp_rounds(output: str) -> list[tuple[float, list[str]]]:
    return [tuple(json.loads(line)) for line in output.splitlines() if line.startswith("[")]


# The partition drill's holder samples are this close (99 in 100 intervals; else it proved less).
HOLDER_SAMPLE_LIMIT_S = 0.2
# The longest gap a failover of the proxies may leave (the partition and stall drills').
GAP_GOAL_S = 5.0
# What the death of the proxy that is also Pacemaker's DC adds to the gap: the survivor elects
# itself DC before it schedules the VIP. Since corosync waits at its start
# (data_keys.corosync_start_delay_s), a fenced proxy rejoins after the failover, so the survivor
# holds both the VIP and the DC: the next death of the VIP holder is the DC's. Measured on
# 2026-12-07 at the default token: 4.3-4.9 s idle (a non-DC holder 3.6-4.2 s), 5.5 s once in CI.
DC_ELECTION_S = 1.0
# The stalls of Corosync the stall drill makes, in seconds.
STALLS_S = (0.5, 1.0, 2.0)

# What a customer must not notice: the goal each drill is held to, by drill.
GOALS = {
    "haproxy dies": ("at most 1 s without service", lambda r: r.outage_s <= 1.0),
    "web host dies and returns": (
        "failed no more than in flight at the kill, no gap (0.1 s)",
        lambda r: r.in_flight is not None and r.failed <= r.in_flight and r.outage_s <= 0.1,
    ),
}


def timed_write(runner: SshRunner, path: str, timeout: float) -> float:
    """Seconds one small write to ``path`` takes on that host (its own clock); a write that
    fails raises, naming why."""
    rc, output = runner.run(
        f"a=$(date +%s%N); echo x > {shlex.quote(path)} || exit 1; b=$(date +%s%N); echo $((b - a))",
        timeout=timeout,
    )
    if rc != 0:
        raise RuntimeError(f"the write to {path} failed: {output.strip()}")
    return int(output.split()[-1]) / 1e9


class Drills:
    def __init__(self, site: Site, seconds: float = 40, rate: float = 50):
        self.site = site
        # The stall and loss drills' steps (hastack drill --stalls, --losses).
        self.stalls: tuple[float, ...] = STALLS_S
        self.losses: tuple[int, ...] = LOSSES_PERCENT
        # The upgrade drill's hosts (hastack drill --hosts; None: every proxy and web host).
        self.upgrade_hosts: list[str] | None = None
        self.seconds = seconds
        self.rate = rate
        self.injected_at: float | None = None
        self.remotes: dict[str, SshRunner] = {}
        self.hosts = host_control(site, self)

    def remote(self, name: str, fresh: bool = False) -> SshRunner:
        if fresh or name not in self.remotes:
            if name in self.remotes:
                self.remotes[name].close()
            self.remotes[name] = SshRunner.to_host(self.site, name)
        return self.remotes[name]

    def vip_holders(self) -> list[str]:
        return topology.vip_holders(
            self.site, lambda name: self.remote(name, fresh=True).run(topology.ADDRESSES_COMMAND)[1]
        )

    def dc(self) -> str:
        """Pacemaker's DC as the first proxy sees it ("NONE" when it has none, "" when crm_mon did
        not answer: either way no proxy's name, so the stricter goal applies)."""
        proxy = self.site.hosts_in("proxy")[0].name
        shown = self.remote(proxy, fresh=True).run("crm_mon -1", timeout=30)[1]
        found = re.search(r"Current DC: (\S+)", shown)
        return found.group(1) if found else ""

    def vip_holder(self) -> str:
        holders = self.vip_holders()
        if len(holders) != 1:
            raise RuntimeError(f"the VIP should be on exactly one proxy, it is on {holders}")
        return holders[0]

    def stream(
        self, action, until_done: float | None = None, url: str | None = None
    ) -> list[tuple[float, int, float]]:
        """Stream open-loop from the client for ``seconds`` at ``rate``, running ``action`` 5 s in
        (its moment kept: the client's clock and this machine's are one in the lab, and kept
        by chrony on real servers). With ``until_done`` (seconds at most), the stream runs until
        ``action`` returns, and 5 s more. ``url``: another than the shop's (``Site.url``); either
        way the requests go to the VIP's address."""
        client = next(h.name for h in self.site.hosts_in("client"))
        seconds = until_done or self.seconds
        stop = f"/tmp/hastack-stream-stop-{uuid.uuid4().hex}" if until_done else ""
        command = python_command(
            STREAM, url or self.site.url("/"), str(seconds), str(self.rate), stop, str(self.site.vip)
        )
        _, stdout, _ = self.remote(client, fresh=True).client.exec_command(command, timeout=seconds + 60)
        time.sleep(5)
        self.injected_at = time.time()
        try:
            action()
        finally:
            if stop:
                # also when the action fails: the stream stops, not after until_done
                time.sleep(5)
                self.remote(client, fresh=True).run(f"touch {stop}; sleep 2; rm -f {stop}")
        output = stdout.read().decode()
        return sorted(tuple(json.loads(line)) for line in output.splitlines() if line.startswith("["))

    def healthy(self, limit: float = 180) -> None:
        """Full health: every host up, both proxies online, both web hosts serving, no heal pending,
        the VIP on one proxy, and (with monitoring) Ganglia's and Cacti's pages answering through it."""
        self.hosts.bring_back()
        deadline = time.monotonic() + limit
        proxies = sorted(p.name for p in self.site.hosts_in("proxy"))
        webs = [w.name for w in self.site.hosts_in("web")]
        pages = ["/ganglia/", "/cacti/"] if self.site.setting("monitoring_enabled") else []
        while True:
            crm = self.remote(proxies[0], fresh=True).run("crm_mon -1")[1]
            heal = self.remote(webs[0], fresh=True).run(
                f"gluster volume heal {self.site.cluster} info summary"
            )[1]
            missing = [
                *([] if f"Online: [ {' '.join(proxies)} ]" in crm else ["both proxies online"]),
                # HAProxy (a clone) on every proxy: after a failure it returns only when the
                # failure expires (pacemaker_failure_timeout).
                *[
                    f"HAProxy running on {proxy}"
                    for proxy in proxies
                    if self.remote(proxy, fresh=True).run("systemctl is-active -q haproxy")[0]
                ],
                *[
                    f"{web} serving"
                    for web in webs
                    if self.remote(web, fresh=True).run("curl -fsS -o /dev/null http://127.0.0.1/healthz")[0]
                ],
                *(
                    []
                    if "Total Number of entries: 0" in heal and "Connected" in heal
                    else ["GlusterFS healed"]
                ),
                *([] if len(self.vip_holders()) == 1 else ["the VIP on one proxy"]),
                *[
                    f"{page} answering 200"
                    for page in pages
                    # from a proxy: the admin pages answer 403 to the customers' side
                    if self.remote(proxies[0], fresh=True).run(
                        f"curl {self.site.curl_to_vip} -s -m 10 -o /dev/null -w '%{{http_code}}' "
                        f"{self.site.url(page)}"
                    )[1]
                    != "200"
                ],
            ]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the cluster did not come back to full health: waiting for {', '.join(missing)}"
                    + self.cluster_services(proxies)
                )
            time.sleep(3)

    def cluster_services(self, proxies: list[str]) -> str:
        """What each proxy's cluster services are, and Pacemaker's last critical words (a proxy
        that heard of its own fencing stops it for good: data_keys.corosync_start_delay_s)."""
        lines = []
        for proxy in proxies:
            try:
                _, state = self.remote(proxy, fresh=True).run(
                    "systemctl is-active corosync pacemaker | paste -sd' '; "
                    # by its daemons' names: a daemon that exits at once may leave its last line
                    # without its unit
                    "journalctl -q -b -t pacemakerd -t pacemaker-controld -t pacemaker-fenced -p crit "
                    "--no-pager | tail -n 2",
                    timeout=30,
                )
            except Exception as error:  # noqa: BLE001 - said, the health error stays the one raised
                state = f"not reached ({error})"
            lines.append(f"{proxy}: corosync, pacemaker {state.strip()}")
        return "\n" + "\n".join(lines)

    def result(self, name: str, samples, data_lost="no", note="") -> Result:
        failed = sum(1 for _, status, *_ in samples if status != 200)
        flying = in_flight(samples, self.injected_at) if self.injected_at is not None else None
        result = Result(name, len(samples), failed, outage(samples), data_lost, note, in_flight=flying)
        if failed:
            result.note = "; ".join(part for part in (note, failures(samples, self.injected_at)) if part)
        if name in GOALS:
            result.goal, holds = GOALS[name]
            result.met = holds(result)
        return result

    # --- the drills ---------------------------------------------------------------

    def proxy_dies(self) -> Result:
        active = self.vip_holder()
        was_dc = self.dc() == active
        samples = self.stream(lambda: self.hosts.kill(active))
        self.healthy()
        token = int(self.site.setting("corosync_token_ms", self.site.hosts_in("proxy")[0]))
        result = self.result(
            "active proxy dies",
            samples,
            note=f"{active} {self.hosts.death}{' (the DC)' if was_dc else ''}; VIP on {self.vip_holder()}",
        )
        goal = gap_goal_s(token, was_dc)
        result.goal = f"at most {goal:.1f} s without service (token {token} ms{', the DC' if was_dc else ''})"
        result.met = result.outage_s <= goal
        return result

    def haproxy_dies(self) -> Result:
        active = self.vip_holder()
        samples = self.stream(lambda: self.remote(active).run("systemctl kill -s KILL haproxy"))
        self.healthy()
        return self.result("haproxy dies", samples, note=f"on {active}")

    def web_dies(self) -> Result:
        victim = self.site.hosts_in("web")[-1].name

        def kill_and_return() -> None:
            self.hosts.kill(victim)
            self.hosts.return_host(after=10)

        samples = self.stream(kill_and_return)
        self.healthy()
        note = f"{victim} {self.hosts.death}, {self.hosts.away(10)}"
        return self.result("web host dies and returns", samples, note=note)

    def gluster_peer_away(self) -> Result:
        webs = [w.name for w in self.site.hosts_in("web")]
        survivor, victim = webs[0], webs[-1]
        name = f".drill-{uuid.uuid4().hex[:8]}"
        folder = f"{self.site.setting('gluster_mount_point')}/{name}"
        self.remote(survivor).run(f"mkdir -p {folder}")

        def write_while_away() -> None:
            self.hosts.kill(victim)
            self.remote(survivor).run(
                f"for i in $(seq 50); do head -c 32768 /dev/urandom > {folder}/f$i; done", timeout=120
            )
            self.hosts.return_host(after=0)

        samples = self.stream(write_while_away)
        self.healthy()
        brick = f"{self.site.setting('gluster_brick_root')}/brick/{name}"
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

    def raid_disk_fails(self) -> Result:
        """A member of the RAID-1 fails while files are written to it, then is re-added."""
        with self.hosts.raid_host() as (run, where, device, mount):
            detail = run(f"mdadm --detail {device}")[1]
            members = re.findall(r"active sync\s+(/dev/\S+)", detail)
            if len(members) != 2:
                raise RuntimeError(f"{device} on {where} is not a healthy two-disk RAID-1:\n{detail}")
            victim = members[-1]
            folder = f"{mount}/.drill-{uuid.uuid4().hex[:8]}"
            log = "/tmp/hastack-raid-drill.log"
            writer = python_command(RAID_WRITER, folder, str(self.seconds))
            run(f"nohup {writer} > {log} 2>&1 < /dev/null &")
            time.sleep(5)
            run(f"mdadm {device} --fail {victim}")
            time.sleep(5)
            mdstat = run("cat /proc/mdstat")[1]
            degraded = "[U_]" in mdstat or "[_U]" in mdstat
            run(f"mdadm {device} --remove {victim}")
            time.sleep(2)
            readded = run(f"mdadm {device} --re-add {victim}")[0] == 0
            deadline = time.monotonic() + self.seconds + 120
            while "done" not in run(f"tail -n 1 {log}")[1] and time.monotonic() < deadline:
                time.sleep(2)
            run(f"mdadm --wait {device}")
            whole = "[UU]" in run("cat /proc/mdstat")[1]
            writes = [json.loads(line) for line in run(f"cat {log}")[1].splitlines() if line.startswith("[")]
            run("sync; echo 3 > /proc/sys/vm/drop_caches")
            read = dict(
                (line.split()[1], line.split()[0])
                for line in run(f"cd {folder} && sha256sum f*")[1].splitlines()
            )
            written = {
                f"f{number:05d}": digest for number, (_, status, digest) in enumerate(writes, 1) if status
            }
            mismatch = self.hosts.raid_check(run, device)
            run(f"rm -rf {folder}")
        lost = "no" if read == written and written and mismatch in ("0", "not run") else "YES"
        samples = [(started, status) for started, status, _ in writes]
        note = (
            f"{victim} failed ({'degraded' if degraded else 'NOT degraded'}), "
            f"re-added ({'resynced' if readded and whole else 'NOT whole'}) on {where}; "
            f"{len(written)} files by sha256; md check mismatches: {mismatch}"
        )
        if not (degraded and readded and whole):
            lost = "YES" if lost == "YES" else "no (array not whole)"
        return self.result("RAID disk fails and is re-added", samples, data_lost=lost, note=note)

    def partition(self) -> Result:
        """Both Corosync links between the proxies cut for ``seconds``, on every proxy, then
        healed: at no sample may two proxies hold the VIP (by their addresses every ~60 ms, and
        by ARP from the client every 200 ms). Each proxy's samples must run from before the cut
        into it: the proxy fenced in the cut is sampled until it is fenced, and its file is in
        /var/tmp, kept when it starts again (/tmp is emptied at boot)."""
        proxies = [proxy for proxy in self.site.hosts_in("proxy")]
        cut_s, vip = self.seconds, str(self.site.vip)
        span = int(cut_s) + 40
        # A file of this run's own: a sampler of an earlier run (it samples 40 s past its cut) may
        # still write to the one it opened, and would write over this run's samples (NUL bytes
        # where the new run's truncation left its offset behind, seen with two runs in a row).
        # In /var/tmp: the fenced proxy starts again, and /tmp is emptied at boot (Debian 13: a
        # tmpfs), which took its samples, the ones that matter most, with it.
        holders_log = f"/var/tmp/hastack-drill-holders-{time.time_ns()}.log"
        for proxy in proxies:
            sampler = HOLDER_SAMPLER.format(seconds=span, vip=vip)
            self.remote(proxy.name, fresh=True).run(
                # (an earlier run's files, left by a run cut short, go first)
                "rm -f /var/tmp/hastack-drill-holders-*.log; "
                f"nohup env LC_ALL=C bash -c {shlex.quote(sampler)} > {holders_log} 2>&1 < /dev/null &"
            )
        self.start_arp_probe(span)

        cut_at: list[float] = []

        def cut_and_heal() -> None:
            # Noted as the cut begins: the proxy fenced in it is alive until after it took effect.
            cut_at.append(time.time())
            self.cut_tables(CUT_TABLE, CUT, cut_s)
            time.sleep(cut_s)
            self.heal_tables(CUT_TABLE)

        before, formed = self.vip_holder(), self.memberships()
        stonith = bool(self.site.setting("pacemaker_stonith_enabled", proxies[0]))
        started = time.time()
        samples = self.stream(cut_and_heal, until_done=cut_s + 120)
        # With fencing, the proxy fenced in the cut comes back into the cluster by itself
        # (before healthy(), which would bring a host back itself).
        back_s = self.online_by_itself(limit=240) if stonith else None
        fenced = self.hosts.fenced(started) if stonith else ""
        self.healthy()
        holders = {
            proxy.name: parse_holder_samples(
                self.remote(proxy.name, fresh=True).run(f"cat {holders_log}; rm -f {holders_log}")[1]
            )
            for proxy in proxies
        }
        rounds = self.arp_rounds()
        changes = sum(count - formed.get(name, 0) for name, count in self.memberships().items())
        doubled = two_holders(holders)
        uncovered = unsampled_in_the_cut(holders, cut_at[0] if cut_at else None)
        # The holders' sampling, as it ran: the intervals between two samples of a proxy.
        intervals = sorted(
            later[0] - earlier[0]
            for series in holders.values()
            for earlier, later in zip(series, series[1:], strict=False)
        ) or [0.0]
        widest, p99 = intervals[-1], intervals[int(0.99 * (len(intervals) - 1))]
        arp_doubled = [when for when, macs in rounds if len(macs) > 1]
        unanswered = sum(1 for _, macs in rounds if not macs)
        result = self.result(
            "partition",
            samples,
            note=(
                f"both links cut {cut_s:.0f} s on every proxy ({changes} memberships formed); "
                f"VIP on {before}, then {self.vip_holder()}; "
                f"{len(doubled)} of {sum(len(series) for series in holders.values())} holder samples "
                f"({p99 * 1000:.0f} ms apart at the 99th percentile, {widest * 1000:.0f} at most) with two "
                f"holders; {len(arp_doubled)} of "
                f"{len(rounds)} ARP rounds with two MACs ({unanswered} unanswered)"
                + (
                    f"; fenced: {fenced or 'none'}; both proxies online again by themselves "
                    + (
                        f"{back_s:.0f} s after the stream"
                        if back_s is not None
                        else "NOT within 240 s of the stream"
                    )
                    if stonith
                    else ""
                )
            ),
        )
        result.goal = f"no two VIP holders, at most {GAP_GOAL_S:g} s without service" + (
            ", both proxies back by themselves" if stonith else ""
        )
        # A sampler that never saw the VIP held would find no two holders without proving it, and
        # a proxy not sampled in the cut (the one fenced, above all) was not watched at all.
        seen = any(held for series in holders.values() for _, held in series)
        if not seen:
            result.note += "; NO sample saw the VIP held: the samplers proved nothing"
        if uncovered:
            result.note += f"; NOT sampled from before the cut into it: {', '.join(uncovered)}"
        # No membership change: the cut did not cut, and the drill proved nothing.
        result.met = (
            changes > 0
            and seen
            and not uncovered
            and not doubled
            and not arp_doubled
            and bool(rounds)
            and p99 <= HOLDER_SAMPLE_LIMIT_S
            and result.outage_s <= GAP_GOAL_S
            # with fencing on, the side without quorum is fenced: a cut that fenced none proved nothing
            and (not stonith or (back_s is not None and bool(fenced)))
        )
        return result

    def online_by_itself(self, limit: float) -> float | None:
        """Seconds until every proxy is online in Pacemaker again, with no host brought back by
        the drill (None: not within ``limit``)."""
        proxies = sorted(p.name for p in self.site.hosts_in("proxy"))
        start = time.monotonic()
        while time.monotonic() - start < limit:
            for name in proxies:
                try:
                    crm = self.remote(name, fresh=True).run("crm_mon -1", timeout=10)[1]
                except Exception:  # noqa: BLE001 - a fenced proxy is still booting
                    continue
                if f"Online: [ {' '.join(proxies)} ]" in crm:
                    return time.monotonic() - start
            time.sleep(2)
        return None

    def isolate(self) -> Result:
        """The VIP holder goes silent for ``seconds`` (nothing in or out but loopback; no FIN, no
        RST: a power loss seen from the network), then comes back: the other proxy takes the VIP
        within the gap its token predicts (qnetd must first give up the silent one's vote), the
        client's ARP never sees two MACs for the VIP, and the silent one, without quorum, has
        given up the VIP when it returns."""
        proxies = self.site.hosts_in("proxy")
        cut_s = self.seconds
        if cut_s < 2:
            raise ValueError("isolate: --seconds must be 2 or more (the cut starts 1 s after it is set)")
        span = int(cut_s) + 40
        token = int(self.site.setting("corosync_token_ms", proxies[0]))
        self.start_arp_probe(span)
        silent = self.vip_holder()
        formed = self.memberships()

        def silence_and_return() -> None:
            self.silence(silent, cut_s)
            time.sleep(cut_s + 3)

        samples = self.stream(silence_and_return, until_done=cut_s + 60)
        self.healthy()
        rounds = self.arp_rounds()
        changes = sum(count - formed.get(name, 0) for name, count in self.memberships().items())
        arp_doubled = [when for when, macs in rounds if len(macs) > 1]
        goal = min(GAP_GOAL_S, predicted_gap_s(token))
        result = self.result(
            "active proxy goes silent",
            samples,
            note=(
                f"{silent} silent {cut_s:.0f} s, then back ({changes} memberships formed); "
                f"VIP on {self.vip_holder()}; {len(arp_doubled)} of {len(rounds)} ARP rounds with two MACs"
            ),
        )
        result.goal = f"at most {goal:.1f} s without service (token {token} ms), never two MACs for the VIP"
        result.met = changes > 0 and bool(rounds) and not arp_doubled and result.outage_s <= goal
        return result

    def silence(self, name: str, cut_s: float) -> None:
        """Make a host silent for ``cut_s`` seconds, starting 1 s from now: nothing in or out but
        loopback, ARP neither (the ISOLATE tables)."""
        rules = f"/run/{ISOLATE_TABLE}.nft"
        text = ISOLATE.format(table=ISOLATE_TABLE)
        # Both timers on the host itself: once silent, nothing reaches it to undo it. The way
        # back first (and a second one 30 s later), the cut only once both are set; precise
        # timers (systemd's default accuracy is a minute), collected even when they fail.
        remove = (
            f"nft delete table inet {ISOLATE_TABLE} 2>/dev/null; "
            f"nft delete table arp {ISOLATE_TABLE} 2>/dev/null; true"
        )
        timer = "systemd-run -q --collect --timer-property=AccuracySec=100ms"
        units = " ".join(f"{ISOLATE_TABLE}-{part}.timer" for part in ("on", "off", "backstop"))
        rc, out = self.remote(name, fresh=True).run(
            f"systemctl stop {units} 2>/dev/null; systemctl reset-failed '{ISOLATE_TABLE}-*' "
            f"2>/dev/null; printf %s {shlex.quote(text)} > {rules} && nft -c -f {rules} && "
            f"{timer} --unit {ISOLATE_TABLE}-off --on-active={int(cut_s) + 1} "
            f"sh -c {shlex.quote(remove)} && "
            f"{timer} --unit {ISOLATE_TABLE}-backstop --on-active={int(cut_s) + 31} "
            f"sh -c {shlex.quote(remove)} && "
            f"{timer} --unit {ISOLATE_TABLE}-on --on-active=1 nft -f {rules}"
        )[:2]
        if rc != 0:
            raise RuntimeError(f"the isolation could not be set on {name}: {out}")
        self.remotes.pop(name, None)

    def web_silent(self, cut_s: float) -> tuple[Result, float]:
        """The last web host goes silent for ``cut_s`` seconds (a power loss seen from the
        network) under the stream, then comes back: the seconds without service, and how long
        the first write through the first web host's mount waited (GlusterFS's ping timeout:
        its client waits that long on a brick that went silent)."""
        webs = self.site.hosts_in("web")
        mount = self.site.setting("gluster_mount_point", webs[0])
        survivor, victim = webs[0].name, webs[-1].name
        probe = f"{mount}/.drill-silent-{uuid.uuid4().hex[:8]}"
        waited: list[float] = []

        def silence_and_write() -> None:
            began = time.monotonic()
            self.silence(victim, cut_s)
            time.sleep(1.5)
            waited.append(timed_write(self.remote(survivor, fresh=True), probe, timeout=cut_s + 120))
            time.sleep(max(0.0, cut_s + 3 - (time.monotonic() - began)))

        samples = self.stream(silence_and_write, until_done=cut_s + 60)
        self.healthy()
        self.remote(survivor, fresh=True).run(f"rm -f {probe}")
        result = self.result(
            "web host goes silent",
            samples,
            note=f"{victim} silent {cut_s:.0f} s; the first write on {survivor} waited {waited[0]:.1f} s",
        )
        return result, waited[0]

    def brick_stall(self, seconds: float) -> tuple[bool, float]:
        """GlusterFS on the last web host frozen (every process of glusterd's unit: SIGSTOP, then
        SIGCONT) for ``seconds`` while the first web host writes through its mount every 0.1 s:
        whether a client gave up the frozen brick (the ping timeout's "has not responded" in the
        first web host's GlusterFS logs) and the longest write (seconds)."""
        webs = self.site.hosts_in("web")
        mount = self.site.setting("gluster_mount_point", webs[0])
        writer, frozen = webs[0].name, webs[-1].name
        probe = f"{mount}/.drill-stall-{uuid.uuid4().hex[:8]}"
        count = "cat /var/log/glusterfs/*.log | grep -c 'has not responded in the last'; true"
        before = int(self.remote(writer, fresh=True).run(count)[1].strip() or 0)
        loop = (
            f"end=$(($(date +%s) + {int(seconds) + 6})); longest=0; "
            f"while [ $(date +%s) -lt $end ]; do a=$(date +%s%N); echo x > {shlex.quote(probe)} || exit 1; "
            "b=$(date +%s%N); [ $((b - a)) -gt $longest ] && longest=$((b - a)); sleep 0.1; done; "
            "echo $longest"
        )
        # a connection of its own: self.remote(writer, fresh=True) would close it mid-loop
        looping = SshRunner.to_host(self.site, writer)
        try:
            _, stdout, _ = looping.client.exec_command(loop, timeout=seconds + 180)
            time.sleep(2)
            self.freeze(frozen, "glusterd", seconds)
            output = stdout.read().decode()
            if stdout.channel.recv_exit_status() != 0:
                raise RuntimeError(f"a write through {writer}'s mount failed during the freeze: {output}")
            longest = int(output.split()[-1]) / 1e9
        finally:
            looping.close()
        after = int(self.remote(writer, fresh=True).run(count)[1].strip() or 0)
        self.remote(writer, fresh=True).run(f"rm -f {probe}")
        self.healthy()
        return after == before, longest

    def start_arp_probe(self, seconds: int) -> None:
        """From the client, ask ARP for the VIP every 200 ms for ``seconds`` (in the background),
        noting the MACs that answer each round (``arp_rounds`` reads them)."""
        client, vip = self.site.hosts_in("client")[0].name, str(self.site.vip)
        iface = self.remote(client, fresh=True).run(f"ip -o route get {vip}")[1].split(" dev ")[1].split()[0]
        probe = python_command(ARP_PROBE, iface, vip, str(seconds))
        self.remote(client).run(f"nohup {probe} > {ARP_LOG} 2>&1 < /dev/null &")

    def arp_rounds(self) -> list[tuple[float, list[str]]]:
        client = self.site.hosts_in("client")[0].name
        return parse_arp_rounds(self.remote(client, fresh=True).run(f"cat {ARP_LOG}")[1])

    def cut_tables(self, table: str, template: str, seconds: float, **values) -> None:
        """Put a drill's nftables table on every proxy (dropping traffic from and to the other
        proxies), with a timer on the host that removes it after ``seconds`` + 30 anyway."""
        proxies = self.site.hosts_in("proxy")
        for proxy in proxies:
            peers = ", ".join(
                str(address)
                for other in proxies
                if other.name != proxy.name
                for address in other.addresses.values()
            )
            text = template.format(table=table, peers=peers, **values)
            self.remote(proxy.name, fresh=True).run(
                f"systemd-run -q --unit {table} --on-active={int(seconds) + 30} "
                f"nft delete table inet {table}; "
                f"printf %s {shlex.quote(text)} | nft -f -"
            )

    def heal_tables(self, table: str) -> None:
        for proxy in self.site.hosts_in("proxy"):
            try:
                self.remote(proxy.name, fresh=True).run(
                    f"nft delete table inet {table} 2>/dev/null; "
                    f"systemctl stop {table}.timer 2>/dev/null; true"
                )
            except Exception:  # noqa: BLE001 - a proxy fenced in the cut is booting: its table went with it
                continue

    def memberships(self) -> dict[str, int]:
        """How many memberships each proxy's Corosync has formed (its log's count)."""
        return {
            proxy.name: int(
                self.remote(proxy.name, fresh=True)
                .run("grep -c 'A new membership' /var/log/corosync/corosync.log || true")[1]
                .strip()
                or 0
            )
            for proxy in self.site.hosts_in("proxy")
        }

    def loss(self) -> list[Result]:
        """5 % and then 10 % of Corosync's packets between the proxies lost for ``seconds``,
        under ab's load through the VIP (50 at once): no membership change at 5 %."""
        client = self.site.hosts_in("client")[0].name
        results = []
        for percent in self.losses:
            before, holder = self.memberships(), self.vip_holder()
            load = f"ab -q -k -c 50 -s 5 -t {int(self.seconds)} -n 10000000 {self.site.ab_target()}"
            self.remote(client, fresh=True).run(
                f"nohup {load} > /tmp/hastack-drill-ab.log 2>&1 < /dev/null &"
            )

            def lossy(percent: int = percent) -> None:
                self.cut_tables(LOSS_TABLE, LOSS, self.seconds, percent=percent)
                time.sleep(self.seconds)
                self.heal_tables(LOSS_TABLE)

            samples = self.stream(lossy, until_done=self.seconds + 60)
            time.sleep(3)
            after = self.memberships()
            changes = sum(after[name] - before.get(name, 0) for name in after)
            ab = self.remote(client, fresh=True).run("cat /tmp/hastack-drill-ab.log")[1]
            done = re.search(r"Complete requests:\s+(\d+)", ab)
            result = self.result(
                f"{percent} % loss on Corosync's links",
                samples,
                note=(
                    f"{self.seconds:.0f} s, under ab -c 50 ({done.group(1) if done else '?'} requests); "
                    f"{changes} membership changes; VIP on {holder}, then {', '.join(self.vip_holders())}"
                ),
            )
            result.memberships = changes
            if percent <= 5:
                result.goal = "no membership change"
                result.met = changes == 0
            self.healthy()
            results.append(result)
        return results

    def web_stall(self) -> Result:
        """One web host drops new connections (SYNs) for 2 s during a burst (ab -c 500 through
        the VIP): HAProxy may take that host out, never the other, and no request gets a 5xx."""
        webs = self.site.hosts_in("web")
        victim, others = webs[-1], [web.name for web in webs[:-1]]
        client = self.site.hosts_in("client")[0].name
        holder = self.vip_holder()
        began = time.time()
        burst = f"ab -q -l -c 500 -n 40000 -s 10 {self.site.ab_target()}"
        self.remote(client, fresh=True).run(
            f"nohup {burst} > /tmp/hastack-drill-burst.log 2>&1 < /dev/null &"
        )

        def stall() -> None:
            time.sleep(2)
            table = SYN_DROP.format(table=SYN_TABLE, port=self.site.setting("web_port", victim))
            self.remote(victim.name, fresh=True).run(
                f"systemd-run -q --unit {SYN_TABLE} --on-active=30 nft delete table inet {SYN_TABLE}; "
                f"printf %s {shlex.quote(table)} | nft -f - && sleep 2; nft delete table inet {SYN_TABLE}; "
                f"systemctl stop {SYN_TABLE}.timer 2>/dev/null; true"
            )

        samples = self.stream(stall, until_done=60)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            burst_log = self.remote(client, fresh=True).run("cat /tmp/hastack-drill-burst.log")[1]
            if "Complete requests" in burst_log or "apr_" in burst_log:
                break
            time.sleep(2)

        def count(label: str) -> str:
            found = re.search(rf"{label}:\s+(\d+)", burst_log)
            return found.group(1) if found else "0" if label == "Non-2xx responses" else "?"

        complete, non_2xx, failed_ab = (
            count("Complete requests"),
            count("Non-2xx responses"),
            count("Failed requests"),
        )
        down_lines = self.remote(holder, fresh=True).run(
            f"journalctl -q -o cat --since @{int(began)} -t haproxy"
            " | grep -E 'Server web/[^ ]+ is DOWN'; true"
        )[1]
        down = sorted(set(re.findall(r"Server web/([^ ]+) is DOWN", down_lines)))
        fivexx = sum(1 for _, status, *_ in samples if 500 <= status < 600) + int(non_2xx)
        self.healthy()
        limit = self.site.setting("haproxy_error_limit", self.site.hosts_in("proxy")[0])
        result = self.result(
            "web host stalls (SYNs dropped 2 s)",
            samples,
            note=(
                f"{victim.name} dropped SYNs 2 s in ab -c 500 ({complete} requests, {non_2xx} non-2xx, "
                f"{failed_ab} failed); marked down: {', '.join(down) or 'none'}; error-limit {limit}"
            ),
        )
        result.marked_down, result.five_xx = down, fivexx
        result.goal = "no other web host marked down, no 5xx"
        result.met = complete != "?" and not set(down) & set(others) and fivexx == 0
        return result

    def ring_ids(self) -> dict[str, str]:
        """Each proxy's Corosync ring (its membership's id): a new one is a membership change."""
        return {
            proxy.name: ring_id(self.remote(proxy.name, fresh=True).run("corosync-quorumtool -s")[1])
            for proxy in self.site.hosts_in("proxy")
        }

    def fail_counts(self) -> list[tuple[str, str]]:
        """Pacemaker's fail counts, as its status section holds them (empty when none)."""
        proxy = self.site.hosts_in("proxy")[0].name
        xpath = "//status//nvpair[starts-with(@name,'fail-count-')]"
        output = self.remote(proxy, fresh=True).run(f'cibadmin --query --xpath "{xpath}" 2>/dev/null')[1]
        return sorted(re.findall(r'name="(fail-count-[^"]+)" value="([^"]+)"', output))

    def freeze(self, name: str, unit: str, seconds: float) -> None:
        """Every process of ``unit`` on that host stopped (SIGSTOP) for ``seconds``, then
        continued. The way back is set first: a timer on the host continues them 10 s after the
        end anyway, should this connection drop meanwhile (stopped once they are continued, so
        that it cannot cut a later freeze short)."""
        thaw = f"hastack-drill-thaw-{uuid.uuid4().hex[:8]}"
        rc, output = self.remote(name, fresh=True).run(
            # a timer left by a freeze whose shell died must not cut this one short
            "systemctl stop 'hastack-drill-thaw-*.timer' 2>/dev/null; "
            f"systemd-run -q --collect --timer-property=AccuracySec=100ms --unit {thaw} "
            f"--on-active={int(seconds) + 10} systemctl kill -s SIGCONT {unit} || exit 1; "
            f"systemctl kill -s SIGSTOP {unit} || {{ systemctl stop {thaw}.timer; exit 2; }}; "
            f"sleep {seconds}; systemctl kill -s SIGCONT {unit}; systemctl stop {thaw}.timer"
        )
        if rc != 0:
            raise RuntimeError(f"{unit} on {name} could not be frozen: {output.strip()}")

    def stall_survived(self, seconds: float) -> bool:
        """Corosync on the VIP holder frozen this long, without a stream: no membership formed
        (the timer table's probe, quicker than the drill)."""
        token = int(self.site.setting("corosync_token_ms", self.site.hosts_in("proxy")[0]))
        formed = self.memberships()
        self.freeze(self.vip_holder(), "corosync", seconds)
        time.sleep(3 * token / 1000 + 3)
        survived = self.memberships() == formed
        self.healthy()
        return survived

    def stall(self) -> list[Result]:
        """Corosync on the VIP holder frozen (SIGSTOP, then SIGCONT) for 0.5, 1 and 2 s: at or
        below the site's tolerance (hastack.network.stall_tolerance_ms) no membership change,
        no VIP move and no fail count; above it, one holder after and the cluster whole."""
        token = int(self.site.setting("corosync_token_ms", self.site.hosts_in("proxy")[0]))
        tolerance = stall_tolerance_ms(token) / 1000
        results = []
        for stall_s in self.stalls:
            holder, rings, fails = self.vip_holder(), self.ring_ids(), self.fail_counts()
            samples = self.stream(
                lambda holder=holder, stall_s=stall_s: self.freeze(holder, "corosync", stall_s), until_done=60
            )
            time.sleep(max(5, 3 * token / 1000))
            after_rings, after_holder, after_fails = self.ring_ids(), self.vip_holders(), self.fail_counts()
            changed = [name for name in rings if rings[name] != after_rings.get(name)]
            result = self.result(
                f"corosync stalls {stall_s:g} s",
                samples,
                note=(
                    f"on {holder} (token {token} ms, tolerance {tolerance:g} s); membership "
                    f"{'changed on ' + ', '.join(changed) if changed else 'unchanged'}; VIP then on "
                    f"{', '.join(after_holder) or 'no proxy'}; fail counts "
                    f"{'raised' if after_fails != fails and after_fails else 'none new'}"
                ),
            )
            if stall_s <= tolerance:
                result.goal = "within tolerance: no membership change, no VIP move, no fail count"
                result.met = (
                    not changed and after_holder == [holder] and (after_fails == fails or not after_fails)
                )
            else:
                result.goal = f"beyond tolerance: one holder after, at most {GAP_GOAL_S:g} s without service"
                result.met = len(after_holder) == 1 and result.outage_s <= GAP_GOAL_S
            self.healthy()
            results.append(result)
        return results

    def rolling_upgrade(self) -> list[Result]:
        """`hastack upgrade --reboot always` of the cluster's hosts under the stream: one row per
        host, from the requests started while it was out. A web host's goal: no failed request;
        a proxy's: less time without service than its death leaves (the VIP moves before it
        stops)."""
        from hastack.upgrade import Upgrade, order, say

        names = self.upgrade_hosts or self.site.cluster_hosts()
        upgrade = Upgrade(self.site, "always", heal_wait=600, say=say)
        windows: list[tuple[str, float, float, object]] = []

        def one_by_one() -> None:
            for name in order(self.site, names, self.vip_holder()):
                started = time.time()
                row = upgrade.one(name)
                windows.append((name, started, time.time(), row))

        try:
            samples = self.stream(one_by_one, until_done=3600)
        finally:
            upgrade.hosts.close()
        token = int(self.site.setting("corosync_token_ms", self.site.hosts_in("proxy")[0]))
        results = []
        for name, started, ended, row in windows:
            inside = [s for s in samples if started <= s[0] < ended]
            self.injected_at = started
            result = self.result(
                f"upgrade {name}",
                inside,
                note=f"{row.upgraded} package(s), rebooted, out {ended - started:.0f} s",
            )
            if self.site.hosts[name].role == "web":
                result.goal, result.met = "no failed request", result.failed == 0
            else:
                death = predicted_gap_s(token)
                result.goal = f"less without service than a death ({death:.1f} s, token {token} ms)"
                result.met = result.outage_s < death
            # a stream that stopped early would meet any goal: nine in ten of the requests due
            due = self.rate * (ended - started)
            if len(inside) < 0.9 * due:
                result.met = False
                result.note += f"; the stream sent {len(inside)} of {due:.0f} requests due"
            results.append(result)
        return results

    def close(self) -> None:
        for remote in self.remotes.values():
            remote.close()


class HostControl:
    """How a drill's host dies and comes back, and where the RAID to fail is: one interface,
    the lab's containers (``LabHosts``) or real servers (``RealServers``)."""

    death = ""
    # The RAID drill runs on a machine of its own, apart from the cluster (the lab's VM).
    raid_apart = False

    def __init__(self, site: Site, drills: Drills | None) -> None:
        self.site = site
        self.drills = drills

    def kill(self, name: str) -> None:
        raise NotImplementedError

    def return_host(self, after: float) -> None:
        """Bring a killed host back ``after`` seconds (where the drill, not the host, does it)."""
        raise NotImplementedError

    def away(self, seconds: float) -> str:
        raise NotImplementedError

    def bring_back(self, limit: float = 900) -> None:
        """Every host answering SSH again."""
        raise NotImplementedError

    def raid_host(self):
        """A context: (run, where, device, mount point) of a host with a RAID to fail."""
        raise NotImplementedError

    def raid_check(self, run, device: str) -> str:
        return "not run"

    def fenced(self, since: float) -> str:
        """Which proxies were fenced since ``since`` (a time.time()), as far as it can tell."""
        return "see `pcs stonith history` on a proxy"


class LabHosts(HostControl):
    """The lab: a host dies by ``docker kill`` and returns by ``hastack lab up``; the RAID is the
    lab's qemu VM."""

    death = "killed"
    raid_apart = True

    def kill(self, name: str) -> None:
        if lab.container_state(lab.host_named(name)) != "running":
            raise RuntimeError(f"{name} is not a running lab container: is this site the lab?")
        lab.docker("kill", lab.host_named(name).container)

    def return_host(self, after: float) -> None:
        time.sleep(after)
        lab.up()

    def away(self, seconds: float) -> str:
        return f"away {seconds:.0f} s"

    def bring_back(self, limit: float = 900) -> None:
        lab.up()

    def fenced(self, since: float) -> str:
        """The fence gate's log: each proxy's container killed or started by fence_docker."""
        from hastack.lab import fence

        calls = [
            line.split()[-4:-2]
            for line in fence.fenced(since)
            if (" kill " in line or " start " in line) and line.split()[-1].startswith("2")
        ]
        prefix = f"{lab.PREFIX}-"
        return ", ".join(f"{action} {container.removeprefix(prefix)}" for action, container in calls)

    def raid_check(self, run, device: str) -> str:
        """md's own comparison of both disks: in the lab's small VM only (it reads the disks whole)."""
        name = device.rsplit("/", 1)[-1]
        run(f"echo check > /sys/block/{name}/md/sync_action")
        time.sleep(1)
        run(f"mdadm --wait {device}")
        return run(f"cat /sys/block/{name}/md/mismatch_cnt")[1].strip()

    @contextmanager
    def raid_host(self):
        from hastack.lab import vm

        workdir = vm.VM_DIR / "drill"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        machine = vm.RaidVM({"raid-a": "1G", "raid-b": "1G"}, workdir)
        machine.start()
        try:
            deployed = machine.deploy_raid(
                [machine.disk_path("raid-a"), machine.disk_path("raid-b")], "deploy"
            )
            if deployed.returncode != 0:
                raise RuntimeError(f"the RAID layer did not deploy into the VM: see {workdir / 'deploy.log'}")

            def run(command: str) -> tuple[int, str]:
                result = machine.ssh(command, check=False)
                return result.returncode, result.stdout + result.stderr

            yield run, "the lab's RAID VM", "/dev/md0", "/raid1"
        finally:
            machine.stop()


class RealServers(HostControl):
    """Real servers: a host is reset (``systemctl reboot --force --force``: no service stopped
    first) and returns by itself; the RAID is the first web host's with raid_enabled."""

    death = "reset (forced reboot)"

    def kill(self, name: str) -> None:
        # the connection dies with the host, as it should
        with contextlib.suppress(Exception):
            self.drills.remote(name, fresh=True).run("systemctl reboot --force --force", timeout=10)
        self.drills.remotes.pop(name, None)

    def return_host(self, after: float) -> None:
        """It reboots by itself."""

    def away(self, seconds: float) -> str:
        return "back after its boot"

    def bring_back(self, limit: float = 900) -> None:
        deadline = time.monotonic() + limit
        for spec in self.site.hosts.values():
            while True:
                try:
                    self.drills.remote(spec.name, fresh=True).run("true", timeout=10)
                    break
                except Exception:  # noqa: BLE001 - still booting
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{spec.name} did not answer SSH within {limit:.0f} s") from None
                    time.sleep(5)

    @contextmanager
    def raid_host(self):
        web = next((w for w in self.site.hosts_in("web") if self.site.setting("raid_enabled", w)), None)
        if web is None:
            raise RuntimeError("no web host has raid_enabled: there is no RAID to drill")
        device, mount = self.site.setting("raid_device", web), self.site.setting("raid_mount_point", web)
        yield self.drills.remote(web.name).run, web.name, device, mount


def host_control(site: Site, drills: Drills | None) -> HostControl:
    """The lab's way for a site marked ``lab: true`` (``hastack lab up`` writes it), else real servers'."""
    return (LabHosts if site.lab else RealServers)(site, drills)


# Run by name only, not by a bare `hastack drill`: it upgrades and reboots every cluster host.
BY_NAME_ONLY = ("upgrade",)
DRILLS = {
    "proxy": Drills.proxy_dies,
    "haproxy": Drills.haproxy_dies,
    "web": Drills.web_dies,
    "gluster": Drills.gluster_peer_away,
    "raid": Drills.raid_disk_fails,
    "partition": Drills.partition,
    "isolate": Drills.isolate,
    "stall": Drills.stall,
    "loss": Drills.loss,
    "web-stall": Drills.web_stall,
    "upgrade": Drills.rolling_upgrade,
}


def table(results: list[Result]) -> str:
    lines = [
        "| drill | requests sent | failed | in flight at the failure | seconds without service "
        "| data lost | goal | note |",
        "|---|---|---|---|---|---|---|---|",
        *[result.row() for result in results],
    ]
    return "\n".join(lines)


def run_drills(
    site: Site,
    names: list[str],
    seconds: float,
    rate: float = 50,
    say=print,
    stalls: tuple[float, ...] = STALLS_S,
    losses: tuple[int, ...] = LOSSES_PERCENT,
    hosts: list[str] | None = None,
) -> list[Result]:
    drills = Drills(site, seconds, rate)
    drills.stalls, drills.losses = tuple(stalls), tuple(losses)
    drills.upgrade_hosts = hosts
    try:
        if any(name != "raid" or not drills.hosts.raid_apart for name in names):
            # the cluster whole before the first drill (not for the lab's RAID drill: its VM is apart)
            drills.healthy()
        results = []
        for name in names:
            say(f"[drill] {name}")
            done = DRILLS[name](drills)
            results.extend(done if isinstance(done, list) else [done])
        return results
    finally:
        drills.close()
