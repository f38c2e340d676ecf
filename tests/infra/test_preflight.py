"""The preflight, before anything changes: a host whose OS the map does not know stops the
whole run with nothing changed anywhere; a host whose apt is busy with its own jobs is
waited for, within a bound; a non-root user deploys through sudo."""

import subprocess

import pytest

from hastack import lab, neighbours, platforms
from hastack.deploying import run_deploy
from hastack.site import dump_site, load_site
from tests.harness import lab_only_fixture

pytestmark = pytest.mark.lab

ROCKY = 'PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\nNAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.4"\n'
MARKER = "# hastack preflight test: a deploy that runs removes this line"


lab_only = lab_only_fixture("the preflight tests change hosts")


def test_an_unknown_os_stops_the_run_before_any_host_changes(deployed, lab_only, connect, site):
    client = connect("client")
    web = site.hosts_in("web")[0].name
    # Something the deploy repairs on another host: it must still be there after the run.
    connect(web).check_output(f"echo '{MARKER}' >> /etc/hosts")
    client.check_output("mv /etc/os-release /etc/os-release.hastack-test")
    try:
        client.check_output(f"printf '%s' '{ROCKY}' > /etc/os-release")
        run = run_deploy(lab.SITE_FILE, log=lab.LAB_DIR / "preflight-unknown-os.log")
    finally:
        client.check_output("rm -f /etc/os-release && mv /etc/os-release.hastack-test /etc/os-release")
        untouched = MARKER in connect(web).file("/etc/hosts").content_string
        connect(web).check_output(f"sed -i '/^{MARKER}$/d' /etc/hosts")
    assert (
        run.returncode != 0,
        "host client runs Rocky Linux 9.4 (Blue Onyx), which hastack does not support" in run.output,
        "Debian 13 trixie (debian 13)" in run.output,
        "Beginning operation run" in run.output,
        untouched,
    ) == (True, True, True, False, True), run.report(2000)


APT_DAILY_DROPIN = "/run/systemd/system/apt-daily.service.d/hastack-test.conf"


@pytest.fixture
def busy_apt(connect):
    """apt-daily.service at work on the client for 25 s (its job replaced by a sleep)."""
    client = connect("client")

    def start() -> None:
        client.check_output(
            f"mkdir -p $(dirname {APT_DAILY_DROPIN}) && "
            f"printf '[Service]\\nExecStart=\\nExecStart=/bin/sleep 25\\n' > {APT_DAILY_DROPIN} && "
            "systemctl daemon-reload && systemctl start --no-block apt-daily.service"
        )

    yield start
    client.run("systemctl stop apt-daily.service")
    client.check_output(f"rm -f {APT_DAILY_DROPIN} && systemctl daemon-reload")


def apt_daily_state(connect) -> str:
    return connect("client").check_output("systemctl show -p ActiveState --value apt-daily.service")


def test_a_busy_apt_is_waited_for(deployed, lab_only, connect, busy_apt):
    busy_apt()
    assert apt_daily_state(connect) == "activating"
    log = lab.LAB_DIR / "apt-wait.log"
    run = run_deploy(lab.SITE_FILE, "deploys/client.py", "--limit", "client", log=log)
    # The deploy of one host changing nothing takes a few seconds: it ended after apt-daily
    # only because it waited for it.
    assert (run.returncode, apt_daily_state(connect), run.changed_operations) == (0, "inactive", [])


def test_apt_busy_beyond_the_bound_fails_naming_the_host_and_the_job(deployed, lab_only, connect, busy_apt):
    site_file = lab.derived_site(lab.LAB_DIR / "site-apt-wait.yaml", apt_wait_seconds=2)
    busy_apt()
    run = run_deploy(site_file, "deploys/client.py", "--limit", "client", log=lab.LAB_DIR / "apt-busy.log")
    message = "host client: apt is still held by apt-daily.service after 2 s (data key apt_wait_seconds)"
    assert (run.returncode != 0, message in run.output, "Beginning operation run" in run.output) == (
        True,
        True,
        False,
    ), run.report(2000)


def test_a_sudo_user_deploys_and_changes_nothing_on_a_deployed_cluster(deployed, lab_only):
    """Every fact and operation of a whole deploy through `sudo` (the lab's user deployer);
    CI's Debian 12 run deploys the whole cluster that way from nothing."""
    document = load_site(lab.SITE_FILE).document()
    document["ssh"]["user"] = lab.SUDO_USER
    site_file = lab.LAB_DIR / "site-sudo.yaml"
    site_file.write_text(dump_site(document))
    run = run_deploy(site_file, log=lab.LAB_DIR / "deploy-sudo.log")
    # the one thing a first deploy as this user makes: its private upload folder
    changed = [op for op in run.changed_operations if not op.startswith("A private folder for the uploads")]
    assert (run.returncode, changed) == (0, []), run.report(2000)


