"""Which interface carries which network: the data behind the netplan file."""

from __future__ import annotations

import ipaddress

from hastack import topology
from hastack.site import MAC_RE


class InterfaceError(ValueError):
    pass


def _match(nic: str) -> tuple[str, str]:
    return ("macaddress", nic.lower()) if MAC_RE.match(nic.lower()) else ("name", nic)


# The kinds of link an address found on the host may sit on for hastack to match its card by MAC:
# a plain card ("") or the lab's veth. Any other (a bond, whose MAC is a member's; a VLAN, which
# shares its card's; a bridge, macvlan, dummy...) is made of or beside others, and matched by MAC
# the address would go on a card: the site must declare it, or name the card.
CARD_KINDS = ("", "veth")
# How often a bond's driver checks its members' carrier (ms), netplan's mii-monitor-interval.
BOND_MII_MS = 100
# 802.3ad: LACP every second (a partner that fails without dropping carrier is seen in about 3 s,
# not 90), and flows spread by addresses and ports (layer2 puts all traffic between two hosts
# on one link). The hash serves balance-xor too.
BOND_LACP_RATE = "fast"
BOND_HASH_POLICY = "layer3+4"


def netplan_interfaces(
    addresses: dict[str, str],
    networks: dict[str, str],
    nics: dict[str, str],
    dhcp: list[str],
    found: dict[str, dict],
    gateways: dict[str, str] | None = None,
    nameservers: list[str] | None = None,
    search: list[str] | None = None,
    mtu: dict[str, int] | None = None,
    routes: dict[str, list[dict]] | None = None,
    bonds: dict[str, dict] | None = None,
    vlans: dict[str, dict] | None = None,
) -> list[dict]:
    """
    One netplan entry per network the host is on, plus one per DHCP interface, and the bonds,
    VLANs and member cards they are made of. Each entry's ``section`` is netplan's (ethernets,
    bonds, vlans); a network's entry carries its address and settings.

    A network's interface is the one the site names (``nics``: a card, or a bond or VLAN of the
    host), else the card that carries an address in that network now, matched by MAC: interface
    names change (the lab's do on every restart), a subnet does not.

    The default route goes on the interface of the network that ``gateways`` gives one for;
    the DNS servers and search domains on that interface too, else on the host's first network.
    A network's static ``routes`` go on its interface.
    """
    gateways, mtu, routes = gateways or {}, mtu or {}, routes or {}
    bonds, vlans = bonds or {}, vlans or {}
    dns_on = next((name for name in addresses if name in gateways), next(iter(addresses), None))
    interfaces, carried = [], {}
    for net_name, address in addresses.items():
        network = ipaddress.ip_network(networks[net_name])
        nic = nics.get(net_name) or _nic_in(network, found, net_name)
        if nic is None:
            raise InterfaceError(
                f"no interface has an address in networks.{net_name} ({network}) and "
                f"nics.{net_name} is not set: set hosts.<host>.nics.{net_name} in the site "
                "file to the interface name or MAC"
            )
        settings = {
            "dhcp": False,
            "address": f"{address}/{network.prefixlen}",
            "gateway": gateways.get(net_name),
            "nameservers": list(nameservers or []) if net_name == dns_on else [],
            "search": list(search or []) if net_name == dns_on else [],
            "mtu": mtu.get(net_name),
            "routes": [{"to": str(r["to"]), "via": str(r["via"])} for r in routes.get(net_name, [])],
        }
        if nic in bonds or nic in vlans:
            carried[nic] = settings
            continue
        key, value = _match(nic)
        carried[nic] = {"id": net_name}
        interfaces.append(
            {"id": net_name, "section": "ethernets", "match_key": key, "match": value, **settings}
        )
    for index, nic in enumerate(dhcp):
        key, value = _match(nic)
        interfaces.append(
            {"id": f"dhcp{index}", "section": "ethernets", "match_key": key, "match": value, "dhcp": True}
        )
    bare = {
        "dhcp": False,
        "address": None,
        "gateway": None,
        "nameservers": [],
        "search": [],
        "mtu": None,
        "routes": [],
    }
    cards = {_card(entry["match"], found): entry["id"] for entry in interfaces}
    for bond, item in bonds.items():
        members = []
        for index, member in enumerate(item["interfaces"]):
            key, value = _match(member)
            members.append(f"{bond}-member{index}")
            if _card(value, found) in cards:
                raise InterfaceError(
                    f"{member}, a member of bonds.{bond}, is also the card of "
                    f"{cards[_card(value, found)]} (by its name or MAC): give each card one place"
                )
            cards[_card(value, found)] = members[-1]
            interfaces.append(
                {
                    "id": members[-1],
                    "section": "ethernets",
                    "match_key": key,
                    "match": value,
                    "member": True,
                    "dhcp": False,
                }
            )
        interfaces.append(
            {
                "id": bond,
                "section": "bonds",
                "interfaces": members,
                "mode": item["mode"],
                "mii_ms": BOND_MII_MS,
                "lacp_rate": BOND_LACP_RATE if item["mode"] == "802.3ad" else None,
                "hash_policy": BOND_HASH_POLICY if item["mode"] in ("802.3ad", "balance-xor") else None,
                **carried.get(bond, bare),
            }
        )
    for vlan, item in vlans.items():
        link = item["link"]
        if link in bonds:
            parent = next(entry for entry in interfaces if entry["id"] == link)
        elif _card(link, found) in cards:
            # the card of a network, of DHCP or of another VLAN: the VLAN rides on that entry
            parent = next(entry for entry in interfaces if entry["id"] == cards[_card(link, found)])
        else:
            key, value = _match(link)
            parent = {
                "id": f"{vlan}-link",
                "section": "ethernets",
                "match_key": key,
                "match": value,
                "member": True,
                "dhcp": False,
            }
            cards[_card(link, found)] = parent["id"]
            interfaces.append(parent)
        own = carried.get(vlan, bare)
        if own["mtu"]:
            # The kernel makes no VLAN larger than its link: a link that carries nothing else takes
            # the VLAN's MTU; one that carries a network (or DHCP) must have it already.
            if parent.get("member") is True or (parent["section"] == "bonds" and not parent.get("address")):
                parent["mtu"] = max(parent.get("mtu") or 0, own["mtu"])
            elif (parent.get("mtu") or 0) < own["mtu"]:
                raise InterfaceError(
                    f"{vlan}'s MTU ({own['mtu']}) is larger than that of its link {link} "
                    f"({parent.get('mtu') or 'the default'}), which carries a network of its own: give "
                    "that network at least the same netplan_mtu"
                )
        interfaces.append(
            {"id": vlan, "section": "vlans", "vlan_id": item["id"], "link": parent["id"], **own}
        )
    return interfaces


