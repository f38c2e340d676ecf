"""What Cacti sees of each device's SNMP, without touching its schedule.

The probe runs Cacti's own code on a proxy, as its poller does: the availability check of each
enabled device (``Net_Ping``: SNMPv3 sysUpTime with the device's timeout and ping_retries),
then one GET in a new SNMP session (the device's timeout, Cacti's snmp_retries), the 1-minute
load average. It runs as www-data at the poller's niceness. It never runs the poller itself: a
poller run, forced or not, makes Cacti skip the next scheduled poll that comes within about
230 s of a 300 s interval.

``hastack snmp-bench`` prints what the probe measures, idle or with every host's CPU saturated
(``--busy``: one busy process per CPU on every host, each ended by its own timeout), and with
another timeout than the site's (``--timeout-ms``), to choose cacti_snmp_timeout_ms.
"""

from __future__ import annotations

import math
import shlex
import statistics
from dataclasses import dataclass

from hastack.site import Site
from hastack.ssh import SshRunner

# The poller's service runs at this niceness (templates/monitoring/cacti-poller.service.j2).
POLLER_NICE = 5
LOAD_OID = ".1.3.6.1.4.1.2021.10.1.3.1"

PROBE_PHP = r"""<?php
/* hastack's probe of Cacti's devices (hastack/snmp_probe.py): written by the check or the
   benchmark, run once, removed. Arguments: rounds, timeout override (ms, 0: the device's),
   retries override ("": the site's). Prints: device, up|down, ms, value or Cacti's reason. */
include('/usr/share/cacti/site/include/cli_check.php');
include_once($config['base_path'] . '/lib/ping.php');
include_once($config['base_path'] . '/lib/snmp.php');
$rounds  = max(1, (int) ($argv[1] ?? 1));
$timeout = (int) ($argv[2] ?? 0);
$retries = ($argv[3] ?? '') === '' ? null : (int) $argv[3];
$devices = db_fetch_assoc("SELECT * FROM host WHERE disabled = '' ORDER BY description");
for ($round = 0; $round < $rounds; $round++) {
    foreach ($devices as $device) {
        if ($timeout > 0) {
            $device['snmp_timeout'] = $timeout;
        }
        if ($retries !== null) {
            $device['ping_retries'] = $retries;
        }
        $snmp_retries = $retries !== null ? $retries : read_config_option('snmp_retries');
        $start = microtime(true);
        $ping = new Net_Ping;
        $ping->host = $device;
        $ping->port = $device['ping_port'];
        $up = $ping->ping($device['availability_method'], $device['ping_method'],
            $device['ping_timeout'], $device['ping_retries']);
        $said = $ping->snmp_response;
        if ($up) {
            $session = cacti_snmp_session($device['hostname'], $device['snmp_community'],
                $device['snmp_version'], $device['snmp_username'], $device['snmp_password'],
                $device['snmp_auth_protocol'], $device['snmp_priv_passphrase'],
                $device['snmp_priv_protocol'], $device['snmp_context'], $device['snmp_engine_id'],
                $device['snmp_port'], $device['snmp_timeout'], $snmp_retries, $device['max_oids']);
            $value = $session ? cacti_snmp_session_get($session, 'LOAD_OID') : false;
            if ($session) {
                $session->close();
            }
            $empty = $value === false || $value === '' || $value === 'U';
            $said = $empty ? 'no value' : trim((string) $value);
        }
        printf("%s\t%s\t%d\t%s\n", $device['description'], $up ? 'up' : 'down',
            round((microtime(true) - $start) * 1000), str_replace(array("\t", "\n"), ' ', $said));
    }
}
""".replace("LOAD_OID", LOAD_OID)


@dataclass
class Answer:
    device: str
    up: bool
    ms: int
    said: str

    @property
    def polled(self) -> bool:
        """Up, and the GET brought a number: what a poll needs."""
        try:
            float(self.said)
        except ValueError:
            return False
        return self.up


def parse(output: str) -> list[Answer]:
    answers = []
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[1] in ("up", "down") and parts[2].isdigit():
            answers.append(Answer(parts[0], parts[1] == "up", int(parts[2]), parts[3]))
    return answers


