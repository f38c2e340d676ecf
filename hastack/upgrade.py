"""``hastack upgrade [SITE] [--hosts …]``: a rolling OS upgrade of the cluster's hosts, one at a
time, with the shop answering throughout.

It refuses to start unless ``hastack status`` says healthy. Then, for each host (the web hosts
in the site's order, then the proxies, the VIP's holder last so that the VIP moves once):
``hastack maintenance HOST on``; ``apt-get update`` and ``apt-get full-upgrade`` (no question
asked, the host's changed configuration files kept); a reboot when the upgrade asks for one
(``/run/reboot-required``; ``--reboot always`` or ``never`` to choose), done once the host
answers SSH with a new boot id; ``hastack maintenance HOST off`` (a web host's heal runs to the
end first); and ``status`` healthy again before the next host. It stops at the first host that
fails a step or does not come back healthy, and says which and where that host was left.

The client is never upgraded here: it is the customers' side, the stream's source and the
quorum device's host; upgrade it on its own. A reboot is ``systemctl reboot`` (a clean
shutdown); in the lab, whose hosts are containers that cannot restart themselves, it is
``docker restart`` (the same clean shutdown: systemd's halt signal, then a fresh boot).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hastack import status, topology
from hastack.maintenance import Maintenance, Refused
from hastack.site import Site
from hastack.ssh import SiteHosts

APT = (
    "export DEBIAN_FRONTEND=noninteractive; apt-get update -q -o DPkg::Lock::Timeout=600 && "
    "apt-get -y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef "
    "-o Dpkg::Options::=--force-confold full-upgrade"
)
# The longest an upgrade, a boot, and the return to health may take, in seconds.
APT_S = 1800
BOOT_S = 900
HEALTHY_S = 300
# Which boot a host is in: the kernel's boot id, and when PID 1 started (in ticks since the
# kernel's boot: a container, the lab's hosts, shares its kernel's boot id but not its PID 1).
# A reboot is required: the OS says so (/run/reboot-required, where update-notifier-common or
# unattended-upgrades is installed), or a newer kernel is installed than the one running.
REBOOT_REQUIRED = (
    "test -e /run/reboot-required || { k=$(ls -v /boot/vmlinuz-* 2>/dev/null | tail -1); "
    '[ -n "$k" ] && [ "$k" != "/boot/vmlinuz-$(uname -r)" ]; }'
)
BOOT_ID = "echo $(cat /proc/sys/kernel/random/boot_id) $(cut -d' ' -f22 /proc/1/stat)"


@dataclass
class Row:
    host: str
    upgraded: int
    rebooted: bool
    out_s: float
    result: str

    def cells(self) -> str:
        cells = [self.host, self.upgraded, "yes" if self.rebooted else "no", f"{self.out_s:.0f}", self.result]
        return "| " + " | ".join(str(cell) for cell in cells) + " |"


def upgraded_count(apt_output: str) -> int:
    """How many packages ``apt-get full-upgrade`` upgraded ("N upgraded, M newly installed")."""
    for line in apt_output.splitlines():
        if " upgraded, " in line and line.split()[0].isdigit():
            return int(line.split()[0])
    return 0


def order(site: Site, chosen: list[str], holder: str | None) -> list[str]:
    """The web hosts in the site's order, then the proxies, the VIP's holder last."""
    webs = [w.name for w in site.hosts_in("web") if w.name in chosen]
    proxies = [p.name for p in site.hosts_in("proxy") if p.name in chosen]
    proxies.sort(key=lambda name: name == holder)
    return webs + proxies


class Upgrade:
    def __init__(self, site: Site, reboot: str, heal_wait: float, say: Callable[[str], None] = print):
        self.site = site
        self.reboot_when = reboot
        self.say = say
        self.work = Maintenance(site, heal_wait, say=say)
        self.hosts: SiteHosts = self.work.hosts

    def healthy(self, limit: float) -> list[status.Line]:
        """Waits until status says healthy (``limit`` s at most); the lines that are not."""
        deadline = time.monotonic() + limit
        while True:
            bad = [line for line in status.gather(self.site) if not line.ok]
            if not bad or time.monotonic() > deadline:
                return bad
            time.sleep(5)

    def restart(self, name: str) -> None:
        before = self.work.must(name, BOOT_ID).strip()
        self.say(f"rebooting {name}")
        if self.site.lab:
            from hastack import lab

            lab.docker("restart", "-t", "120", lab.host_named(name).container)
        else:
            self.work.must(name, "systemd-run --on-active=2 systemctl reboot")
        deadline = time.monotonic() + BOOT_S
        while True:
            self.hosts.forget(name)
            code, now = self.hosts.run(name, BOOT_ID)
            if code == 0 and now.strip() and now.strip() != before:
                # its boot finished (a failed unit makes it "degraded", finished all the same)
                self.hosts.run(name, "timeout 300 systemctl is-system-running --wait", timeout=330)
                return
            if time.monotonic() > deadline:
                raise Refused(f"{name} did not answer SSH after its reboot within {BOOT_S} s")
            time.sleep(3)

    def one(self, name: str) -> Row:
        role = self.site.hosts[name].role
        started = time.monotonic()
        (self.work.web_on if role == "web" else self.work.proxy_on)(name)
        self.say(f"upgrading {name}: apt-get update, full-upgrade")
        code, out = self.hosts.run(name, APT, timeout=APT_S)
        if code != 0:
            raise Refused(
                f"apt-get on {name} failed ({code}): {out.strip()[-400:]}; {name} stays in maintenance: "
                f"see to it, then `hastack maintenance {name} off`"
            )
        count = upgraded_count(out)
        required = self.hosts.run(name, REBOOT_REQUIRED)[0] == 0
        reboot = self.reboot_when == "always" or (self.reboot_when == "required" and required)
        self.say(f"{name}: {count} package(s) upgraded; reboot {'required' if required else 'not required'}")
        if reboot:
            self.restart(name)
        (self.work.web_off if role == "web" else self.work.proxy_off)(name)
        bad = self.healthy(HEALTHY_S)
        if bad:
            raise Refused(
                f"{name} is back but the cluster is not healthy after {HEALTHY_S} s: "
                + "; ".join(f"{line.area}: {line.detail}" for line in bad)
            )
        return Row(name, count, reboot, time.monotonic() - started, "healthy")


def say(line: str) -> None:
    """A step, with its time: how long each one took is read from them."""
    print(f"[upgrade {time.strftime('%H:%M:%S')}] {line}", flush=True)


def table(rows: list[Row]) -> str:
    head = ["| host | packages upgraded | rebooted | seconds out | result |", "|---|---|---|---|---|"]
    return "\n".join(head + [row.cells() for row in rows])


def run_upgrade(site: Site, chosen: list[str] | None, reboot: str, heal_wait: float) -> int:
    cluster = site.cluster_hosts()
    chosen = chosen or cluster
    wrong = [name for name in chosen if name not in cluster]
    if wrong:
        print(
            f"hastack upgrade: {', '.join(wrong)}: not a proxy or web host of the site "
            f"({', '.join(cluster)}); "
            "the client is upgraded on its own (it is the customers' side and the quorum device's host); "
            "nothing changed"
        )
        return 2
    work = Upgrade(site, reboot, heal_wait, say=say)
    rows: list[Row] = []
    try:
        bad = [line for line in status.gather(site) if not line.ok]
        if bad:
            print(
                "hastack upgrade: the cluster is not healthy, so no host is taken out; nothing changed:\n"
                + "\n".join(f"  !!  {line.area:<12} {line.detail}" for line in bad)
            )
            return 1
        holders = topology.vip_holders(site, lambda n: work.hosts.run(n, topology.ADDRESSES_COMMAND)[1])
        plan = order(site, chosen, holders[0] if holders else None)
        say(f"one host at a time: {', '.join(plan)} (reboot: {reboot})")
        for name in plan:
            try:
                rows.append(work.one(name))
            except Exception as error:  # noqa: BLE001 - Refused, or an answer not understood
                said = str(error) if isinstance(error, Refused) else f"{type(error).__name__}: {error}"
                rows.append(Row(name, 0, False, 0, "stopped"))
                print(
                    f"hastack upgrade: stopped at {name}: {said}\n{name} may be in maintenance still: see "
                    f"`hastack status`, then `hastack maintenance {name} off`; the hosts after it were not "
                    "touched"
                )
                print(table(rows))
                return 1
    finally:
        work.hosts.close()
    print(table(rows))
    return 0
