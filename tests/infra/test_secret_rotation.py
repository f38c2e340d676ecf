"""Rotating the cluster's secrets on the lab as docs/real-servers.md says: delete a secret's file
and deploy the proxies.

- A run that leaves a proxy out (--limit) is refused before any host is touched: a proxy left
  with the old authkey could not talk to the other, and both sides would take the VIP.
- Deployed to both proxies under the open-loop stream through the VIP (fixed rate, a fresh
  connection and a 1 s timeout per request), the new authkey is taken up by a reload: corosync
  keeps running on both, the membership does not change and no request fails. A proxy restarted
  afterwards rejoins, so the running key is the new one (with a key of its own it stays alone).
- The new hacluster password is set: pcs authenticates with it, and no longer with the old one.
- A second run changes nothing."""

import hashlib
import re

import pytest

from hastack import lab, secrets
from hastack.components.pacemaker import RUNNING_AUTHKEY
from hastack.deploying import run_deploy
from hastack.drill import Drills, failures, outage
from hastack.ssh import SiteHosts
from tests.harness import hastack_cli, lab_only_fixture

pytestmark = pytest.mark.lab

lab_only = lab_only_fixture("this test gives the lab's proxies a new authkey and hacluster password")

AUTHKEY = "/etc/corosync/authkey"
RELOAD = (
    "HA: Corosync and Pacemaker | Reload corosync's configuration and authkey on the cluster (no restart)"
)


def ring_id(host) -> str:
    """The totem ring's id: a new one with every membership change."""
    found = re.search(r"Ring ID:\s*(\S+)", host.run("corosync-quorumtool -s").stdout)
    return found.group(1) if found else "?"


def pcs_auth(site, name: str, names: list[str], password: str) -> int:
    """`pcs host auth` on ``name`` to ``names`` as hacluster with ``password``, given on its
    standard input (never on a command line)."""
    hosts = SiteHosts(site, timeout=120)
    try:
        return hosts.feed(name, f"pcs host auth {' '.join(names)} -u hacluster", f"{password}\n".encode())[0]
    finally:
        hosts.close()


def test_a_new_authkey_and_hacluster_password_take_effect_with_no_restart_and_no_failed_request(
    lab_only, site, deployed, connect, vip_holders
):
    proxies = sorted(p.name for p in site.hosts_in("proxy"))
    folder = secrets.secrets_dir(site.cluster)
    old_password = secrets.password(site.cluster, "hacluster_password")
    for name in ("corosync_authkey", "hacluster_password"):
        (folder / name).unlink()
    new_key = hashlib.sha256(secrets.key_file(site.cluster, "corosync_authkey").read_bytes()).hexdigest()
    new_password = secrets.password(site.cluster, "hacluster_password")

    def keys() -> dict[str, str]:
        return {p: connect(p).check_output(f"sha256sum {AUTHKEY}").split()[0] for p in proxies}

    def corosync_pids() -> dict[str, str]:
        return {p: connect(p).check_output("systemctl show -p MainPID --value corosync") for p in proxies}

    before = keys()
    limited = run_deploy(
        lab.SITE_FILE, "deploys/proxy.py", "--limit", proxies[0], log=lab.LAB_DIR / "rotate-limited.log"
    )
    after_refusal = keys()
    pids, ring, holders = corosync_pids(), ring_id(connect(proxies[0])), vip_holders()
    runs = {}

    def rotate() -> None:
        runs["rotate"] = run_deploy(lab.SITE_FILE, "deploys/proxy.py", log=lab.LAB_DIR / "rotate-secrets.log")

    drills = Drills(site)
    try:
        samples = drills.stream(rotate, until_done=600)
    finally:
        drills.close()
    failed = [s for s in samples if s[1] != 200]
    print(
        f"\n{len(samples)} requests while the secrets changed, {len(failed)} failed {failures(samples, None)}"
    )
    taken_up = (corosync_pids(), ring_id(connect(proxies[0])), keys(), vip_holders())

    # the proxy that does not hold the VIP, restarted: it reads the new key and rejoins
    other = next(p for p in proxies if p not in holders)
    online = f"Online: \\[ {' '.join(proxies)} \\]"
    rejoined = (
        connect(other)
        .run(
            "systemctl restart corosync pacemaker && for i in $(seq 60); do "
            f"crm_mon -1 2>/dev/null | grep -q '{online}' && exit 0; sleep 1; done; exit 1"
        )
        .rc
    )
    auth = (
        pcs_auth(site, proxies[0], proxies, new_password),
        pcs_auth(site, proxies[0], proxies, old_password),
    )
    # A rotation that a failed proxy cut short: corosync on proxies[1] noted as running another
    # key. verify says so; the next run reloads (and only that); the one after changes nothing.
    connect(proxies[1]).check_output(f"echo 0000 > {RUNNING_AUTHKEY}")
    cut_short = hastack_cli("verify", str(lab.SITE_FILE), "-k", "runs_the_kept_authkey")
    finished = run_deploy(lab.SITE_FILE, "deploys/proxy.py", log=lab.LAB_DIR / "rotate-finish.log")
    again = run_deploy(lab.SITE_FILE, "deploys/proxy.py", log=lab.LAB_DIR / "rotate-again.log")

    assert (limited.returncode != 0, "this run does not reach" in limited.output, after_refusal) == (
        True,
        True,
        before,
    ), limited.report(1500)
    assert runs["rotate"].returncode == 0, runs["rotate"].report(3000)
    assert (taken_up, len(samples) > 100, failed, outage(samples)) == (
        (pids, ring, dict.fromkeys(proxies, new_key), holders),
        True,
        [],
        0.0,
    )
    assert (rejoined, auth[0], auth[1] != 0) == (0, 0, True)
    assert (
        cut_short.returncode != 0,
        f"corosync runs an authkey other than the kept one ({RUNNING_AUTHKEY}: 0000)" in cut_short.stdout,
        finished.returncode,
        finished.changed_operations,
    ) == (True, True, 0, [f"{RELOAD} (1 hosts)"]), cut_short.stdout[-1500:] + finished.report(1500)
    assert (again.returncode, again.changed_operations) == (0, []), again.report(2000)
