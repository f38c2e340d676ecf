"""HTTPS, proxy hosts: the VIP's certificate from an ACME server (tls_acme_directory), by uacme.

uacme (Debian's package: a small C client, in every release hastack runs, with a hook for
challenges) obtains and renews the certificate on each proxy. HAProxy answers the HTTP-01
challenges itself from the shared account key's thumbprint (hastack/acme.py), so nothing
depends on which proxy holds the VIP, and no file travels between the proxies: each has its
own certificate for the same names, renewed on its own timer.
"""

from __future__ import annotations

import shlex
import urllib.parse

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.files import File
from pyinfra.operations import files, server, systemd

from hastack import acme
from hastack.components.haproxy import ADMIN_SOCKET, acme_thumbprint, certificate_file
from hastack.components.host_os import install, put_secret, run_timer
from hastack.defaults import ROOT
from hastack.facts.acme import AcmeCertificate, AcmeDirectoryAnswer

TEMPLATES = ROOT / "templates" / "acme"
CONF_DIR = "/etc/hastack/acme"
HOOK = "/usr/local/lib/hastack/acme-hook"
RUN = "/usr/local/sbin/hastack-acme"
UNIT = "hastack-acme"
STATE = "/var/lib/hastack/acme.state"
# The ACME server's own CA (tls_acme_ca_bundle), in the system's trust store.
CA_FILE = "/usr/local/share/ca-certificates/hastack-acme.crt"
# uacme renews a certificate that expires within this many days.
RENEW_DAYS = 30
# A deploy obtains a certificate only below this many days left (or for new names); renewals
# before that are the timer's (uacme 1.7.6 renews in the server's window, ARI, which a deploy
# that asked at 30 days would run into at every run for days).
DEPLOY_RENEW_DAYS = 10
# The longest one uacme run may take (a server that drops what it is sent would hold it).
UACME_TIMEOUT_S = 300


def refuse_an_acme_directory_that_does_not_answer() -> None:
    """A proxy that needs a certificate (none yet, new names, one about to expire) and cannot
    reach the site's ACME directory is refused while pyinfra prepares, before any host changes:
    its run would end without the certificate it needs. One whose certificate is current is
    warned only: the certificate stays served, and a deploy (an urgent change of HAProxy) goes
    on while the ACME server is away."""
    directory = host.data.tls_acme_directory
    if "proxy" not in host.groups or not directory:
        return
    parts = urllib.parse.urlsplit(directory)
    answer = host.get_fact(
        AcmeDirectoryAnswer, url=directory, address=parts.hostname or "", port=parts.port or 443
    )
    if answer == "answers":
        return
    said = (
        f"host {host.name}: the ACME directory {directory} (data key tls_acme_directory) does not "
        f"answer from this host ({answer.removeprefix('no: ')})"
    )
    fix = "check the URL, and the host's route, DNS and firewall towards it, then run again"
    state = certificate_state()
    if state == "current":
        logger.warning(
            f"{said}: its certificate is current and stays served; renewals fail until it does: {fix}"
        )
        return
    raise DeployError(
        f"{said}, and it needs a certificate ({STATE_SAID[state]}): {fix}. Nothing was changed on any host."
    )


# What AcmeCertificate's answers mean, for a refusal.
STATE_SAID = {
    "none": "it has none yet",
    "expiring": f"its certificate expires within {DEPLOY_RENEW_DAYS} days",
    "names": "its certificate lacks names of tls_names",
    "unserved": "HAProxy does not serve its certificate",
}


def certificate_state() -> str:
    """AcmeCertificate for this proxy and the site's names."""
    names = sorted(set(host.data.tls_names))
    return host.get_fact(
        AcmeCertificate,
        conf_dir=CONF_DIR,
        first=names[0],
        names=" ".join(names),
        pem=certificate_file(),
        days=DEPLOY_RENEW_DAYS,
    )


