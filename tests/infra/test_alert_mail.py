"""Alerts reach a person, on the lab: the mail of every host arrives at the site's relay (the
lab's SMTP sink on the client; the web hosts' through the proxies' HAProxy), HAProxy killed on
the VIP's holder brings a mail naming the host and the resource within 60 s, and a stopped
brick one within the check's period, then its recovery once it is back; a relay that refuses
the mail fails `hastack verify`, which prints the relay's answer."""

import json
import shlex
import subprocess
import sys
import time
import uuid

import pytest

from hastack import alerts, lab
from hastack.deploying import run_deploy
from hastack.lab.layout import SMTP_SINK_MAILDIR
from tests.harness import hastack_cli, lab_only_fixture

pytestmark = pytest.mark.lab

lab_only = lab_only_fixture("these tests break HAProxy and a brick, and read the lab's SMTP sink")

# Every mail the sink holds: its subject (unfolded), its envelope's recipients (the sink writes
# them in X-RcptTo) and its body, as JSON lines.
READ_SINK = (
    "python3 -c 'import email, email.policy, glob, json\n"
    f'for path in sorted(glob.glob("{SMTP_SINK_MAILDIR}/new/*") + glob.glob("{SMTP_SINK_MAILDIR}/cur/*")):\n'
    '    m = email.message_from_bytes(open(path, "rb").read(), policy=email.policy.default)\n'
    '    body = m.get_body(("plain",))\n'
    '    print(json.dumps({"subject": str(m["Subject"] or ""), "to": str(m["X-RcptTo"] or ""), '
    '"body": body.get_content() if body else ""}))\''
)


def sink(connect) -> list[dict]:
    out = connect("client").check_output(READ_SINK)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def wait_for_mail(connect, match, limit_s: float, seen: int = 0) -> tuple[dict | None, float]:
    """The first mail after the ``seen`` first ones for which ``match`` holds, and when."""
    started = time.monotonic()
    while True:
        found = next((m for m in sink(connect)[seen:] if match(m)), None)
        elapsed = time.monotonic() - started
        if found or elapsed > limit_s:
            return found, elapsed
        time.sleep(2)


def check_state(host) -> dict:
    """What the host's check last mailed: its problems, by key."""
    out = host.run(f"cat {alerts.STATE_DIR}/state.json").stdout
    return json.loads(out).get("problems", {}) if out.strip() else {}


def check_story(host) -> str:
    """The host's check and mail in the last minutes, for a failure's message."""
    return host.run(
        f"cat {alerts.STATE_DIR}/state.json; ls -l /var/spool/nullmailer/queue /var/spool/nullmailer/failed; "
        f"journalctl --no-pager -o short-precise --since -8min -u {alerts.CHECK_UNIT} -u nullmailer|tail -60"
    ).stdout[-5000:]


def healthy(limit_s: float = 300) -> subprocess.CompletedProcess:
    """`hastack status` until it says healthy (exit 0), at most ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while True:
        run = subprocess.run(
            [sys.executable, "-m", "hastack.cli", "status", str(lab.SITE_FILE)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if run.returncode == 0 or time.monotonic() > deadline:
            return run
        time.sleep(5)


def test_every_hosts_mail_reaches_the_relay(lab_only, site, deployed, connect):
    """A mail to root from each host arrives, addressed to the site's recipients (adminaddr):
    the proxies' and the client's straight to the relay, the web hosts' through HAProxy."""
    token = uuid.uuid4().hex[:10]
    names = list(site.hosts)
    for name in names:
        connect(name).check_output(
            f"printf 'Subject: hastack test {token} from {name}\\n\\nrelay test\\n' | /usr/sbin/sendmail root"
        )
    deadline = time.monotonic() + 120
    while True:
        got = {m["subject"].rsplit(" ", 1)[-1]: m["to"] for m in sink(connect) if token in m["subject"]}
        if set(got) == set(names) or time.monotonic() > deadline:
            break
        time.sleep(3)
    recipients = ", ".join(site.setting("alert_mail_to"))
    assert got == {name: recipients for name in names}, (
        f"mail that did not arrive: {sorted(set(names) - set(got))}; "
        "`journalctl -u nullmailer` on those hosts says why"
    )


def test_killed_haproxy_on_the_vip_holder_mails_within_60_s(lab_only, site, deployed, connect, vip_holders):
    active = vip_holders()[0]
    seen = len(sink(connect))
    connect(active).check_output("systemctl kill -s KILL haproxy")
    mail, seconds = wait_for_mail(
        connect,
        lambda m: active in m["subject"] and "haproxy" in m["subject"] and "monitor" in m["subject"],
        60,
        seen,
    )
    print(f"\nHAProxy killed on {active}: mail after {seconds:.0f} s: {mail and mail['subject']}")
    after = healthy()
    assert (mail is not None, after.returncode) == (True, 0), (
        [m["subject"] for m in sink(connect)[seen:]],
        after.stdout[-2000:],
    )


