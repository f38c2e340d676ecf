"""Monitoring, every host: SNMPv3 agent, Ganglia gmond (unicast), gmetad on the web hosts."""

import hashlib

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.api.command import MaskString, StringCommand
from pyinfra.facts.files import FileContents
from pyinfra.operations import apt, files, server, systemd

from hastack import secrets
from hastack.defaults import ROOT, component_defaults
from hastack.operations.files import render_template, validated_file

DEFAULTS = {
    **component_defaults("monitoring_"),
    **component_defaults("snmp_"),
    **component_defaults("ganglia_"),
}
TEMPLATES = ROOT / "templates" / "monitoring"
SNMP_STAMP = "/var/lib/hastack/snmp-user.sha256"
# snmpd's own state file: it turns createUser lines into localized keys there.
SNMP_STATE = "/var/lib/snmp/snmpd.conf"


def own_address() -> str:
    """Where this host's agents listen: its back address, else its front (the client)."""
    addresses = host.data.site_addresses
    return addresses.get("back") or addresses["front"]


def collectors() -> list[str]:
    """The proxies' addresses on a network this host shares with them."""
    network = "back" if "back" in host.data.site_addresses else "front"
    return [other["addresses"][network] for other in host.data.site_hosts if other["role"] == "proxy"]


def configure_snmp() -> None:
    cluster = host.data.site_cluster
    user = host.data.snmp_user
    auth = secrets.password(cluster, "snmp_auth_password")
    priv = secrets.password(cluster, "snmp_priv_password")
    apt.packages(name="Install snmpd", packages=["snmpd"], update=True, cache_time=3600)
    conf = validated_file(
        name="Configure snmpd: SNMPv3 only, on this host's own network",
        dest="/etc/snmp/snmpd.conf",
        content=render_template(
            str(TEMPLATES / "snmpd.conf.j2"),
            address=own_address(),
            location=host.data.snmp_location,
            contact=host.data.snmp_contact,
            user=user,
        ),
        mode="600",
    )
    # The user's keys live in snmpd's own state file, which it rewrites on exit:
    # change it only with snmpd stopped. A stamp of the credentials tells
    # whether the user there is the one the secrets describe.
    wanted = hashlib.sha256(f"{user}:{auth}:{priv}".encode()).hexdigest()
    user_made = None
    if (host.get_fact(FileContents, path=SNMP_STAMP) or [""])[0] != wanted:
        create = f'createUser {user} SHA-256 "{auth}" AES "{priv}"'
        user_made = server.shell(
            name=f"Create the SNMPv3 user {user} (generated secrets)",
            commands=[
                "systemctl stop snmpd",
                f"test -e {SNMP_STATE} || "
                f"install -o Debian-snmp -g Debian-snmp -m 600 /dev/null {SNMP_STATE}",
                f"sed -i '/^usmUser /d' {SNMP_STATE}",
                StringCommand("echo", MaskString(f"'{create}'"), ">>", SNMP_STATE),
                f"mkdir -p /var/lib/hastack && echo {wanted} > {SNMP_STAMP}",
                "systemctl start snmpd",
            ],
        )
    systemd.service(name="Run snmpd", service="snmpd", running=True, enabled=True)
    # A restart, not a reload: after a SIGHUP snmpd denied the SNMPv3 user
    # access (seen in the lab). The user step above already restarted it.
    systemd.service(
        name="Restart snmpd with its new configuration",
        service="snmpd",
        restarted=True,
        _if=lambda: conf.did_change() and not (user_made and user_made.did_change()),
    )


def configure_gmond() -> None:
    apt.packages(name="Install gmond", packages=["ganglia-monitor"], update=True, cache_time=3600)
    conf = files.template(
        name="Configure gmond: unicast to the collectors",
        src=str(TEMPLATES / "gmond.conf.j2"),
        dest="/etc/ganglia/gmond.conf",
        cluster=host.data.site_cluster,
        location=host.data.snmp_location,
        send_to=collectors(),
        port=host.data.ganglia_port,
        collector="proxy" in host.groups,
    )
    systemd.service(name="Run gmond", service="ganglia-monitor", running=True, enabled=True)
    systemd.service(name="Restart gmond", service="ganglia-monitor", restarted=True, _if=conf.did_change)


def configure_gmetad() -> None:
    apt.packages(name="Install gmetad", packages=["gmetad"], update=True, cache_time=3600)
    gmetad = files.template(
        name="Configure gmetad: poll the collectors",
        src=str(TEMPLATES / "gmetad.conf.j2"),
        dest="/etc/ganglia/gmetad.conf",
        cluster=host.data.site_cluster,
        collectors=[other["addresses"]["back"] for other in host.data.site_hosts if other["role"] == "proxy"],
        port=host.data.ganglia_port,
        poll_seconds=host.data.ganglia_poll_seconds,
    )
    systemd.service(name="Run gmetad", service="gmetad", running=True, enabled=True)
    systemd.service(name="Restart gmetad", service="gmetad", restarted=True, _if=gmetad.did_change)


@deploy("Monitoring: SNMP and Ganglia", data_defaults=DEFAULTS)
def deploy_monitoring() -> None:
    configure_snmp()
    configure_gmond()
    if "web" in host.groups:
        configure_gmetad()
