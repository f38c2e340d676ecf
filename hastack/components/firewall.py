"""Firewall, every host: nftables, inbound dropped but for what the design needs.

The allow list comes from the site (hastack/firewall.py), into hastack's own table
`inet hastack` only: Docker's tables and any other stay. A new table is checked with
`nft -c`, then loaded host by host and kept only after a new SSH login; else the host puts
its previous table back by itself (templates/firewall/firewall-switch.sh).
"""

import hashlib

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, python, server, systemd
from pyinfra.operations.util import any_changed

from hastack import firewall
from hastack.components.host_os import install
from hastack.defaults import ROOT
from hastack.facts.firewall import STATE, HastackFirewall
from hastack.operations.files import validated_file
from hastack.operations.guarded import Guard, apply_confirmed

TEMPLATES = ROOT / "templates" / "firewall"
SWITCH = f"{STATE}/firewall-switch.sh"
CANDIDATE = f"{STATE}/candidate.nft"
UNIT = "hastack-firewall.service"
# A failed firewall change on one host stops it on the hosts after it.
FIREWALL_GUARD = Guard("firewall", SWITCH, "loading the firewall (nft -f)", "hastack-firewall-apply")


def host_rules() -> str:
    rules = firewall.allowed(
        host.data.site_hosts,
        host.name,
        lambda key: host.data.get(key),
        host.data.site_networks,
        host.data.site_vip,
        host.data.ssh_port,
    )
    return firewall.render_nft(rules, host.name, host.data.site_role)


def apply_firewall(seconds: int) -> None:
    apply_confirmed(
        FIREWALL_GUARD,
        [CANDIDATE],
        seconds,
        f"Check data.admin_networks and ssh.port in the site file (log on the host: {STATE}/switch.log)",
    )


def rpcbind_off() -> None:
    """rpcbind (port 111) comes with GlusterFS's packages (through nfs-common), but nothing
    hastack runs uses it: no NFS. Masked before any package can bring it (a mask is a link
    to /dev/null, made whether the unit exists yet or not), and stopped where it ran."""
    units = ("rpcbind.service", "rpcbind.socket")
    masks = [
        files.link(
            name=f"Mask {unit} (nothing here uses rpcbind)",
            path=f"/etc/systemd/system/{unit}",
            target="/dev/null",
        )
        for unit in units
    ]
    server.shell(
        name="Stop rpcbind where it ran",
        commands=[f"systemctl daemon-reload && systemctl stop {' '.join(units)}"],
        _if=any_changed(*masks),
    )


@deploy("Firewall: nftables")
def deploy_firewall() -> None:
    state = host.get_fact(HastackFirewall)
    if not host.data.firewall_enabled:
        if state.get("table") or state.get("boot_file"):
            server.shell(
                name="Remove hastack's firewall table (firewall_enabled: false)",
                commands=[f"sh {SWITCH} off"],
            )
        systemd.service(name="No hastack firewall at boot", service=UNIT, enabled=False, running=None)
        return
    install("Install nftables", ["nftables"])
    files.directory(name="hastack's firewall folder", path=STATE, mode="700")
    files.put(
        name="The firewall switch (check, load, confirm, roll back)",
        src=str(TEMPLATES / "firewall-switch.sh"),
        dest=SWITCH,
        mode="700",
    )
    unit = files.put(
        name="Load hastack's table at boot, before the network",
        src=str(TEMPLATES / "hastack-firewall.service"),
        dest=f"/etc/systemd/system/{UNIT}",
    )
    content = host_rules()
    validated_file(
        name="Stage the host's nftables table (checked with nft -c)",
        dest=CANDIDATE,
        content=content,
        validate="nft -c -f {path}",
        mode="600",
    )
    systemd.daemon_reload(name="systemd reads the new unit", _if=unit.did_change)
    systemd.service(name="Load it at boot", service=UNIT, enabled=True, running=None)
    wanted = hashlib.sha256(content.encode()).hexdigest()
    if state.get("boot_file") == wanted and state.get("table_as_confirmed"):
        host.noop("the firewall table is live as confirmed, and loaded at boot")
        return
    python.call(
        name="Load the firewall (host by host; kept after a new SSH login, else rolled back)",
        function=apply_firewall,
        seconds=host.data.firewall_confirm_seconds,
        _serial=True,
    )