def test_a_stopped_brick_mails_within_the_checks_period_then_its_recovery(lab_only, site, deployed, connect):
    volume = site.cluster
    web1, web2 = connect("web1"), connect("web2")
    brick = f"web2:{site.setting('gluster_brick_root', site.hosts['web2'])}/brick"
    # the next run of the check, or the one after (its runs are spread over 20 s, and one that
    # starts as the brick goes may still reach it)
    period = 2 * site.setting("alert_check_minutes") * 60
    # One run of the reporter's check now, so what it last mailed is the volume as it is: a brick
    # an earlier test took away and brought back between two runs is still "mailed" in its state,
    # and stopping it again is then no news (CI, 2026-12-05: no PROBLEM, then a RECOVERED).
    web1.check_output(f"systemctl start {alerts.CHECK_UNIT}.service")
    stale = [key for key in check_state(web1) if key.startswith("brick ")]
    seen = len(sink(connect))
    pid = web2.check_output(
        f"gluster --xml volume status {volume} web2:{brick.split(':', 1)[1]} | "
        "sed -n 's:.*<pid>\\([0-9]*\\)</pid>.*:\\1:p' | head -1"
    )
    web2.check_output(f"kill {pid}")
    down, down_s = wait_for_mail(
        connect, lambda m: "PROBLEM" in m["subject"] and brick in m["subject"], period + 60, seen
    )
    seen_down = len(sink(connect))
    web1.check_output(f"gluster volume start {volume} force")
    # The timer's runs are proven above: the recovery is asked of one run now (the timer's next
    # one mails it if the brick was not yet online for this one).
    web1.check_output(f"systemctl start {alerts.CHECK_UNIT}.service")
    back, back_s = wait_for_mail(
        connect, lambda m: "RECOVERED" in m["subject"] and brick in m["subject"], period + 60, seen_down
    )
    print(f"\nbrick {brick} stopped: mail after {down_s:.0f} s; back: recovery mail after {back_s:.0f} s")
    after = healthy()
    reporters = {m["subject"].split("]", 1)[1].split(":", 1)[0].strip() for m in (down, back) if m}
    assert (stale, down is not None, back is not None, reporters, after.returncode) == (
        [],
        True,
        True,
        {"web1"},
        0,
    ), ([m["subject"] for m in sink(connect)[seen:]], after.stdout[-2000:], check_story(web1))


def maintenance(name: str, state: str) -> subprocess.CompletedProcess:
    return hastack_cli("maintenance", str(lab.SITE_FILE), name, state)


def test_a_host_in_maintenance_is_quiet_and_one_left_there_too_long_is_mailed(
    lab_only, site, deployed, connect, vip_holders
):
    """`hastack maintenance` of the proxy without the VIP, then of web2: no mail of HAProxy
    stopping and starting, nor of web2's brick away. web2's markers made older than
    alert_quiet_hours: the first other cluster host mails that web2 is still in maintenance and
    web1 its brick; `off` then mails both recoveries, and leaves no marker."""
    cluster = {name: connect(name) for name in site.cluster_hosts()}
    web1 = cluster["web1"]
    run_check = f"systemctl start {alerts.CHECK_UNIT}.service"
    brick = f"web2:{site.setting('gluster_brick_root', site.hosts['web2'])}/brick"
    speaker = next(name for name in cluster if name != "web2")
    standby = next(p.name for p in site.hosts_in("proxy") if p.name not in vip_holders())
    try:
        web1.check_output(run_check)
        seen = len(sink(connect))
        # the proxy first: with web2 out, the arbiter's proxy may not go out too
        steps = [maintenance(standby, "on"), maintenance(standby, "off"), maintenance("web2", "on")]
        web1.check_output(run_check)  # the reporter, web2's brick away
        time.sleep(15)  # Pacemaker's alert agent and nullmailer pass a mail on in seconds
        quiet = [m["subject"] for m in sink(connect)[seen:]]
        hours = site.setting("alert_quiet_hours")
        for host in cluster.values():
            host.check_output(f"touch -d '-{hours} hours -1 minute' {alerts.QUIET_DIR}/web2 && {run_check}")
        overdue, _ = wait_for_mail(
            connect,
            lambda m: f"{speaker}: PROBLEM: web2 has been in maintenance" in m["subject"],
            60,
            seen,
        )
        brick_down, _ = wait_for_mail(
            connect, lambda m: "web1: PROBLEM" in m["subject"] and brick in m["subject"], 60, seen
        )
        seen_down = len(sink(connect))
        steps.append(maintenance("web2", "off"))
        for host in cluster.values():
            host.check_output(run_check)
        back, _ = wait_for_mail(
            connect, lambda m: "web1: RECOVERED" in m["subject"] and brick in m["subject"], 60, seen_down
        )
        over, _ = wait_for_mail(
            connect,
            lambda m: f"{speaker}: RECOVERED: web2 has been in maintenance" in m["subject"],
            60,
            seen_down,
        )
        mailed = [m["subject"] for m in sink(connect)[seen:]]
    finally:
        # a step that failed leaves no host out for the tests after this one
        for name in (standby, "web2"):
            maintenance(name, "off")
    left = [name for name, host in cluster.items() if host.file(f"{alerts.QUIET_DIR}/web2").exists]
    assert (
        [step.returncode for step in steps],
        quiet,
        [m is not None for m in (overdue, brick_down, back, over)],
        len(mailed),
        left,
    ) == ([0, 0, 0, 0], [], [True] * 4, 4, []), (
        [step.stdout[-800:] for step in steps],
        mailed,
        check_story(web1),
    )


