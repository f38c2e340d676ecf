"""Alerts: which way each host's mail leaves, what the firewall opens for it, and the periodic
check's readings (its script, loaded from templates/alerts/), from fixtures."""

import importlib.util
import os
from pathlib import Path

import pytest

from hastack import alerts, firewall
from hastack.defaults import ROOT
from hastack.site import dump_site, load_site, parse_site

HEALTH = Path(__file__).parent / "fixtures" / "health"


def site_with(fixtures, **data):
    return parse_site(dump_site(load_site(fixtures / "good_site.yaml").document(data)))


@pytest.fixture
def alerting(fixtures):
    return site_with(fixtures, alert_mail_to=["ops@example.com"], alert_relay="client:2525")


def addresses(site, name):
    return {net: str(a) for net, a in site.hosts[name].addresses.items()}


def test_web_hosts_send_through_each_proxy_and_the_others_to_the_relay(alerting):
    """A web host has no front address: its mail goes to HAProxy on each proxy's back address."""
    hosts = alerting.topology_hosts()
    assert (
        alerts.remotes(hosts, addresses(alerting, "web1"), "client:2525"),
        alerts.remotes(hosts, addresses(alerting, "proxy2"), "client:2525"),
        alerts.remotes(hosts, addresses(alerting, "client"), "mail.example.com"),
    ) == ([("127.0.1.11", 25), ("127.0.1.12", 25)], [("client", 2525)], [("mail.example.com", 25)])


def test_the_firewall_opens_the_relay_paths_and_nothing_without_alerts(fixtures, alerting):
    def mail_rules(site, name):
        return [
            (rule.ports, rule.sources, rule.destination)
            for rule in firewall.for_site_host(site, name)
            if "alert" in rule.why
        ]

    quiet = site_with(fixtures)
    assert (
        mail_rules(alerting, "proxy1"),
        mail_rules(alerting, "client"),
        mail_rules(alerting, "web1"),
        [mail_rules(quiet, name) for name in ("proxy1", "client")],
    ) == (
        [(("25",), ("127.0.1.21", "127.0.1.22"), "127.0.1.11")],
        [(("2525",), ("127.0.2.11", "127.0.2.12"), "127.0.2.50")],
        [],
        [[], []],
    )


def test_a_relay_outside_the_site_opens_nothing_on_its_hosts(fixtures):
    site = site_with(fixtures, alert_mail_to=["ops@example.com"], alert_relay="10.9.9.9")
    assert [r.why for r in firewall.for_site_host(site, "client") if "alert" in r.why] == []


def test_a_relay_without_recipients_is_a_warning(fixtures):
    site = site_with(fixtures, alert_relay="mail.example.com")
    assert any("no alert is sent" in warning for warning in site.warnings)


# --- the periodic check's script -------------------------------------------------------------


