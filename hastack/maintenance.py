"""``hastack maintenance HOST on|off``: take one cluster host out of service and back, with
nothing a customer notices.

- A proxy: the VIP leaves it first (a ban, then the wait until its peer holds the VIP and
  the shop answers), then the node goes to Pacemaker's standby (HAProxy stops there), then
  the ban is lifted: standby alone keeps the VIP away, and stickiness keeps it where it is
  when the node returns. ``off``: the node leaves standby, HAProxy runs there again and
  sends to the web hosts that are not in maintenance.
- A web host: drained in HAProxy on every proxy (no new request; those under way finish,
  at most DRAIN_SECONDS, then their sessions are shut), set to MAINT; once no copy has a
  heal entry pending, its brick process stops. ``off``: the brick starts again (``volume
  start force``), its heal runs to the end (``--heal-wait``), NGINX answers on the host,
  then HAProxy sends to it again on every proxy, and only then is it done.

Before any change it refuses, naming why, to take out a host whose peer is not whole: the
other proxy offline, in standby or without HAProxy; another web host out of HAProxy, a brick
away, heal or split-brain entries, or writes that would stop (the volume's client quorum).
A marker on the host (MARKER) says it is in maintenance: a proxy that returns puts the web
hosts that still have one back in MAINT, and no other host with a brick goes out meanwhile.
``status`` and ``verify`` show a host in maintenance as degraded (the standby, the MAINT, the
brick away), naming ``hastack maintenance HOST off``. One run at a time: two runs started
together each see the other's host whole.

The alerts about the host are quiet meanwhile (alerts.QUIET_DIR on every cluster host, from
before the VIP or the brick moves until the host is back; at most alert_quiet_hours): no mail
of its planned outage, while a failed operation or fencing is still mailed.

A second ``on`` (or ``off``) finds the host as asked, says so and changes nothing.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from hastack import alerts, health, status, topology
from hastack.components.haproxy import ADMIN_SOCKET, DRAIN_SECONDS, SAVE_SERVER_STATE
from hastack.site import Site
from hastack.ssh import SiteHosts

MARKER = "/var/lib/hastack/maintenance"
# How long the heal entries may take to drain before a web host goes out (on) or is said back
# (off), unless --heal-wait says otherwise.
HEAL_WAIT_S = 600
# Pacemaker's own wait for a move or a standby (pcs --wait), in seconds.
PCS_WAIT_S = 120
STAT = f"echo 'show stat' | socat stdio {ADMIN_SOCKET}"


class Refused(Exception):
    """The host was not taken out (or back): nothing was changed, or what was has been undone."""


# --- readings (pure, unit-tested) -----------------------------------------------------------


def volume_option(volume_get: str, key: str) -> str | None:
    """``gluster volume get VOL KEY``: the value of KEY."""
    match = re.search(rf"^{re.escape(key)}\s+(\S+)", volume_get, re.MULTILINE)
    return match.group(1) if match else None


def writes_continue(pool: list[str], online: list[str], quorum_type: str, quorum_count: str = "") -> bool:
    """Whether GlusterFS's client quorum (``cluster.quorum-type``) lets writes go on with only
    the bricks of ``online`` up, out of the replica set ``pool`` (its first brick first): with
    ``auto``, more than half, or exactly half including the first brick; with ``fixed``,
    ``quorum-count`` of them; with ``none``, always."""
    up = [name for name in pool if name in online]
    if quorum_type == "none":
        return True
    if quorum_type == "fixed":
        return len(up) >= int(quorum_count or len(pool))
    return 2 * len(up) > len(pool) or (2 * len(up) == len(pool) and bool(pool) and pool[0] in up)


def brick_pid(volume_status_xml: str, name: str) -> tuple[str, str]:
    """``gluster --xml volume status VOL``: the status ("1": online) and PID of ``name``'s brick."""
    for node in ET.fromstring(volume_status_xml).iter("node"):
        if node.findtext("hostname") == name and (node.findtext("path") or "").endswith("/brick"):
            return node.findtext("status") or "0", node.findtext("pid") or ""
    return "0", ""


def server_row(show_stat_csv: str, name: str) -> dict[str, str]:
    """The ``web`` backend's row of server ``name`` in HAProxy's ``show stat`` ({} if none)."""
    return health.backend_rows(show_stat_csv).get(name, {})