# An SMTP server that refuses every recipient, on the client's loopback, for REFUSE_S seconds.
REFUSING_RELAY = """
import time
from aiosmtpd.controller import Controller
class Refuse:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.7.1 relaying denied"
controller = Controller(Refuse(), hostname="127.0.0.1", port=2526)
controller.start()
time.sleep(120)
"""


def test_a_relay_that_refuses_the_mail_fails_verify_with_its_answer(lab_only, site, deployed, connect):
    client = connect("client")
    keep = client.file("/etc/nullmailer/remotes").content_string
    client.check_output(f"cat > /tmp/hastack-refuse.py <<'EOF'{REFUSING_RELAY}EOF")
    client.check_output("(setsid python3 /tmp/hastack-refuse.py >/dev/null 2>&1 &); sleep 2")
    try:
        client.check_output(
            "echo '127.0.0.1 smtp --port=2526' > /etc/nullmailer/remotes && systemctl restart nullmailer && "
            "printf 'Subject: hastack refused probe\\n\\nx\\n' | /usr/sbin/sendmail root"
        )
        deadline = time.monotonic() + 60
        while client.run("ls /var/spool/nullmailer/failed | wc -l").stdout.strip() == "0":
            assert time.monotonic() < deadline, "nullmailer never gave the refused mail up"
            time.sleep(2)
        verify = subprocess.run(
            [sys.executable, "-m", "hastack.cli", "verify", str(lab.SITE_FILE), "--hosts", "client"]
            + ["-k", "stuck"],
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        client.run(
            f"printf '%s' {shlex.quote(keep)} > /etc/nullmailer/remotes; systemctl restart nullmailer; "
            "rm -f /var/spool/nullmailer/failed/* /tmp/hastack-refuse.py"
        )
    assert (verify.returncode, "550 5.7.1 relaying denied" in verify.stdout) == (1, True), verify.stdout[
        -3000:
    ]


def test_alerts_switched_off_leave_nothing_behind_then_come_back(lab_only, site, deployed, connect):
    """`alert_mail_to: []` on the client, which had alerts: the timer, the check, its state and
    nullmailer are gone; the lab's site again brings them back."""
    client = connect("client")
    off = lab.derived_site(lab.LAB_DIR / "site-alerts-off.yaml", alert_mail_to=[], alert_relay="")
    run_off = run_deploy(off, "deploys/client.py", "--limit", "client", log=lab.LAB_DIR / "alerts-off.log")
    paths = (
        f"/etc/systemd/system/{alerts.CHECK_UNIT}.timer",
        alerts.CHECK_SCRIPT,
        alerts.CHECK_CONFIG,
        alerts.STATE_DIR,
    )
    left = [path for path in paths if client.file(path).exists]
    left += ["nullmailer"] if client.package("nullmailer").is_installed else []
    run_on = run_deploy(
        lab.SITE_FILE, "deploys/client.py", "--limit", "client", log=lab.LAB_DIR / "alerts-on.log"
    )
    back = (
        client.service(f"{alerts.CHECK_UNIT}.timer").is_running,
        client.package("nullmailer").is_installed,
    )
    assert (run_off.returncode, left, run_on.returncode, back) == (0, [], 0, (True, True)), run_off.report(
        1500
    ) + run_on.report(1500)