def _card(nic: str, found: dict[str, dict]) -> str:
    """A card's name where the host shows it (a MAC looked up among its plain cards), else as given."""
    if MAC_RE.match(nic.lower()):
        names = [
            name
            for name, info in found.items()
            if info.get("mac", "").lower() == nic.lower() and info.get("kind", "") in CARD_KINDS
        ]
        return names[0] if len(names) == 1 else nic.lower()
    return nic


def _nic_in(network: ipaddress.IPv4Network, found: dict[str, dict], net_name: str = "") -> str | None:
    for name, info in sorted(found.items()):
        for cidr in info["addresses"]:
            if ipaddress.ip_interface(cidr).ip in network:
                kind = info.get("kind", "")
                if kind in ("bond", "vlan"):
                    raise InterfaceError(
                        f"the address in networks.{net_name} ({network}) is on {name}, a {kind}, "
                        f"which the site does not declare: matched by its MAC, the address would go on "
                        f"one of its cards. Declare it in the site (hosts.<host>.bonds or vlans) and "
                        f"set hosts.<host>.nics.{net_name}: {name}"
                    )
                if kind not in CARD_KINDS:
                    raise InterfaceError(
                        f"the address in networks.{net_name} ({network}) is on {name}, a {kind}, "
                        "which hastack's netplan file cannot make: matched by its MAC, the address "
                        f"would go on a card. Move it to a card and name that card under "
                        f"hosts.<host>.nics.{net_name}"
                    )
                return info["mac"] or name
    return None


def hosts_entries(hosts: list[dict], cluster: str, vip: str) -> list[dict]:
    """/etc/hosts lines: each host by its back address (front if it has none)."""
    entries = []
    for other in hosts:
        addresses = other["addresses"]
        entries.append({"address": topology.primary_address(addresses), "names": [other["name"]]})
        if "back" in addresses and "front" in addresses:
            entries.append({"address": addresses["front"], "names": [f"{other['name']}-front"]})
    entries.append({"address": vip, "names": [f"{cluster}-vip"]})
    return entries


# knet cannot time less than its 200 ms timer: corosync exits when asked to.
KNET_TIMER_MS = 200


def qdevice_timeout_ms(token_ms: int) -> int:
    """quorum.device.timeout: how often corosync-qdevice polls votequorum and, 0.8 of it, how
    often it tells qnetd it is alive; qnetd drops a client silent for 1.2 heartbeats. Its default,
    10 s, kept a silent (frozen or powered-off) VIP holder's vote for 9.6 s, and the other proxy
    waited that long for quorum: a 9.4 s gap at a 1500 ms token. 1.5 tokens: qnetd drops the
    silent proxy (1.44 x token) before Corosync forms its new membership (token + consensus,
    2.2 x token), so a silent death costs what a closed one does (hastack.timings.predicted_gap_s).
    A stall of qdevice itself may cost its vote after 0.6-0.75 x token (qnetd's and votequorum's
    timers), which with both proxies up keeps quorum. Below an 834 ms token qdevice raises the
    heartbeat to its own minimum (1 s)."""
    return token_ms * 3 // 2