def deploy_acme() -> None:
    if not host.data.tls_acme_directory:
        switch_off()
        return
    install("Install uacme", ["uacme", "openssl", "socat", "ca-certificates"])
    files.directory(name=f"uacme's folder ({CONF_DIR}, root only)", path=CONF_DIR, mode="700")
    files.directory(name=f"uacme's keys ({CONF_DIR}/private)", path=f"{CONF_DIR}/private", mode="700")
    put_secret(
        "The ACME account key, shared by the proxies (0600)",
        acme.account_key(host.data.site_cluster),
        f"{CONF_DIR}/private/key.pem",
    )
    trust_the_servers_ca(host.data.tls_acme_ca_bundle)
    names = sorted(set(host.data.tls_names))
    files.put(
        name=f"uacme's challenge hook ({HOOK})", src=str(TEMPLATES / "acme-hook.sh"), dest=HOOK, mode="755"
    )
    quoted = {
        key: shlex.quote(str(value))
        for key, value in {
            "conf_dir": CONF_DIR,
            "directory": host.data.tls_acme_directory,
            "email": host.data.tls_acme_email,
            "hook": HOOK,
            "haproxy_pem": certificate_file(),
            "state_file": STATE,
            "admin_socket": ADMIN_SOCKET,
            "vip": host.data.site_vip,
            "thumbprint": acme_thumbprint(),
            "first_name": names[0],
        }.items()
    }
    script = files.template(
        name=f"The certificate's run ({RUN})",
        src=str(TEMPLATES / "hastack-acme.sh.j2"),
        dest=RUN,
        mode="755",
        names_quoted=" ".join(shlex.quote(name) for name in names),
        names_text=" ".join(names),
        renew_days=RENEW_DAYS,
        timeout_s=UACME_TIMEOUT_S,
        **quoted,
    )
    service = files.put(
        name=f"The certificate's unit ({UNIT}.service)",
        src=str(TEMPLATES / "hastack-acme.service"),
        dest=f"/etc/systemd/system/{UNIT}.service",
        mode="644",
    )
    timer = files.put(
        name=f"Its timer, twice a day ({UNIT}.timer)",
        src=str(TEMPLATES / "hastack-acme.timer"),
        dest=f"/etc/systemd/system/{UNIT}.timer",
        mode="644",
    )
    run_timer(UNIT, "the certificate's renewal", service, timer)
    state = certificate_state()
    server.shell(
        name="Obtain the VIP's certificate from the ACME server",
        commands=[f"{RUN} --force" if state == "names" else RUN],
        _if=lambda: state != "current" or script.did_change(),
        # A refusal of the ACME server (names not pointing here yet, a rate limit) leaves the
        # certificate served before; the rest of the deploy goes on (verify says what is served).
        _ignore_errors=True,
    )


def trust_the_servers_ca(bundle: str) -> None:
    """The ACME server's own CA (``bundle``, a file on the machine running pyinfra) in the
    system's trust store, for uacme; none (empty) leaves only the system's own."""
    if bundle:
        trusted = files.put(
            name="Trust the ACME server's CA (tls_acme_ca_bundle)", src=bundle, dest=CA_FILE, mode="644"
        )
    else:
        trusted = files.file(name="No CA of an ACME server's trusted by hastack", path=CA_FILE, present=False)
    server.shell(
        name="Update the trust store",
        commands=["update-ca-certificates --fresh >/dev/null"],
        _if=trusted.did_change,
    )


def switch_off() -> None:
    """No ACME: hastack's timer, script and hook go (HAProxy's file is the site's certificate or
    the site CA's again, put by the HAProxy step); uacme's folder is kept (its keys and
    certificates, should ACME come back)."""
    timer = f"/etc/systemd/system/{UNIT}.timer"
    if not host.get_fact(File, path=timer):
        return
    systemd.service(
        name="Stop the certificate's timer", service=f"{UNIT}.timer", running=False, enabled=False
    )
    for path in (timer, f"/etc/systemd/system/{UNIT}.service", RUN, HOOK, STATE):
        files.file(name=f"Remove {path}", path=path, present=False)
    trust_the_servers_ca("")
    systemd.daemon_reload(name="Forget the certificate's units")


@deploy("HTTPS: the certificate from the ACME server")
def deploy_acme_certificate() -> None:
    deploy_acme()