def refused_untouched(connect, site, run_it) -> tuple:
    """Run a deploy that must be refused: (the run, whether a line the deploy would remove
    from a web host's /etc/hosts is still there after it)."""
    web = site.hosts_in("web")[0].name
    connect(web).check_output(f"echo '{MARKER}' >> /etc/hosts")
    try:
        run = run_it()
    finally:
        untouched = MARKER in connect(web, fresh=True).file("/etc/hosts").content_string
        connect(web).check_output(f"sed -i '/^{MARKER}$/d' /etc/hosts")
    return run, untouched


def test_a_host_that_does_not_answer_stops_the_run_naming_it(deployed, lab_only, connect, site):
    client = f"{lab.PREFIX}-client"
    subprocess.run(["docker", "pause", client], check=True, capture_output=True)
    try:
        run, untouched = refused_untouched(
            connect, site, lambda: run_deploy(lab.SITE_FILE, log=lab.LAB_DIR / "preflight-unreachable.log")
        )
    finally:
        subprocess.run(["docker", "unpause", client], check=True, capture_output=True)
    assert (
        run.returncode != 0,
        "client did not answer over SSH, so the run stops before any change" in run.output,
        "Beginning operation run" in run.output,
        untouched,
    ) == (True, True, False, True), run.report(2000)


def test_a_limited_run_leaves_a_host_that_does_not_answer_out(deployed, lab_only, connect, site):
    client = f"{lab.PREFIX}-client"
    subprocess.run(["docker", "pause", client], check=True, capture_output=True)
    try:
        run = run_deploy(
            lab.SITE_FILE, "deploys/proxy.py", "--limit", "proxy1", log=lab.LAB_DIR / "limited.log"
        )
    finally:
        subprocess.run(["docker", "unpause", client], check=True, capture_output=True)
    assert (run.returncode, run.changed_operations) == (0, []), run.report(2000)


IDENTITY_FILES = {
    "machine-id": ("/etc/machine-id", "cat /etc/machine-id"),
    "glusterd UUID": (
        "/var/lib/glusterd/glusterd.info",
        "sed -n 's/^UUID=//p' /var/lib/glusterd/glusterd.info",
    ),
}


@pytest.mark.parametrize("what", sorted(IDENTITY_FILES))
def test_hosts_cloned_from_one_machine_are_refused_with_the_fix(deployed, lab_only, connect, site, what):
    """web2 given web1's identity (as a clone of it has): the run stops, naming both."""
    path, read = IDENTITY_FILES[what]
    web1, web2 = connect("web1"), connect("web2")
    theirs = web1.check_output(read)
    web2.check_output(
        f"cp -p {path} {path}.hastack-test && sed -i 's/{web2.check_output(read)}/{theirs}/' {path}"
    )
    try:
        run, untouched = refused_untouched(
            connect, site, lambda: run_deploy(lab.SITE_FILE, log=lab.LAB_DIR / "preflight-clone.log")
        )
    finally:
        web2.check_output(f"mv {path}.hastack-test {path}")
    named = any(
        f"host {a} has the same {what} as {b}" in run.output for a, b in (("web1", "web2"), ("web2", "web1"))
    )
    assert (run.returncode != 0, named, "Beginning operation run" in run.output, untouched) == (
        True,
        True,
        False,
        True,
    ), run.report(2000)


def test_a_vip_another_machine_answers_on_is_refused(deployed, lab_only, connect, site):
    """The site's VIP moved to a front address the client already has: refused before the
    cluster makes it (an ARP answer from a machine that is not a proxy of the site)."""
    front = site.networks["front"]
    taken = str(front.network_address + 99)
    client = connect("client")
    client.check_output(
        f"ip addr add {taken}/{front.prefixlen} dev $(ip -o -4 addr show to {front} | awk '{{print $2}}')"
    )
    document = load_site(lab.SITE_FILE).document()
    document["vip"] = taken
    site_file = lab.LAB_DIR / "site-taken-vip.yaml"
    site_file.write_text(dump_site(document))
    try:
        run, untouched = refused_untouched(
            connect, site, lambda: run_deploy(site_file, log=lab.LAB_DIR / "preflight-vip.log")
        )
    finally:
        client.check_output(
            f"ip addr del {taken}/{front.prefixlen} dev $(ip -o -4 addr show to {taken} | awk '{{print $2}}')"
        )
    message = f"the VIP {taken} already answers on the network"
    assert (
        run.returncode != 0,
        message in run.output,
        "Beginning operation run" in run.output,
        untouched,
    ) == (
        True,
        True,
        False,
        True,
    ), run.report(2000)


