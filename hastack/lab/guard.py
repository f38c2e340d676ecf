"""The lab's guard: nftables rules on this machine that drop, and count, whatever the lab's hosts
send to a private or link-local range other than the lab's own networks.

The lab's traffic goes to its own hosts and to the package mirror (through this machine's
resolver), nothing else. Without the guard, a daemon's default that scans or announces (Cacti's
"Test Network" 192.168.1.0/24 was one) leaves through Docker's NAT into whatever network this
machine sits on. The table is made by `hastack lab up` and outlives `lab down`, so its counter
tells, at the end of a test run, whether any lab of that run sent such a packet; the addresses
it dropped are kept in a set. `hastack lab guard` prints both; `--reset` starts them again.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shutil
import socket
import urllib.parse
from pathlib import Path

from hastack.lab.common import MIRROR, LabError, run

TABLE = "hastack_lab_guard"
# Private and link-local ranges (RFC 1918, RFC 3927), and
# multicast: a daemon that announces or discovers by multicast (Ganglia's default channel,
# 239.2.11.71) is caught too, even where the packets would stay on the lab's bridges.
GUARDED_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "224.0.0.0/4"]
RESOLV_CONFS = [Path("/etc/resolv.conf"), Path("/run/systemd/resolve/resolv.conf")]


def resolvers() -> list[str]:
    """This machine's name servers (Docker's embedded DNS forwards the lab's look-ups of the
    mirror to them): the one private destination the lab may reach, on port 53 only."""
    found: list[str] = []
    for path in RESOLV_CONFS:
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                try:
                    address = ipaddress.ip_address(parts[1].split("%")[0])
                except ValueError:
                    continue
                if not address.is_loopback and str(address) not in found:
                    found.append(str(address))
    return found


def mirror_endpoints(url: str = MIRROR) -> list[tuple[str, int]]:
    """The package mirror's addresses in a guarded range, and its port: HASTACK_LAB_MIRROR may
    name one on a private network (an apt cache), which the lab must reach. A public mirror is
    not guarded, so it needs none (and its rotating addresses would change the rules)."""
    parsed = urllib.parse.urlsplit(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parsed.hostname or "", port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    guarded = [ipaddress.ip_network(net) for net in GUARDED_V4]
    return sorted(
        {
            (info[4][0], port)
            for info in infos
            if info[0] == socket.AF_INET and any(ipaddress.ip_address(info[4][0]) in net for net in guarded)
        }
    )


def ruleset(networks: list[str], name_servers: list[str], mirror: list[tuple[str, int]] = ()) -> str:
    """The guard's table: from the lab's networks, to a guarded range other than those networks
    (the resolvers' port 53 and the mirror's port excepted), counted, its address remembered,
    and dropped. The lab's networks are IPv4 only (Docker disables IPv6 in their containers)."""
    lab = "{ " + ", ".join(networks) + " }"
    v4 = [s for s in name_servers if ipaddress.ip_address(s).version == 4]
    guarded = "{ " + ", ".join(GUARDED_V4) + " }"
    rules = [f"ip saddr {lab} ip daddr {lab} accept"]
    if v4:
        rules.append(
            f"ip saddr {lab} ip daddr {{ {', '.join(v4)} }} meta l4proto {{ tcp, udp }} th dport 53 accept"
        )
    for address, port in mirror:
        rules.append(f"ip saddr {lab} ip daddr {address} tcp dport {port} accept")
    # The kernel's own membership reports (IGMP): not a daemon's traffic; what a daemon then
    # sends to its group is caught below.
    rules.append(f"ip saddr {lab} ip protocol igmp accept")
    # Remembered in one rule, counted and dropped in the next: a full set (4096 addresses)
    # stops only the first, never the drop.
    rules.append(f"ip saddr {lab} ip daddr {guarded} update @dropped4 {{ ip daddr }}")
    rules.append(f"ip saddr {lab} ip daddr {guarded} counter name dropped drop")
    body = "\n".join(f"    {rule}" for rule in rules)
    chains = [
        f"  chain {hook} {{\n    type filter hook {hook} priority filter - 10; policy accept;\n{body}\n  }}"
        for hook in ("forward", "input")
    ]
    return (
        f"table inet {TABLE} {{\n"
        '  comment "{stamp}"\n'
        "  set dropped4 { type ipv4_addr; flags dynamic; size 4096; }\n"
        "  counter dropped { }\n" + "\n".join(chains) + "\n}\n"
    )


def stamped(text: str) -> str:
    """The ruleset with its own digest as the table's comment: a guard made by an older
    hastack (other rules) is told apart and written anew."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return text.replace("{stamp}", f"hastack lab guard {digest}")


def _nft(*args: str, stdin: str | None = None, check: bool = True):
    if shutil.which("nft") is None:
        raise LabError(
            "nft is not installed, and the lab does not run without its guard: apt-get install nftables"
        )
    return run(["nft", *args], check=check, input=stdin)


def installed() -> bool:
    return _nft("list", "table", "inet", TABLE, check=False).returncode == 0


def ensure(networks: list[str]) -> None:
    """The guard in place for these networks. An existing guard with the same rules is kept as
    it is, with its counter and addresses. One with other rules (an older hastack, another
    resolver) is written anew, unless it has counted something: then nothing is lost unsaid."""
    text = stamped(ruleset(networks, resolvers(), mirror_endpoints()))
    if installed():
        current = _nft("list", "table", "inet", TABLE).stdout
        if text.splitlines()[1].strip() in current:
            return
        found = report()
        if found and found[0]:
            raise LabError(
                f"{describe()}; its rules are to change (this machine's resolver or mirror moved, or "
                "hastack did): read that, then `hastack lab guard --reset` and `hastack lab up` again"
            )
        _nft("delete", "table", "inet", TABLE)
    _nft("-f", "-", stdin=text)


def reset() -> None:
    if installed():
        _nft("reset", "counter", "inet", TABLE, "dropped")
        _nft("flush", "set", "inet", TABLE, "dropped4")


def report() -> tuple[int, list[str]] | None:
    """(packets dropped, their destination addresses); None when the guard is not installed."""
    if not installed():
        return None
    listed = json.loads(_nft("-j", "list", "table", "inet", TABLE).stdout)
    packets, addresses = 0, []
    for item in listed.get("nftables", []):
        if "counter" in item and item["counter"].get("name") == "dropped":
            packets = int(item["counter"].get("packets", 0))
        if "set" in item and item["set"].get("name") == "dropped4":
            for element in item["set"].get("elem", []):
                if isinstance(element, dict):  # an element with its own data: {"elem": {"val": ...}}
                    element = element.get("elem", {}).get("val", element)
                addresses.append(str(element))
    return packets, addresses


def describe() -> str:
    found = report()
    if found is None:
        return "the lab's guard is not installed (`hastack lab up` installs it)"
    packets, addresses = found
    if not packets:
        return "the lab's guard dropped no packet: the lab sent nothing beyond its own networks"
    return (
        f"the lab's guard dropped {packets} packet(s) from the lab to private or link-local "
        f"addresses outside its networks: {', '.join(addresses[:12]) or '(addresses not kept)'}"
        + (f" and {len(addresses) - 12} more" if len(addresses) > 12 else "")
    )
