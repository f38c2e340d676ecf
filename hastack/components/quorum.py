"""The quorum device: corosync-qnetd on the host the site names (``quorum_device_host``),
corosync-qdevice on the proxies. See hastack/qdevice.py for the certificates."""

import io
import shlex

from pyinfra import host
from pyinfra.operations import files, server, systemd

from hastack import qdevice, topology
from hastack.components.host_os import SECRET_DIR, install
from hastack.facts.quorum import NssCertificates

QNETD_DEFAULTS = "/etc/default/corosync-qnetd"


def enabled() -> bool:
    return bool(host.data.quorum_device_host)


def address() -> str:
    spec = next(other for other in host.data.site_hosts if other["name"] == host.data.quorum_device_host)
    proxies = topology.in_role(host.data.site_hosts, "proxy")
    return qdevice.qnetd_address(spec["addresses"], [proxy["addresses"] for proxy in proxies])


def nss_database(database: str, p12, wanted: dict[str, str], owner: str, service: str):
    """The NSS database of qnetd or qdevice holds exactly the site's CA (trusted for both ends)
    and this end's certificate: made anew from the PKCS#12 when it does not (the password in a
    private file, both removed after), the service restarted. Returns the rebuild operation."""
    found = host.get_fact(NssCertificates, database=database, nicknames=sorted(wanted))
    if {name: entry["sha256"] for name, entry in found.items()} == wanted and found[qdevice.CA_NICKNAME][
        "trust"
    ].startswith("CT"):
        return None
    material = qdevice.material(host.data.site_cluster)
    files.directory(name="A private folder for secrets in transit", path=SECRET_DIR, mode="700")
    bundle, secret = f"{SECRET_DIR}/qdevice.p12", f"{SECRET_DIR}/qdevice.p12.pass"
    files.put(
        name="Hand over the quorum device's certificate (PKCS#12)", src=str(p12), dest=bundle, mode="600"
    )
    files.put(
        name="Hand over its password in a private file (a generated secret)",
        src=io.StringIO(material.password_file.read_text().strip() + "\n"),
        dest=secret,
        mode="600",
    )
    db, sql = shlex.quote(database), shlex.quote(f"sql:{database}")
    ca = shlex.quote(qdevice.CA_NICKNAME)
    return server.shell(
        name=f"The quorum device's NSS database ({database}): the site's CA and certificate",
        commands=[
            f"systemctl stop {service}; rm -rf {db} && mkdir -p {db} && "
            f"certutil -N -d {sql} --empty-password && "
            f"pk12util -i {bundle} -d {sql} -w {secret} >/dev/null && "
            f"certutil -M -d {sql} -n {ca} -t CT,, && "
            f"chown -R {owner} {db} && chmod 0750 {db} && chmod 0640 {db}/*; "
            f"status=$?; rm -f {bundle} {secret}; exit $status"
        ],
    )


# Each end of the device: its package (and service), its NSS database, the nickname of its
# certificate, and who owns the database (qnetd runs as coroqnetd, Debian's unit, which reads
# its database through the group; qdevice runs as root).
ENDS = {
    "server": ("corosync-qnetd", qdevice.QNETD_DB, qdevice.SERVER_NICKNAME, "root:coroqnetd"),
    "client": ("corosync-qdevice", qdevice.QDEVICE_DB, qdevice.CLIENT_NICKNAME, "root:root"),
}


def end_of_the_device(end: str):
    """Install one end's package and its NSS database; returns the database's rebuild (None when
    it already holds the site's certificates)."""
    package, database, nickname, owner = ENDS[end]
    install(f"Install {package} (the quorum device's {end})", [package, "libnss3-tools"])
    material = qdevice.material(host.data.site_cluster)
    p12, fingerprint = (
        (material.server_p12, material.server_fingerprint)
        if end == "server"
        else (material.client_p12, material.client_fingerprint)
    )
    return nss_database(
        database, p12, {qdevice.CA_NICKNAME: material.ca_fingerprint, nickname: fingerprint}, owner, package
    )


def deploy_qnetd() -> None:
    """corosync-qnetd on the quorum device's host, on the one address the proxies reach."""
    rebuilt = end_of_the_device("server")
    options = files.put(
        name=f"corosync-qnetd listens on {address()} only",
        src=io.StringIO(
            "# Managed by hastack: qnetd on the address the proxies reach it on.\n"
            f'COROSYNC_QNETD_OPTIONS="-l {address()} -p {qdevice.QNETD_PORT}"\n'
        ),
        dest=QNETD_DEFAULTS,
        mode="644",
    )
    systemd.service(name="Run corosync-qnetd", service="corosync-qnetd", running=True, enabled=True)
    systemd.service(
        name="Restart corosync-qnetd on its new address or certificates",
        service="corosync-qnetd",
        restarted=True,
        _if=lambda: options.did_change() or (rebuilt is not None and rebuilt.did_change()),
    )


def deploy_qdevice():
    """corosync-qdevice on a proxy: its certificate and the heuristic; corosync.conf (written by
    the pacemaker component) names the device, which starts it. Returns the database's rebuild
    (None when it holds the site's certificates)."""
    rebuilt = end_of_the_device("client")
    files.put(
        name="The quorum heuristic: does this proxy hold the VIP",
        src=io.StringIO(
            "#!/bin/sh\n# Managed by hastack: corosync-qdevice's heuristic (exit 0: this proxy holds\n"
            "# the VIP), so that of two equal sides the one serving keeps quorum.\n"
            f"ip -o -4 addr show | grep -q ' inet {host.data.site_vip}/'\n"
        ),
        dest=qdevice.HOLDS_VIP,
        mode="755",
    )
    return rebuilt
