"""The preflight, before anything changes: a host whose OS the map does not know stops the
whole run with nothing changed anywhere; a host whose apt is busy with its own jobs is
waited for, within a bound; a non-root user deploys through sudo."""

import pytest

from hastack import lab
from hastack.deploying import run_deploy
from hastack.site import dump_site, load_site

pytestmark = pytest.mark.lab

ROCKY = 'PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\nNAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.4"\n'
MARKER = "# hastack preflight test: a deploy that runs removes this line"


@pytest.fixture
def lab_only(lab_mode):
    if not lab_mode:
        pytest.fail("the preflight tests change hosts, so they run against the lab only (unset HASTACK_SITE)")


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
    ) == (True, True, True, False, True), run.output[-2000:]


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
    ), run.output[-2000:]


def test_a_sudo_user_deploys_and_changes_nothing_on_a_deployed_cluster(deployed, lab_only):
    """Every fact and operation of a whole deploy through `sudo` (the lab's user deployer);
    CI's Debian 12 run deploys the whole cluster that way from nothing."""
    document = load_site(lab.SITE_FILE).document()
    document["ssh"]["user"] = lab.SUDO_USER
    site_file = lab.LAB_DIR / "site-sudo.yaml"
    site_file.write_text(dump_site(document))
    run = run_deploy(site_file, log=lab.LAB_DIR / "deploy-sudo.log")
    assert (run.returncode, run.changed_operations) == (0, []), run.output[-2000:]