def probe_command(
    folder: str, rounds: int = 1, timeout_ms: int = 0, retries: int | None = None, sudo: bool = False
) -> str:
    """The shell command that runs the probe (written to ``folder``/probe.php) as www-data at
    the poller's niceness, then removes the folder."""
    args = " ".join(shlex.quote(str(arg)) for arg in (rounds, timeout_ms, "" if retries is None else retries))
    run = f"nice -n {POLLER_NICE} su -s /bin/sh www-data -c {shlex.quote(f'php {folder}/probe.php {args}')}"
    script = f"{run}; status=$?; rm -rf {folder}; exit $status"
    return f"sudo -n sh -c {shlex.quote(script)}" if sudo else script


def run_probe(
    runner: SshRunner, rounds: int = 1, timeout_ms: int = 0, retries: int | None = None, sudo: bool = False
) -> list[Answer]:
    """The probe on one proxy over SSH (the site's user; ``sudo``: through sudo)."""
    _, out, _ = runner.client.exec_command("mktemp -d /tmp/hastack-probe.XXXXXX")
    folder = out.read().decode().strip()
    with runner.client.open_sftp() as sftp:
        sftp.chmod(folder, 0o755)
        with sftp.open(f"{folder}/probe.php", "w") as php:
            php.write(PROBE_PHP)
        sftp.chmod(f"{folder}/probe.php", 0o644)
    code, output = runner.run(probe_command(folder, rounds, timeout_ms, retries, sudo), timeout=3600)
    answers = parse(output)
    if not answers:
        raise RuntimeError(f"Cacti's probe printed no answer (exit {code}): {output.strip()[-500:]}")
    return answers


BUSY = "hastack-busy"


def saturate(runner: SshRunner, seconds: int) -> None:
    """One busy process per CPU on this host, each ended by its own timeout (nothing is killed)."""
    runner.run(
        f"for i in $(seq $(nproc)); do nohup timeout {int(seconds)} sh -c 'while :; do :; done' {BUSY} "
        ">/dev/null 2>&1 < /dev/null & done"
    )


def wait_until_calm(runner: SshRunner) -> None:
    """Until this host's busy processes have ended by their own timeout."""
    pattern = shlex.quote(f"done {BUSY[:-1]}[{BUSY[-1]}]")  # a pattern that does not match itself
    runner.run(f"while pgrep -f {pattern} >/dev/null; do sleep 1; done", timeout=3600)


def table(rows: list[tuple[str, list[Answer]]]) -> str:
    """One line per (condition, device): answers, polled, median, p95 and max time."""
    lines = [
        "| condition | device | checks | polled | median ms | p95 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for condition, answers in rows:
        groups = [
            (device, [a for a in answers if a.device == device])
            for device in sorted({a.device for a in answers})
        ]
        for device, own in [*groups, ("all", answers)]:
            times = sorted(answer.ms for answer in own)
            p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]  # nearest rank
            lines.append(
                f"| {condition} | {device} | {len(own)} | {sum(a.polled for a in own)} | "
                f"{statistics.median(times):.0f} | {p95} | {times[-1]} |"
            )
    return "\n".join(lines)


def run_bench(
    site: Site, rounds: int, busy: bool, timeouts: list[int], retries: int | None = None, say=print
) -> list[tuple[str, list[Answer]]]:
    """The probe from the first proxy: ``rounds`` checks of every device for each timeout (0: the
    site's) and ``retries`` (None: the site's), idle, then (``busy``) with every host's CPU
    saturated."""
    proxy = site.hosts_in("proxy")[0].name
    sudo = site.ssh.user != "root"
    runners = {name: SshRunner.to_host(site, name) for name in site.hosts}
    rows = []
    try:
        for condition in ["idle", "busy"] if busy else ["idle"]:
            for timeout in timeouts:
                label = (
                    f"{condition}, timeout {f'{timeout} ms' if timeout else 'of the site'}, "
                    f"retries {retries if retries is not None else 'of the site'}"
                )
                say(f"[snmp-bench] {label}: {rounds} rounds of every device from {proxy}")
                if condition == "busy":
                    # Up to about 2 s a check when saturated: they outlast the rounds, then end by themselves.
                    for runner in runners.values():
                        saturate(runner, 20 + rounds * len(site.hosts) * 2)
                rows.append((label, run_probe(runners[proxy], rounds, timeout, retries, sudo=sudo)))
                if condition == "busy":
                    say("[snmp-bench] waiting for the busy processes to end (their own timeout)")
                    for runner in runners.values():
                        wait_until_calm(runner)
    finally:
        for runner in runners.values():
            runner.close()
    return rows
