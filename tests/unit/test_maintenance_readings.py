"""`hastack maintenance`'s readings (GlusterFS's and HAProxy's real output, kept as fixtures
from the lab) and its refusals of bad input before any host is asked. What it does to the
hosts is tested on the lab: tests/infra/test_maintenance.py."""

import subprocess
import sys

import pytest

from hastack.maintenance import brick_pid, server_row, volume_option, writes_continue

ARBITER = ["web1", "web2", "proxy1"]
TWO = ["web1", "web2"]


@pytest.mark.parametrize(
    ("pool", "online", "quorum", "count", "going_on"),
    [
        (ARBITER, ["web1", "proxy1"], "auto", "", True),
        (ARBITER, ["web2", "proxy1"], "auto", "", True),
        (ARBITER, ["proxy1"], "auto", "", False),
        # two bricks: exactly half keeps quorum only with the first brick
        (TWO, ["web1"], "auto", "", True),
        (TWO, ["web2"], "auto", "", False),
        (TWO, ["web2"], "none", "", True),
        (["web1", "web2", "web3"], ["web1", "web2"], "fixed", "3", False),
        (["web1", "web2", "web3"], ["web1", "web2"], "fixed", "2", True),
    ],
)
def test_whether_writes_go_on_with_a_brick_away(pool, online, quorum, count, going_on):
    assert writes_continue(pool, online, quorum, count) is going_on


def test_the_volume_options_as_gluster_prints_them(fixtures):
    text = (fixtures / "health/gluster_volume_get_all.txt").read_text()
    assert (volume_option(text, "cluster.quorum-type"), volume_option(text, "cluster.no-such")) == (
        "auto",
        None,
    )


def test_a_brick_status_and_pid_from_volume_status(fixtures):
    text = (fixtures / "health/gluster_volume_status.xml").read_text()
    status, pid = brick_pid(text, "web2")
    assert (status, pid.isdigit(), brick_pid(text, "web9")) == ("1", True, ("0", ""))


def test_a_server_row_of_the_web_backend(fixtures):
    text = (fixtures / "health/haproxy_show_stat.csv").read_text()
    row = server_row(text, "web2")
    assert (row["status"], row["scur"].isdigit(), server_row(text, "web9")) == ("UP", True, {})


def hastack(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hastack.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_the_client_and_unknown_hosts_are_refused_before_any_host_is_asked(fixtures):
    """The fixture site's addresses are the example's, never contacted: an answer here comes
    from the refusal, before any SSH."""
    site = str(fixtures / "good_site.yaml")
    client = hastack("maintenance", site, "client", "on")
    unknown = hastack("maintenance", site, "web9", "off")
    wrong = hastack("maintenance", site, "web1", "maybe")
    assert (
        client.returncode,
        "client is the client: only proxies and web hosts" in client.stdout,
        unknown.returncode,
        "web9 is not a host of the site" in unknown.stdout,
        wrong.returncode,
        "on or off" in wrong.stderr,
    ) == (2, True, 2, True, 2, True), client.stdout + unknown.stdout + wrong.stderr


def test_heal_entries_by_brick_as_gluster_names_them(fixtures):
    """The lab's `heal info summary`; then web2 away and entries on the others (edited by
    hand: "-" is what GlusterFS prints for a brick that does not answer)."""
    from hastack.health import heal_by_brick

    whole = (fixtures / "health/gluster_heal_info_summary.txt").read_text()
    blocks = whole.split("\n\n")
    away = "\n\n".join(
        [
            blocks[0].replace("Total Number of entries: 0", "Total Number of entries: 3"),
            blocks[1]
            .replace("Status: Connected", "Status: Transport endpoint is not connected")
            .replace("Total Number of entries: 0", "Total Number of entries: -"),
            blocks[2],
        ]
    )
    assert (heal_by_brick(whole), heal_by_brick(away), heal_by_brick("")) == (
        {"web1": "0", "web2": "0", "proxy1": "0"},
        {"web1": "3", "web2": "-", "proxy1": "0"},
        {},
    )


def keep_current(config: str, state: str, tmp_path) -> list[str]:
    """The saved server states that the deploy and maintenance keep: the awk filter of
    SAVE_SERVER_STATE, run here on the lab's real `show servers state` and server lines."""
    from hastack.components.haproxy import _KEEP_CURRENT

    (tmp_path / "haproxy.cfg").write_text(config)
    (tmp_path / "state").write_text(state)
    done = subprocess.run(
        ["awk", _KEEP_CURRENT, str(tmp_path / "haproxy.cfg"), str(tmp_path / "state")],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_a_server_whose_port_changed_is_not_pinned_by_its_saved_state(fixtures, tmp_path):
    """HAProxy takes a server's port from the state file over its configuration: a web_port
    change would be dropped (every web host DOWN) if the old line were kept."""
    config = (fixtures / "health/haproxy_cfg_servers.txt").read_text()
    state = (fixtures / "health/haproxy_servers_state.txt").read_text()
    same = keep_current(config, state, tmp_path)
    moved = keep_current(config.replace("10.231.1.22:80 ", "10.231.1.22:81 "), state, tmp_path)
    gone = keep_current(config.replace("    server web1 10.231.1.21:80 check\n", ""), state, tmp_path)
    names = [[line.split()[3] for line in lines[2:]] for lines in (same, moved, gone)]
    assert (same[:2] == state.splitlines()[:2], names) == (
        True,
        [["web1", "web2", "local"], ["web1", "local"], ["web2", "local"]],
    )
