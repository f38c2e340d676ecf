"""Base layer, every host: hostname, /etc/hosts, time sync, netplan, sshd."""

import hashlib
import io
import posixpath

from pyinfra import host
from pyinfra.api import OperationError, StringCommand, deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.files import Directory
from pyinfra.operations import files, python, server, systemd
from pyinfra.operations.util import any_changed

from hastack import neighbours
from hastack.components.host_os import install, platform
from hastack.defaults import ROOT
from hastack.facts.network import Ipv4Interfaces, NetplanFiles, NetplanProvides, OtherNetworkManagers
from hastack.network import (
    InterfaceError,
    hosts_entries,
    manager_refusals,
    netplan_interfaces,
    netplan_refusals,
    nic_names,
)
from hastack.operations.files import render_template, validated_file
from hastack.operations.guarded import Guard, apply_confirmed

TEMPLATES = ROOT / "templates" / "base"
SSHD_DROPIN = "/etc/ssh/sshd_config.d/10-hastack.conf"
# Where hastack keeps netplan's candidate file, the switch script, the previous files and
# the files it put aside (kept, never deleted).
NETPLAN_STATE = "/var/lib/hastack/netplan"
NETPLAN_SWITCH = f"{NETPLAN_STATE}/netplan-switch.sh"
# The whole set that will be live, validated in a scratch root (netplan reads <root>/etc,
# /run and /lib/netplan): the candidate, plus what hastack leaves in /run and /lib (the
# other files in /etc/netplan go aside). Nothing under /run changes until it is applied.
NETPLAN_VALIDATE = (
    "d=$(mktemp -d) && mkdir -p $d/etc/netplan $d/run/netplan $d/lib/netplan && "
    "cp {path} $d/etc/netplan/{name} && "
    "for dir in run lib; do for f in /$dir/netplan/*.yaml; do "
    "[ -e $f ] && cp $f $d/$dir/netplan/; done; done; "
    "netplan generate --root-dir $d; rc=$?; rm -rf $d; exit $rc"
)
CLOUD_INIT_DIR = "/etc/cloud/cloud.cfg.d"
CLOUD_INIT_NETWORK_OFF = (
    "# Managed by hastack: the network is hastack's netplan file.\nnetwork: {config: disabled}\n"
)
# cloud-init would set the hostname again at each boot (`preserve_hostname: false`) and rewrite
# /etc/hosts from its template (`manage_etc_hosts`): the brick and peer names would stop resolving.
# Its configuration files are merged in name order, the last one winning: this one's name sorts
# after the usual `NN-*.cfg` and `99_*.cfg` (Ubuntu's installer writes `99-installer.cfg`).
# User-data and vendor-data still win over it: verify names them when they set these keys.
CLOUD_INIT_IDENTITY_FILE = f"{CLOUD_INIT_DIR}/zz-hastack-identity.cfg"
CLOUD_INIT_IDENTITY_KEYS = ("preserve_hostname", "manage_etc_hosts")
CLOUD_INIT_IDENTITY_OFF = (
    "# Managed by hastack: the hostname and /etc/hosts are hastack's.\n"
    "preserve_hostname: true\nmanage_etc_hosts: false\n"
)
# A failed network change on one host stops it on the hosts after it (one at a time).
NETPLAN_GUARD = Guard("network", NETPLAN_SWITCH, "`netplan apply`", "hastack-netplan-apply")


def _template(name: str, **data) -> str:
    return render_template(str(TEMPLATES / name), **data)


def configure_identity() -> None:
    server.hostname(name="Set the hostname", hostname=host.name)
    files.template(
        name="Write /etc/hosts with every cluster host",
        src=str(TEMPLATES / "hosts.j2"),
        dest="/etc/hosts",
        mode="644",
        cluster=host.data.site_cluster,
        entries=hosts_entries(host.data.site_hosts, host.data.site_cluster, host.data.site_vip),
    )
    if host.get_fact(Directory, path=CLOUD_INIT_DIR):
        files.put(
            name="cloud-init leaves the hostname and /etc/hosts to hastack",
            src=io.StringIO(CLOUD_INIT_IDENTITY_OFF),
            dest=CLOUD_INIT_IDENTITY_FILE,
            mode="644",
        )


def configure_time() -> None:
    # Written before chrony is installed, so its first start already follows them.
    this = platform()
    folder = this.chrony_conf.rsplit("/", 1)[0]
    files.directory(name=f"Create {folder}", path=folder)
    conf = files.template(
        name="Configure chrony",
        src=str(TEMPLATES / "chrony.conf.j2"),
        dest=this.chrony_conf,
        servers=host.data.chrony_servers,
    )
    options = files.template(
        name="Set chronyd options",
        src=str(TEMPLATES / "chrony.default.j2"),
        dest=this.chrony_options[0],
        variable=this.chrony_options[1],
        set_clock=host.data.chrony_set_clock,
    )
    return conf, options


def install_base() -> None:
    install("Install base packages", platform().base_packages)