@pytest.fixture(scope="module")
def check():
    path = ROOT / "templates" / "alerts" / "hastack-alert-check.py"
    spec = importlib.util.spec_from_loader("alert_check", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


def test_one_host_reports_for_the_volume_the_first_whose_glusterd_is_connected(check):
    """Each brick host sees the same pool: the first connected brick host mails, the others stay
    quiet (one mail, not three); web1's glusterd away (seen from web2), web2 reports."""
    bricks = check.volume_bricks((HEALTH / "gluster_volume_info.xml").read_text())
    pool = (HEALTH / "gluster_pool_list.xml").read_text()
    seen_from_web1 = check.connected_hosts(pool, "web1")
    seen_from_web2 = check.connected_hosts(
        pool.replace("<hostname>web2</hostname>", "<hostname>web1</hostname>").replace(
            "<connected>1</connected>", "<connected>0</connected>", 1
        ),
        "web2",
    )
    assert (
        bricks,
        sorted(seen_from_web1),
        check.reporter(bricks, seen_from_web1),
        check.reporter(bricks, seen_from_web2),
        check.reporter(bricks, set()),
    ) == (
        ["web1:/srv/gluster/brick", "web2:/srv/gluster/brick", "proxy1:/srv/gluster/brick"],
        ["proxy1", "web1", "web2"],
        "web1",
        "web2",
        None,
    )


def test_heal_counts_per_brick_pending_not_possibly_healing(check):
    summary = (HEALTH / "gluster_heal_info_summary.txt").read_text()
    down = summary.replace(
        "Brick web2:/srv/gluster/brick\nStatus: Connected\nTotal Number of entries: 0\n"
        "Number of entries in heal pending: 0",
        "Brick web2:/srv/gluster/brick\nStatus: Transport endpoint is not connected\n"
        "Total Number of entries: -\nNumber of entries in heal pending: -",
    )
    busy = summary.replace("Total Number of entries: 0", "Total Number of entries: 7", 1)
    assert (
        check.heal_counts(summary)["web1:/srv/gluster/brick"],
        check.heal_counts(down)["web2:/srv/gluster/brick"],
        check.heal_counts(busy)["web1:/srv/gluster/brick"],
    ) == (("0", "0"), ("-", "0"), ("0", "0"))


POOL = (HEALTH / "gluster_pool_list.xml").read_text()
INFO = (HEALTH / "gluster_volume_info.xml").read_text()
SUMMARY = (HEALTH / "gluster_heal_info_summary.txt").read_text()
WEB2_DOWN = SUMMARY.replace(
    "Brick web2:/srv/gluster/brick\nStatus: Connected",
    "Brick web2:/srv/gluster/brick\nStatus: Transport endpoint is not connected",
)


def fake_gluster(monkeypatch, check, answers: dict[str, tuple[int, str, str]]):
    """The check's gluster calls answered from ``answers`` by subcommand (info, pool, heal)."""

    def gluster(args, timeout=60, tries=4):
        key = "heal" if "heal" in args else ("pool" if "pool" in args else "info")
        return answers[key]

    monkeypatch.setattr(check, "gluster", gluster)


def test_a_volume_that_cannot_be_read_keeps_what_was_mailed(check, monkeypatch):
    """glusterd busy or restarting: no false RECOVERED for the brick, and glusterd itself is
    reported only at the second failure in a row."""
    state = {"problems": {"brick web2:/srv/gluster/brick": {"text": "web2 offline", "since": 1.0}}}
    fake_gluster(monkeypatch, check, {"info": (1, "", "Another transaction is in progress for lab.")})
    first = check.volume_problems("web1", "lab", state, 100.0, 30)
    second = check.volume_problems("web1", "lab", state, 200.0, 30)
    assert (sorted(first), sorted(second), "Another transaction" in second["glusterd"]) == (
        ["brick web2:/srv/gluster/brick"],
        ["brick web2:/srv/gluster/brick", "glusterd"],
        True,
    )


def test_no_gluster_yet_is_no_problem(check, monkeypatch):
    fake_gluster(monkeypatch, check, {"info": (127, "", "No such file or directory: 'gluster'")})
    missing = check.volume_problems("web1", "lab", {}, 1.0, 30)
    fake_gluster(monkeypatch, check, {"info": (1, "", "Volume lab does not exist")})
    assert (missing, check.volume_problems("web1", "lab", {}, 1.0, 30)) == ({}, {})


def test_the_reporter_mails_a_brick_down_and_a_stuck_heal_the_others_stay_quiet(check, monkeypatch):
    pending = WEB2_DOWN.replace(
        "Number of entries in heal pending: 0", "Number of entries in heal pending: 4", 1
    )
    fake_gluster(monkeypatch, check, {"info": (0, INFO, ""), "pool": (0, POOL, ""), "heal": (0, pending, "")})
    state: dict = {}
    early = check.volume_problems("web1", "lab", state, 100.0, 30)
    late = check.volume_problems("web1", "lab", state, 100.0 + 31 * 60, 30)
    other = check.volume_problems("proxy1", "lab", {"heal_pending_since": 5.0}, 100.0, 30)
    assert (sorted(early), sorted(late), other) == (
        ["brick web2:/srv/gluster/brick"],
        ["brick web2:/srv/gluster/brick", "heal stuck"],
        {},
    )


def test_a_failing_probe_is_a_problem_and_the_others_still_run(check, monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise ValueError("unreadable XML")

    monkeypatch.setattr(check, "volume_problems", broken)
    state = {"problems": {"split-brain": {"text": "2 split-brain entries", "since": 1.0}}}
    config = {"host": "web1", "volume": "lab", "heal_stuck_minutes": 30, "disk_percent": 0, "warn_days": 30}
    monkeypatch.setattr(check, "read_mounts", lambda: f"/dev/x {tmp_path} ext4 rw 0 0\n")
    found = check.probe_all(config, state, 10.0)
    assert sorted(found) == ["disk " + str(tmp_path), "probe the volume", "split-brain"]


def test_a_problem_is_mailed_once_then_its_recovery_once(check):
    state: dict = {}
    new, cleared, keep = check.transitions(state, {"brick web2": "web2 offline"}, 100.0)
    state["problems"] = keep
    again = check.transitions(state, {"brick web2": "web2 offline"}, 200.0)
    state["problems"] = again[2]
    healed = check.transitions(state, {}, 300.0)
    assert (new, cleared, again[:2], healed[:2]) == (
        {"brick web2": "web2 offline"},
        {},
        ({}, {}),
        ({}, {"brick web2": "web2 offline"}),
    )


def test_a_host_in_maintenance_is_quiet_until_alert_quiet_hours_then_a_peer_mails_it_is_overdue(
    check, tmp_path
):
    """A marker younger than the hours: its brick is neither mailed nor cleared (one mailed
    before stays); an older one: quiet no more, and the first other cluster host says so."""
    now = 1_000_000.0
    cluster = ["proxy1", "proxy2", "web1", "web2"]
    (tmp_path / "web2").write_text("maintenance since ...\n")
    os.utime(tmp_path / "web2", (now - 3600, now - 3600))
    (tmp_path / "proxy1").write_text("maintenance since ...\n")
    os.utime(tmp_path / "proxy1", (now - 13 * 3600, now - 13 * 3600))
    quiet, overdue = check.quiet_hosts(str(tmp_path), 12, now, "web1", cluster)
    speakers = [me for me in cluster if check.quiet_hosts(str(tmp_path), 12, now, me, cluster)[1]]
    found = {"brick web2:/b": "web2 offline", "brick proxy1:/b": "proxy1 offline", "disk /": "full"}
    known = {"brick web2:/c": {"text": "web2's other brick offline", "since": 1.0}}
    assert (
        quiet,
        overdue,
        speakers,
        check.hush(found, known, quiet, "web1"),
        check.hush(found, known, {"web1"}, "web1"),
        check.quiet_hosts(str(tmp_path / "none"), 12, now, "web1", cluster),
    ) == (
        {"web2"},
        {},
        ["proxy2"],
        {
            "brick proxy1:/b": "proxy1 offline",
            "disk /": "full",
            "brick web2:/c": "web2's other brick offline",
        },
        {"brick web2:/b": "web2 offline", "brick proxy1:/b": "proxy1 offline"},
        (set(), {}),
    )


def test_the_volumes_own_problems_are_never_quiet_but_a_stuck_heal_waits_for_the_host(check):
    """Quiet on the reporter does not hide a split brain or an overdue maintenance; a heal
    stuck while any host is in maintenance is held (its entries pile up by design)."""
    found = {
        "split-brain": "2 entries",
        "heal stuck": "9 pending",
        "maintenance web2": "overdue",
        "glusterd": "x",
    }
    assert (check.hush(found, {}, {"web1"}, "web1"), check.hush(found, {}, set(), "web1")) == (
        {"split-brain": "2 entries", "maintenance web2": "overdue"},
        found,
    )


def test_a_full_disk_is_reported_with_its_percentage(check, tmp_path):
    stat = os.statvfs(tmp_path)
    used = -(-(stat.f_blocks - stat.f_bfree) * 100 // ((stat.f_blocks - stat.f_bfree) + stat.f_bavail))
    mounts = f"/dev/sda1 {tmp_path} ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n"
    found = check.disk_problems(used - 1, mounts)
    assert (
        list(found),
        f"{used} % full" in found[f"disk {tmp_path}"],
        check.disk_problems(used, mounts),
    ) == (
        [f"disk {tmp_path}"],
        True,
        {},
    )


def test_the_mail_names_the_host_the_cluster_and_each_change(check):
    config = {"host": "web1", "cluster": "lab", "mail_to": "root", "mail_from": "", "unit": "x.service"}
    mail = check.message(config, {"a": "brick web2:/b offline"}, {"b": "disk / full"})
    assert (mail["Subject"], mail["To"], "RECOVERED: disk / full" in mail.get_content()) == (
        "[hastack lab] web1: PROBLEM: brick web2:/b offline (+1 more)",
        "root",
        True,
    )


def test_a_failed_acme_renewal_is_a_problem_and_a_good_one_is_not(check, tmp_path):
    state = tmp_path / "acme.state"
    state.write_text("failed 2026-12-06T12:00:00Z the certificate for shop.example.com: no answer\n")
    failed = check.acme_problems(str(state))
    state.write_text("ok 2026-12-06T12:00:00Z current: notAfter=Dec  6 11:40:26 2031 GMT\n")
    said = "2026-12-06T12:00:00Z: the certificate for shop.example.com: no answer"
    assert (
        list(failed),
        said in failed["certificate renewal"],
        check.acme_problems(str(state)),
        check.acme_problems(""),
    ) == (["certificate renewal"], True, {}, {})