# --- the command ------------------------------------------------------------------------------


class Maintenance:
    def __init__(self, site: Site, heal_wait: float = HEAL_WAIT_S, say: Callable[[str], None] = print):
        self.site = site
        self.hosts = SiteHosts(site)
        self.heal_wait = heal_wait
        self.say = say
        self.proxies = [p.name for p in site.hosts_in("proxy")]
        self.webs = [w.name for w in site.hosts_in("web")]
        self.volume = site.cluster

    # --- small readings over SSH ---

    def must(self, name: str, command: str, timeout: float | None = None) -> str:
        code, out = self.hosts.run(name, command, timeout=timeout)
        if code != 0:
            raise Refused(f"on {name}, `{command}` failed ({code}): {out.strip()[-300:]}")
        return out

    def crm_mon(self) -> str:
        for asker in self.proxies:
            code, out = self.hosts.run(asker, "crm_mon -1 --output-as=xml")
            if code == 0:
                return out
        raise Refused("Pacemaker answers on no proxy (crm_mon): see `pcs status` there")

    def node_online(self, name: str) -> bool:
        try:
            nodes = {n.get("name"): n for n in ET.fromstring(self.crm_mon()).iterfind("./nodes/node")}
        except (Refused, ET.ParseError):
            return False
        return name in nodes and nodes[name].get("online") == "true"

    def standby(self, name: str) -> bool:
        nodes = {n.get("name"): n for n in ET.fromstring(self.crm_mon()).iterfind("./nodes/node")}
        return name in nodes and nodes[name].get("standby") == "true"

    def vip_holders(self) -> list[str]:
        return topology.vip_holders(self.site, lambda n: self.hosts.run(n, topology.ADDRESSES_COMMAND)[1])

    def haproxies(self) -> dict[str, str]:
        """``show stat`` of each proxy whose HAProxy answers on its admin socket."""
        found = {}
        for proxy in self.proxies:
            code, out = self.hosts.run(proxy, STAT)
            if code == 0 and "pxname" in out:
                found[proxy] = out
        return found

    def marked(self, name: str) -> bool:
        return self.hosts.run(name, f"test -e {MARKER}")[0] == 0

    def mark(self, name: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.must(name, f"mkdir -p {MARKER.rsplit('/', 1)[0]} && echo 'on since {stamp}' > {MARKER}")

    def unmark(self, name: str) -> None:
        self.must(name, f"rm -f {MARKER}")
        self.quiet(name, on=False)

    def quiet(self, name: str, on: bool = True) -> None:
        """The alerts about ``name`` quiet, or no longer, on every cluster host: its name in
        alerts.QUIET_DIR, which the periodic check and Pacemaker's alert agent read (from now:
        alert_quiet_hours counts from the last `on` that changed something)."""
        marker = f"{alerts.QUIET_DIR}/{name}"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        parent = alerts.QUIET_DIR.rsplit("/", 1)[0]
        command = (
            # readable by hacluster (Pacemaker's agent) under any umask
            f"install -d -m 755 {parent} {alerts.QUIET_DIR} && echo 'maintenance since {stamp}' > {marker} "
            f"&& chmod 644 {marker}"
            if on
            else f"rm -f {marker}"
        )
        hosts = self.site.cluster_hosts()
        with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
            codes = list(pool.map(lambda other: self.hosts.run(other, command)[0], hosts))
        missed = [other for other, code in zip(hosts, codes, strict=True) if code != 0]
        if missed:
            self.say(
                f"the alerts about {name} are {'not quiet' if on else 'still quiet'} on {', '.join(missed)} "
                f"(no answer): {'they mail its planned outage' if on else 'until alert_quiet_hours'}"
            )

    def shop_answers(self) -> bool:
        """The shop's /healthz through the VIP, asked as `hastack status` asks it."""
        return status.shop(self.site, self.hosts)[0].ok

    def volume_status(self, avoid: str | None = None) -> str:
        """``gluster --xml volume status``, asked on a web host other than ``avoid`` (which may be
        booting) when one answers."""
        askers = [w for w in self.webs if w != avoid] + [w for w in self.webs if w == avoid]
        web = next((w for w in askers if self.hosts.connect(w) is not None), None)
        if web is None:
            raise Refused("no web host answers SSH to ask GlusterFS")
        out = self.must(web, health.gluster_retrying(f"gluster --xml volume status {self.volume}"))
        if (ET.fromstring(out).findtext("opRet") or "0") != "0":
            raise Refused(f"GlusterFS on {web}: {ET.fromstring(out).findtext('opErrstr')}")
        return out

    def heal_pending(self, asker: str) -> dict[str, str]:
        """The bricks with heal entries (or that did not answer heal info: "-"), by host, as heal
        info names them (in the volume's order, which a scale-out may have made other than the
        site's)."""
        code, out = self.hosts.run(
            asker, f"timeout 60 gluster volume heal {self.volume} info summary", timeout=90
        )
        if code != 0:
            return {"heal info": out.strip()[-200:]}
        by_brick = health.heal_by_brick(out)
        if not by_brick:
            return {"heal info": f"not read: {out.strip()[-200:]}"}
        return {name: n for name, n in by_brick.items() if n != "0"}

    def heal_drained(self, asker: str) -> dict[str, str]:
        """Waits (``heal_wait`` at most) until no brick has a heal entry; what is left."""
        deadline, said = time.monotonic() + self.heal_wait, 0.0
        while (pending := self.heal_pending(asker)) and time.monotonic() < deadline:
            if time.monotonic() - said >= 30:
                self.say(f"waiting for the heal entries to drain first: {pending}")
                said = time.monotonic()
            time.sleep(3)
        return pending

    def wait(self, what: str, done: Callable[[], bool], limit: float, every: float = 2) -> None:
        """Until ``done()``, at most ``limit`` s; a reading that fails meanwhile (a host still
        booting) counts as not yet."""
        deadline, last = time.monotonic() + limit, ""
        while True:
            try:
                if done():
                    return
            except (Refused, ET.ParseError) as error:
                last = f" (last: {error})"
            # a host that did not answer (booting) is asked on a new connection next time
            self.hosts.forget_unanswered()
            if time.monotonic() > deadline:
                raise Refused(f"{what}: not within {limit:.0f} s{last}")
            time.sleep(every)

    # --- proxies ---

    def proxy_on(self, name: str) -> None:
        peers = [p for p in self.proxies if p != name]
        crm = self.crm_mon()
        if self.standby(name):
            if not self.marked(name):
                self.mark(name)
            self.say(f"{name} is already in maintenance (standby); nothing changed")
            return
        problems = health.node_problems(crm, self.proxies)
        reasons = [f"{peer} is {problems[peer]}" for peer in peers if peer in problems]
        if "the cluster" in problems:
            reasons.append(f"the cluster is {problems['the cluster']}")
        stats = self.haproxies()
        for peer in peers:
            if peer not in stats:
                reasons.append(f"HAProxy does not answer on {peer}: it would have nothing to send to")
            elif all(health.backend_rows(stats[peer]).get(w, {}).get("status") != "UP" for w in self.webs):
                reasons.append(f"HAProxy on {peer} sends to no web host")
        if not peers:
            reasons.append("the site has no other proxy to take the VIP")
        reasons += self.brick_host_problems(name)
        if reasons:
            raise Refused(f"{name} stays in service: " + "; ".join(reasons))
        self.quiet(name)
        try:
            if name in self.vip_holders():
                self.say(f"{name} holds the VIP: moving it to its peer first")
                self.must(name, f"pcs resource ban vip {name} --wait={PCS_WAIT_S}", timeout=PCS_WAIT_S + 30)
                self.wait(
                    "the VIP on another proxy, the shop answering through it",
                    lambda: (h := self.vip_holders()) and name not in h and self.shop_answers(),
                    PCS_WAIT_S,
                    every=0.5,
                )
            self.say(f"the VIP is on {', '.join(self.vip_holders())}; {name} goes to standby")
            self.must(name, f"pcs node standby {name} --wait={PCS_WAIT_S}", timeout=PCS_WAIT_S + 30)
        except BaseException:
            try:
                still_serving = not self.standby(name)
            except Exception:  # noqa: BLE001 - Pacemaker does not answer: the error below says so
                still_serving = True
            if still_serving:
                self.quiet(name, on=False)
            raise
        finally:
            # standby keeps the VIP away now; a ban left behind would keep it away for ever
            self.clear_ban(name)
        self.mark(name)
        self.say(f"{name} is in maintenance: standby, HAProxy stopped, the VIP on its peer")

    def clear_ban(self, name: str) -> None:
        """No move constraint of the VIP left for ``name`` (``pcs resource clear``: none is fine)."""
        asker = next((p for p in self.proxies if p != name and self.hosts.connect(p)), name)
        self.must(asker, f"pcs resource clear vip {name}")

    def brick_host_problems(self, name: str) -> list[str]:
        """A host with a brick (a web host, the arbiter's proxy) goes out only while every other
        brick is online and no other brick host is in maintenance: two away stop the writes."""
        pool = health.brick_pool(self.site)
        if name not in pool:
            return []
        online = health.bricks_online(self.volume_status(avoid=name))
        reasons = [f"{b}'s brick is offline" for b in pool if b != name and online.get(b) != "1"]
        reasons += [
            f"{b} is in maintenance (a brick of the volume)" for b in pool if b != name and self.marked(b)
        ]
        return reasons

    def proxy_off(self, name: str) -> None:
        if not self.standby(name) and not self.marked(name):
            self.clear_ban(name)
            self.quiet(name, on=False)
            self.say(f"{name} is not in maintenance: not in standby, no marker; nothing changed")
            return
        # after a reboot, Pacemaker may still be starting: the node must be back in the cluster
        self.wait(
            f"{name} back in the cluster (online, in standby or not)",
            lambda: self.node_online(name),
            PCS_WAIT_S,
        )
        if self.standby(name):
            self.must(name, f"pcs node unstandby {name} --wait={PCS_WAIT_S}", timeout=PCS_WAIT_S + 30)
        self.clear_ban(name)
        self.wait(
            f"{name} online in Pacemaker, HAProxy running there",
            lambda: (
                name not in health.node_problems(self.crm_mon(), self.proxies)
                and self.hosts.run(name, "systemctl is-active -q haproxy")[0] == 0
                and name in self.haproxies()
            ),
            PCS_WAIT_S,
        )
        # its HAProxy read its saved states at start: those of the web hosts in maintenance
        # now, and no MAINT of one that came back while this proxy was out
        resting = [web for web in self.webs if self.marked(web)]
        serving = [web for web in self.webs if web not in resting]
        for web in self.webs:
            state = "maint" if web in resting else "ready"
            self.must(name, f"echo 'set server web/{web} state {state}' | socat stdio {ADMIN_SOCKET}")
        if resting:
            self.say(f"{', '.join(resting)} in maintenance: out of HAProxy on {name} too")
        self.must(name, SAVE_SERVER_STATE)
        self.wait(
            f"HAProxy on {name} sending to {', '.join(serving)}",
            lambda: all(
                health.backend_rows(self.haproxies().get(name, "")).get(w, {}).get("status") == "UP"
                for w in serving
            ),
            60,
        )
        if name in health.brick_pool(self.site):
            self.brick_back(name)
        self.unmark(name)
        self.say(f"{name} is back: online, HAProxy sends to {', '.join(serving)}; the VIP stays where it is")

    # --- web hosts ---

    def web_state(self, name: str) -> tuple[dict[str, str], str]:
        """Each answering proxy's status of ``name``, and its brick's status ("1": online)."""
        states = {proxy: server_row(out, name).get("status", "?") for proxy, out in self.haproxies().items()}
        return states, brick_pid(self.volume_status(avoid=name), name)[0]

    def web_on(self, name: str) -> None:
        states, brick = self.web_state(name)
        if self.marked(name) and brick != "1" and states and all(s == "MAINT" for s in states.values()):
            self.say(
                f"{name} is already in maintenance (MAINT in HAProxy, its brick stopped); nothing changed"
            )
            return
        reasons = self.web_peer_problems(name)
        if reasons:
            raise Refused(f"{name} stays in service: " + "; ".join(reasons))
        self.mark(name)
        self.quiet(name)
        killed = False
        try:
            self.drain(name)
            status, pid = brick_pid(self.volume_status(avoid=name), name)
            pending = self.heal_drained(next(w for w in self.webs if w != name)) if status == "1" else {}
            if pending:
                raise Refused(f"heal entries still pending after {self.heal_wait:.0f} s: {pending}")
            if status == "1" and pid:
                self.say(f"stopping {name}'s brick (PID {pid}); its copies carry the volume")
                self.must(name, f"kill {pid}")
                killed = True
                self.wait(
                    f"{name}'s brick offline",
                    lambda: brick_pid(self.volume_status(avoid=name), name)[0] != "1",
                    30,
                )
        except Exception:
            self.say(f"undoing: {name} goes back into HAProxy")
            if killed:
                self.hosts.run(name, f"gluster volume start {self.volume} force", timeout=120)
            self.ready(name)
            self.hosts.run(name, f"rm -f {MARKER}")
            self.quiet(name, on=False)
            raise
        self.say(f"{name} is in maintenance: out of HAProxy on every proxy, its brick stopped")

    def web_peer_problems(self, name: str) -> list[str]:
        """Why taking ``name`` out would leave the shop or its data without a whole copy."""
        reasons = []
        others = [w for w in self.webs if w != name]
        if not others:
            return ["it is the site's only web host"]
        stats = self.haproxies()
        if not stats:
            reasons.append("HAProxy answers on no proxy")
        for proxy, out in stats.items():
            rows = health.backend_rows(out)
            states = {w: rows.get(w, {}).get("status", "not in its web backend") for w in others}
            reasons += [
                f"{w} is {state} in HAProxy on {proxy}" for w, state in states.items() if state != "UP"
            ]
        pool = health.brick_pool(self.site)
        online = health.bricks_online(self.volume_status(avoid=name))
        away = [b for b in pool if b != name and online.get(b) != "1"]
        reasons += [f"{b}'s brick is offline" for b in away]
        reasons += [
            f"{b} is in maintenance (a brick of the volume)" for b in pool if b != name and self.marked(b)
        ]
        asker = others[0]
        if reasons:
            # a copy already missing: no heal to wait for first
            return reasons
        if online.get(name) == "1":
            # its copy goes: the others must be whole first (when its brick is already down,
            # the entries are those it will heal itself when it returns)
            pending = self.heal_drained(asker)
            if pending:
                reasons.append(f"heal entries still pending after {self.heal_wait:.0f} s: {pending}")
        code, split = self.hosts.run(asker, f"gluster volume heal {self.volume} info split-brain")
        if code != 0 or sum(health.split_brain_counts(split)):
            reasons.append(
                f"split-brain entries: see `gluster volume heal {self.volume} info split-brain` on {asker}"
            )
        options = self.must(asker, f"gluster volume get {self.volume} all")
        quorum = volume_option(options, "cluster.quorum-type") or "none"
        count = volume_option(options, "cluster.quorum-count") or ""
        remaining = [b for b in pool if b != name and b not in away]
        # the volume's own brick order: "the first brick" of quorum auto is the volume's first
        ordered = list(online) or pool
        if not writes_continue(ordered, remaining, quorum, count if count.isdigit() else ""):
            reasons.append(
                f"writes to the volume would stop (cluster.quorum-type {quorum}, bricks {', '.join(pool)}): "
                "an arbiter (gluster_arbiter) lets either web host go"
            )
        return reasons

    def drain(self, name: str) -> None:
        def one(proxy: str) -> str:
            self.must(proxy, f"echo 'set server web/{name} state drain' | socat stdio {ADMIN_SOCKET}")
            deadline = time.monotonic() + DRAIN_SECONDS
            sessions = "?"
            while time.monotonic() < deadline:
                sessions = server_row(self.must(proxy, STAT), name).get("scur", "0")
                if sessions == "0":
                    break
                time.sleep(0.5)
            else:
                self.must(proxy, f"echo 'shutdown sessions server web/{name}' | socat stdio {ADMIN_SOCKET}")
            self.must(proxy, f"echo 'set server web/{name} state maint' | socat stdio {ADMIN_SOCKET}")
            # kept across a reload or a restart of HAProxy
            self.must(proxy, SAVE_SERVER_STATE)
            return f"{proxy}: drained" + ("" if sessions == "0" else f", {sessions} session(s) shut")

        proxies = list(self.haproxies())
        with ThreadPoolExecutor(max_workers=max(1, len(proxies))) as pool:
            said = list(pool.map(one, proxies))
        silent = [p for p in self.proxies if p not in proxies]
        self.say(
            f"{name} out of HAProxy: {'; '.join(said)}"
            + (
                f" ({', '.join(silent)}: HAProxy not running; it returns with {name} in MAINT)"
                if silent
                else ""
            )
        )

    def ready(self, name: str) -> None:
        for proxy in self.haproxies():
            self.hosts.run(proxy, f"echo 'set server web/{name} state ready' | socat stdio {ADMIN_SOCKET}")
            self.hosts.run(proxy, SAVE_SERVER_STATE)

    def brick_back(self, name: str) -> None:
        """``name``'s brick online again (``volume start force`` starts only the bricks that are
        down) and its heal run to the end, ``heal_wait`` at most."""
        # after a boot, glusterd may still be starting: it answers before a brick is started
        self.wait(
            f"glusterd answering on {name}",
            lambda: self.hosts.run(name, "timeout 30 gluster pool list", timeout=60)[0] == 0,
            180,
        )
        if brick_pid(self.volume_status(avoid=name), name)[0] != "1":
            self.say(f"starting {name}'s brick (gluster volume start {self.volume} force)")
            self.must(name, f"gluster volume start {self.volume} force", timeout=120)
            self.wait(
                f"{name}'s brick online",
                lambda: brick_pid(self.volume_status(avoid=name), name)[0] == "1",
                60,
            )
        self.hosts.run(name, f"gluster volume heal {self.volume}")
        started, last = time.monotonic(), 0.0
        while pending := self.heal_pending(name):
            waited = time.monotonic() - started
            if waited > self.heal_wait:
                raise Refused(
                    f"{name}'s heal has not finished after {self.heal_wait:.0f} s ({pending}); it stays in "
                    f"maintenance: run `hastack maintenance {name} off` again to keep waiting"
                )
            if waited - last >= 15:
                self.say(f"healing: entries per brick {pending} ({waited:.0f} s)")
                last = waited
            time.sleep(2)
        self.say(f"{name}'s brick is online and healed")

    def web_off(self, name: str) -> None:
        states, brick = self.web_state(name)
        if not self.marked(name) and brick == "1" and all(s == "UP" for s in states.values()):
            self.quiet(name, on=False)
            self.say(f"{name} is not in maintenance: in HAProxy, its brick online; nothing changed")
            return
        self.brick_back(name)
        port = self.site.setting("web_port", self.site.hosts[name])
        self.wait(
            f"NGINX answering on {name}",
            lambda: (
                self.hosts.run(name, f"curl -fsS -o /dev/null -m 5 http://127.0.0.1:{port}/healthz")[0] == 0
            ),
            120,
        )
        self.ready(name)
        self.wait(
            f"{name} UP in HAProxy on every proxy",
            lambda: all(server_row(out, name).get("status") == "UP" for out in self.haproxies().values()),
            60,
            every=0.5,
        )
        self.unmark(name)
        self.say(f"{name} is back: healed, UP in HAProxy on {', '.join(self.haproxies())}")


def run_maintenance(site: Site, name: str, state: str, heal_wait: float = HEAL_WAIT_S) -> int:
    """0: the host is as asked; 1: it was refused or did not come back (said why)."""
    host = site.hosts.get(name)
    if host is None or host.role not in topology.CLUSTER_ROLES:
        what = "not a host of the site" if host is None else f"the {host.role}: only proxies and web hosts"
        cluster = site.cluster_hosts()
        print(f"hastack maintenance: {name} is {what} ({', '.join(cluster)}); nothing changed")
        return 2
    work = Maintenance(site, heal_wait, say=lambda line: print(f"[maintenance] {line}", flush=True))
    step = {
        ("proxy", "on"): work.proxy_on,
        ("proxy", "off"): work.proxy_off,
        ("web", "on"): work.web_on,
        ("web", "off"): work.web_off,
    }[(host.role, state)]
    try:
        step(name)
    except Refused as error:
        print(f"hastack maintenance: {error}")
        return 1
    except Exception as error:  # noqa: BLE001 - any answer not understood: say where the host is
        print(
            f"hastack maintenance: {name} {state}: stopped on {type(error).__name__}: {error}; "
            f"see where it was left with `hastack status`"
        )
        return 1
    finally:
        work.hosts.close()
    return 0