def configure_netplan() -> None:
    try:
        interfaces = netplan_interfaces(
            host.data.site_addresses,
            host.data.site_networks,
            host.data.site_nics,
            host.data.site_dhcp,
            host.get_fact(Ipv4Interfaces),
            gateways=host.data.netplan_gateways,
            nameservers=host.data.netplan_nameservers,
            search=host.data.netplan_search,
            mtu=host.data.netplan_mtu,
            routes=host.data.netplan_routes,
            bonds=host.data.site_bonds,
            vlans=host.data.site_vlans,
        )
    except InterfaceError as error:
        raise DeployError(f"host {host.name}: {error}") from None
    content = _template("netplan.yaml.j2", interfaces=interfaces)
    live = host.data.netplan_file
    refused = netplan_refusals(host.name, host.get_fact(NetplanProvides), live, interfaces)
    refused += manager_refusals(
        host.name, host.get_fact(OtherNetworkManagers), nic_names(interfaces, host.get_fact(Ipv4Interfaces))
    )
    if refused:
        raise DeployError("; ".join(refused) + ". Nothing was changed on any host.")
    found = host.get_fact(NetplanFiles)
    others = sorted(path for path in found if path != live)
    if found.get(live) == hashlib.sha256(content.encode()).hexdigest() and not others:
        host.noop(f"{live} is the host's only netplan file, up to date")
        return
    files.directory(name="hastack's netplan folder", path=NETPLAN_STATE, mode="700")
    files.put(
        name="The netplan switch (aside, apply, confirm, roll back)",
        src=str(TEMPLATES / "netplan-switch.sh"),
        dest=NETPLAN_SWITCH,
        mode="700",
    )
    validated_file(
        name=f"Stage {live} (the whole set that will be live validated by netplan generate)",
        dest=f"{NETPLAN_STATE}/candidate.yaml",
        content=content,
        validate=NETPLAN_VALIDATE.replace("{name}", posixpath.basename(live)),
        mode="600",
    )
    if host.get_fact(Directory, path=CLOUD_INIT_DIR):
        files.put(
            name="cloud-init leaves the network to hastack",
            src=io.StringIO(CLOUD_INIT_NETWORK_OFF),
            dest=f"{CLOUD_INIT_DIR}/99-hastack-network.cfg",
        )
    aside = f", {', '.join(others)} aside" if others else ""
    if not host.data.netplan_apply:
        server.shell(
            name=f"Put {live} live{aside} (applied at the next boot)",
            commands=[f"sh {NETPLAN_SWITCH} install {live}"],
        )
        return
    python.call(
        name=f"Apply {live}{aside} (host by host; kept after a new SSH login, else rolled back)",
        function=apply_netplan,
        live=live,
        seconds=host.data.netplan_confirm_seconds,
        _serial=True,
    )


def apply_netplan(live: str, seconds: int) -> None:
    """Apply the staged netplan file here and keep it only if a new SSH login (from the
    machine running pyinfra) reaches the host within ``seconds``; else the host puts its
    previous files back by itself when its timer fires. Runs host by host.

    First, apart from the apply, the host notes what works now (a default route, the package
    mirror): the confirmation asks it again (netplan-switch.sh)."""
    noted, output = host.run_shell_command(
        StringCommand(f"sh {NETPLAN_SWITCH} note"), _sudo=bool(host.data.get("_sudo"))
    )
    if not noted:
        raise OperationError(
            f"host {host.name}: the netplan switch could not note what works before the change, "
            f"nothing was changed: {output.stderr if output else ''}"
        )
    apply_confirmed(
        NETPLAN_GUARD,
        [live],
        seconds,
        f"Check hosts.{host.name}.nics, addresses and dhcp in the site file with {live} "
        f"(log on the host: {NETPLAN_STATE}/switch.log)",
    )


def configure_sshd() -> None:
    dropin = validated_file(
        name="Allow root over SSH by key only (validated by sshd -t)",
        dest=SSHD_DROPIN,
        content=_template("sshd.conf.j2"),
        validate="sshd -t -f {path}",
    )
    systemd.service(
        name="Reload sshd", service=platform().ssh_service, running=True, reloaded=True, _if=dropin.did_change
    )


@deploy("Base: hostname, hosts, time, netplan, sshd")
def deploy_base() -> None:
    configure_identity()
    chrony_conf, chrony_options = configure_time()
    install_base()
    chrony = platform().chrony_service
    systemd.service(name="Run chrony", service=chrony, running=True, enabled=True)
    systemd.service(
        name="Restart chrony on a new configuration",
        service=chrony,
        restarted=True,
        _if=any_changed(chrony_conf, chrony_options),
    )
    configure_netplan()
    configure_sshd()
    unattended_upgrades_policy()


def unattended_upgrades_policy() -> None:
    """The site's choice for unattended-upgrades (data key unattended_upgrades), as apt settings;
    none chosen: hastack's file is gone (the preflight has refused a host where it runs)."""
    if platform().packager != "apt":
        return
    conf = neighbours.unattended_conf(host.data.unattended_upgrades)
    if conf is None:
        files.file(
            name="No unattended-upgrades policy chosen (unattended_upgrades)",
            path=neighbours.UNATTENDED_CONF,
            present=False,
        )
        return
    files.put(
        name=f"unattended-upgrades: {host.data.unattended_upgrades} (unattended_upgrades)",
        src=io.StringIO(conf),
        dest=neighbours.UNATTENDED_CONF,
        mode="644",
    )