def knet_link_timers(token_ms: int) -> tuple[int, int]:
    """(ping interval, ping timeout) in ms for corosync's knet links. Both links carry every
    packet (`link_mode: active`), so a link that goes silent costs nothing while the other
    works, and a link is declared down only after a whole token without an answer (one pong
    brings it back): a stall or a burst of loss shorter than the token leaves both links up.
    knet's own choice (token/4 and token/2, two pongs) took them down after half a token and
    back a half later: a stall of half a token formed a new membership (the timer table)."""
    timeout = max(KNET_TIMER_MS, token_ms)
    return max(KNET_TIMER_MS, token_ms // 4), timeout


def netplan_refusals(name: str, provides: dict, live: str, interfaces: list[dict]) -> list[str]:
    """Why hastack's netplan file must not replace the host's others (NetplanProvides): they give
    the host its default route or its DNS servers and hastack's would not (it would lose its way
    to the package mirror at the next apt); DNS servers where systemd-resolved, which netplan
    hands them to, does not run."""
    aside = {path: given for path, given in provides.get("files", {}).items() if path != live}
    route = any(nic["dhcp"] or nic.get("gateway") for nic in interfaces)
    dns = any(nic["dhcp"] or nic.get("nameservers") for nic in interfaces)
    static_dns = any(nic.get("nameservers") for nic in interfaces)
    fix = f"(under data:, or hosts.{name}.data), or list the interface that brings it under hosts.{name}.dhcp"
    problems = []
    losing_route = sorted(path for path, given in aside.items() if given["route"])
    if losing_route and not route:
        problems.append(
            f"host {name}: {', '.join(losing_route)} gives it its default route and hastack's netplan "
            f"file would not, so it would lose its way beyond its networks (the package mirror): set "
            f"netplan_gateways, as {{front: <router>}}, {fix}"
        )
    losing_dns = sorted(path for path, given in aside.items() if given["dns"])
    if losing_dns and not dns and provides.get("resolved"):
        problems.append(
            f"host {name}: {', '.join(losing_dns)} gives systemd-resolved its DNS servers and hastack's "
            f"netplan file would not, so names would stop resolving: set netplan_nameservers {fix}"
        )
    if static_dns and not provides.get("resolved"):
        problems.append(
            f"host {name}: netplan hands netplan_nameservers to systemd-resolved, which does not serve "
            "the host's names there (not running, or /etc/resolv.conf is not its file): install it "
            "(apt-get install systemd-resolved) and run again, or leave netplan_nameservers empty "
            "and keep the host's /etc/resolv.conf"
        )
    return problems


def nic_names(interfaces: list[dict], found: dict[str, dict]) -> list[str]:
    """The interface names hastack's netplan entries match on this host (Ipv4Interfaces: a MAC
    match is looked up among the host's interfaces; one that matches none is left out)."""
    names = []
    for nic in interfaces:
        if "match_key" not in nic:
            names.append(nic["id"])  # a bond or VLAN: its name
        elif nic["match_key"] == "name":
            names.append(nic["match"])
        else:
            names.extend(
                name for name, info in found.items() if info.get("mac", "").lower() == nic["match"].lower()
            )
    return names


IFUPDOWN_AT_BOOT = ("brought up at boot", "a member of")


def manager_refusals(name: str, managers: dict, nics: list[str]) -> list[str]:
    """Why hastack's netplan file must not take these interfaces (OtherNetworkManagers):
    ifupdown brings one of them up at boot (itself, or as a bridge, bond or VLAN member), or
    NetworkManager manages it, and two managers on one NIC fight over its addresses and routes.
    One only up now (its stanza gone, a reboot not yet made) is not refused: the reboot after
    the run ends it."""
    problems = []
    ifupdown = managers.get("ifupdown", {})
    for nic in nics:
        why = [*ifupdown.get(nic, []), *ifupdown.get("*", [])]
        if any(reason.startswith(IFUPDOWN_AT_BOOT) for reason in why):
            problems.append(
                f"host {name}: ifupdown drives {nic} too ({'; '.join(why)}), and hastack's netplan "
                f"file configures it: two managers would fight over it. Take {nic} out of ifupdown's "
                "stanzas in those files (its own, and any bridge, bond or VLAN that lists it; keep "
                "lo's) and run again, then reboot the host (a DHCP client ifupdown started stays "
                "until then). If cloud-init wrote the file, first put `network: {config: disabled}` "
                "in /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg, or it writes it again at "
                "boot. `apt-get purge ifupdown` also works, from a console: its stop runs `ifdown -a`"
            )
        state = managers.get("networkmanager", {}).get(nic)
        if state:
            problems.append(
                f"host {name}: NetworkManager manages {nic} ({state}), and hastack's netplan file "
                f"configures it for systemd-networkd: two managers would fight over it. Leave it "
                f"unmanaged (a file in /etc/NetworkManager/conf.d/ with `[keyfile]` and "
                f"`unmanaged-devices+=interface-name:{nic}`, then `systemctl reload NetworkManager`), "
                "or remove NetworkManager, and run again"
            )
    return problems