def test_an_arbiter_brick_on_the_root_filesystem_is_refused_before_any_change(
    deployed, lab_only, connect, site
):
    """The default arbiter (the first proxy) with its brick root on the root filesystem, where
    GlusterFS refuses a brick: the run stops before any operation, naming the host, the key and
    the fix, and a repair the deploy would make elsewhere is still undone."""
    web = site.hosts_in("web")[0].name
    arbiter = site.setting("gluster_arbiter")
    connect(web).check_output(f"echo '{MARKER}' >> /etc/hosts")
    try:
        derived = lab.derived_site(
            lab.LAB_DIR / "site-arbiter-on-root.yaml", gluster_arbiter_brick_root="/srv/on-root"
        )
        run = run_deploy(derived, log=lab.LAB_DIR / "preflight-arbiter-on-root.log")
    finally:
        untouched = MARKER in connect(web).file("/etc/hosts").content_string
        connect(web).check_output(f"sed -i '/^{MARKER}$/d' /etc/hosts")
    assert (
        arbiter,
        run.returncode != 0,
        f"host {arbiter} holds the GlusterFS arbiter brick" in run.output,
        "/srv/on-root (gluster_arbiter_brick_root) is on the root filesystem" in run.output,
        "mount a filesystem of its own at /srv/on-root" in run.output,
        "Beginning operation run" in run.output,
        untouched,
        connect(arbiter).file("/srv/on-root").exists,
    ) == (site.hosts_in("proxy")[0].name, True, True, True, True, False, True, False), run.report(2000)


def test_ufw_and_unattended_upgrades_without_a_policy_are_refused_then_a_policy_is_applied(
    deployed, lab_only, connect, site
):
    """On the client: ufw enabled at boot and unattended-upgrades running (installed, Debian's
    20auto-upgrades) stop the run before any host changes, each with its fix; once ufw is off
    and the site chooses `unattended_upgrades: hold`, the deploy holds the cluster's packages
    out of it; back to no choice (and no unattended-upgrades), hastack's file is gone."""
    client = connect("client")
    client.check_output(
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q unattended-upgrades >/dev/null && "
        "mkdir -p /etc/ufw && printf 'ENABLED=yes\\n' > /etc/ufw/ufw.conf"
    )
    try:
        run, untouched = refused_untouched(
            connect, site, lambda: run_deploy(lab.SITE_FILE, log=lab.LAB_DIR / "preflight-neighbours.log")
        )
        client.check_output("rm -f /etc/ufw/ufw.conf")
        hold = lab.derived_site(lab.LAB_DIR / "site-unattended-hold.yaml", unattended_upgrades="hold")
        held = run_deploy(
            hold, "deploys/client.py", "--limit", "client", log=lab.LAB_DIR / "unattended-hold.log"
        )
        blacklist = client.check_output("apt-config dump Unattended-Upgrade::Package-Blacklist")
    finally:
        client.run(
            "rm -f /etc/ufw/ufw.conf; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q unattended-upgrades"
        )
    back = run_deploy(
        lab.SITE_FILE, "deploys/client.py", "--limit", "client", log=lab.LAB_DIR / "unattended-none.log"
    )
    assert (
        run.returncode != 0,
        "host client has ufw enabled" in run.output and "`ufw disable`" in run.output,
        "host client runs unattended-upgrades" in run.output and "data key unattended_upgrades" in run.output,
        "Beginning operation run" in run.output,
        untouched,
        held.returncode,
        '"pacemaker";' in blacklist and '"haproxy$";' in blacklist,
        back.returncode,
        client.file(neighbours.UNATTENDED_CONF).exists,
    ) == (True, True, True, False, True, 0, True, 0, False), run.report(2000) + held.report(1000)


def test_a_host_whose_apt_sources_lack_the_releases_is_refused_naming_them(deployed, lab_only, connect, site):
    """The client's apt sources put aside: the run stops before any change, naming the host and
    the sources its release's packages come from (on Ubuntu, universe)."""
    client = connect("client")
    wanted = platforms.for_os("debian", str(site.lab_debian)).apt_components
    saved = "/root/hastack-test-apt-sources.tar"
    client.check_output(
        f"cd / && tar -cf {saved} etc/apt/sources.list.d "
        "$(test -e etc/apt/sources.list && echo etc/apt/sources.list) "
        "&& rm -f etc/apt/sources.list etc/apt/sources.list.d/*.list etc/apt/sources.list.d/*.sources"
    )
    try:
        run, untouched = refused_untouched(
            connect, site, lambda: run_deploy(lab.SITE_FILE, log=lab.LAB_DIR / "preflight-apt-sources.log")
        )
    finally:
        client.check_output(f"cd / && tar -xpf {saved} && rm -f {saved}")
    assert (
        run.returncode != 0,
        f"host client runs Debian {site.lab_debian}" in run.output,
        f"apt's sources lack {', '.join(wanted)}" in run.output,
        "Beginning operation run" in run.output,
        untouched,
        client.run("apt-get indextargets 'Identifier: Packages' | grep -c '^Component: main'").stdout.strip()
        != "0",
    ) == (True, True, True, False, True, True), run.report(2000)
