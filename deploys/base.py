"""Base layer, every host: hostname, /etc/hosts, time sync, netplan, sshd."""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.operations import files, server, systemd
from pyinfra.operations.util import any_changed

from deploys.host_os import install, platform
from hastack.defaults import ROOT
from hastack.facts.network import Ipv4Interfaces
from hastack.network import InterfaceError, hosts_entries, netplan_interfaces
from hastack.operations.files import render_template, validated_file

TEMPLATES = ROOT / "templates" / "base"
SSHD_DROPIN = "/etc/ssh/sshd_config.d/10-hastack.conf"
# netplan reads only <root>/etc/netplan: validate the candidate in a scratch
# root, so that nothing under /run changes until the file is installed.
NETPLAN_VALIDATE = (
    "d=$(mktemp -d) && mkdir -p $d/etc/netplan && cp {path} $d/etc/netplan/hastack.yaml && "
    "netplan generate --root-dir $d; rc=$?; rm -rf $d; exit $rc"
)


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
        )
    except InterfaceError as error:
        raise DeployError(f"host {host.name}: {error}") from None
    netplan = validated_file(
        name=f"Write {host.data.netplan_file} (validated by netplan generate)",
        dest=host.data.netplan_file,
        content=_template("netplan.yaml.j2", interfaces=interfaces),
        validate=NETPLAN_VALIDATE,
        mode="600",
    )
    if host.data.netplan_apply:
        server.shell(name="Apply netplan", commands=["netplan apply"], _if=netplan.did_change)


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
