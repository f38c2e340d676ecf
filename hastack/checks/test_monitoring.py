"""Monitoring: SNMPv3 on every host, Ganglia (unicast gmond, gmetad on the web hosts)."""

import html
import json
import math
import re
import shlex
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from hastack import firewall, secrets
from hastack.checks.plugin import GMETAD_XML, host_platform
from hastack.checks.plugin import site_host_name as host_name
from hastack.components.monitoring import (
    CACTI_GRAPHS_POLLED_BY_COMMAND_LINE,
    CACTI_POLLER_UNIT,
    CACTI_REMAP,
    CACTI_STALE_INDEXES,
    GMETAD_RRDS,
)
from hastack.health import CACTI_CONFIG

LAYER = "monitoring"
SYS_NAME = ".1.3.6.1.2.1.1.5.0"


def own_address(site, name: str) -> str:
    return site.hosts[name].primary_address


def monitoring_web_port(host, site) -> int:
    """Where this host's Apache (Ganglia's or Cacti's pages) listens on loopback."""
    return site.setting("monitoring_web_port", site.hosts[host_name(host, site)])


def snmpget(*args: str) -> subprocess.CompletedProcess:
    """snmpget from this machine (with the firewall on, only the collectors get an answer)."""
    return subprocess.run(
        ["snmpget", "-t", "2", "-r", "1", *args], text=True, capture_output=True, timeout=30
    )


def snmpget_from_collector(
    connect, site, target: str, v3: bool = True, source: str | None = None, cacti_timing: bool = False
) -> tuple[int, str]:
    """(exit status, output) of an SNMP GET of sysName from a proxy (a collector: what Cacti
    asks; default the first), by SNMPv3 authPriv with the site's user, or by v2c with the
    community "public"; ``cacti_timing``: with that proxy's Cacti timeout and retries. The
    passwords reach the proxy in a private file over SFTP (never on a command line), read
    through SNMPCONFPATH and removed at once."""
    source = source or site.hosts_in("proxy")[0].name
    proxy = connect(source)
    timing = "-t 2 -r 1"
    if cacti_timing:
        own = site.hosts[source]
        timeout = site.setting("cacti_snmp_timeout_ms", own) / 1000
        timing = f"-t {timeout:g} -r {site.setting('cacti_snmp_retries', own)}"
    client = proxy.backend.client
    _, out, _ = client.exec_command("mktemp -d")
    folder = out.read().decode().strip()
    lines = [
        f"defSecurityName {site.setting('snmp_user', site.hosts[target])}",
        "defSecurityLevel authPriv",
        "defAuthType SHA-256",
        f"defAuthPassphrase {secrets.password(site.cluster, 'snmp_auth_password')}",
        "defPrivType AES",
        f"defPrivPassphrase {secrets.password(site.cluster, 'snmp_priv_password')}",
    ]
    with client.open_sftp() as sftp, sftp.open(f"{folder}/snmp.conf", "w") as conf:
        conf.chmod(0o600)
        conf.write("\n".join(lines) + "\n")
    version = "-v3" if v3 else "-v2c -c public"
    result = proxy.run(
        f"SNMPCONFPATH={folder} snmpget {timing} {version} {own_address(site, target)} {SYS_NAME}; "
        f"status=$?; rm -rf {folder}; exit $status"
    )
    return result.rc, result.stdout + ("" if result.rc == 0 else result.stderr)


def test_snmpd_running(host):
    assert host.service("snmpd").is_running


def test_snmpd_listens_only_on_its_own_address(host, site):
    sockets = host.check_output("ss -Hlnu 'sport = :161'").split("\n")
    assert [line.split()[3] for line in sockets] == [f"{own_address(site, host_name(host, site))}:161"]


def test_snmpv3_sysname_answers_a_collector(host, site, connect):
    name = host_name(host, site)
    status, output = snmpget_from_collector(connect, site, name)
    assert (status, output.strip().endswith(f'STRING: "{name}"')) == (0, True), output


def test_snmp_v2c_public_gets_nothing_even_from_a_collector(host, site, connect):
    status, output = snmpget_from_collector(connect, site, host_name(host, site), v3=False)
    assert (status != 0, "STRING" in output) == (True, False), output


def test_no_community_in_the_configuration(host):
    lines = host.file("/etc/snmp/snmpd.conf").content_string.splitlines()
    assert [line for line in lines if re.match(r"\s*(rocommunity|rwcommunity|com2sec)", line)] == []


# Ganglia's default channel (the package's own gmond.conf sends to it and joins it).
GANGLIA_GROUP = "239.2.11.71"


def test_gmond_sends_and_joins_no_multicast(host):
    """gmond's channels are unicast: its configuration names no multicast group, and the host has
    not joined Ganglia's default group (the package's own gmond.conf sends to and joins it)."""
    conf = host.file("/etc/ganglia/gmond.conf").content_string
    groups = host.check_output("ip -4 maddr show")
    assert ("mcast" in conf, GANGLIA_GROUP in groups) == (False, False), groups


def test_gmond_running(host, site):
    assert host.service(host_platform(host, site).gmond_service).is_running


@pytest.mark.roles("web")
def test_gmetad_running(host, site):
    assert host.service(host_platform(host, site).gmetad_service).is_running


def test_ganglia_containers_run_the_sites_image(host, site):
    """Where the release has no Ganglia packages, gmond (and gmetad on the web hosts) run in
    Docker from the site's ganglia_image; elsewhere no such container runs."""
    platform = host_platform(host, site)
    spec = site.hosts[host_name(host, site)]
    units = [platform.gmond_service] + ([platform.gmetad_service] if spec.role == "web" else [])
    if not platform.ganglia_in_container:
        running = host.run("docker ps --format '{{.Names}}' 2>/dev/null").stdout.split()
        assert [name for name in running if name.startswith("hastack-gm")] == []
        return
    images = {
        unit: host.run(f"docker inspect -f '{{{{.Config.Image}}}}' {unit}").stdout.strip() for unit in units
    }
    assert images == {unit: site.setting("ganglia_image", spec) for unit in units}


@pytest.mark.roles("web")
def test_gmetad_knows_every_host(host, site):
    """gmetad's XML (port 8651, local only) lists all hosts once the first polls are in."""
    wanted = sorted(site.hosts)
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        xml = host.run(GMETAD_XML)
        if xml.rc == 0 and xml.stdout.strip():
            seen = sorted({h.get("NAME") for h in ET.fromstring(xml.stdout).iter("HOST")})
            if seen == wanted:
                break
        time.sleep(5)
    assert seen == wanted


# --- the data: what the graphs are drawn from --------------------------------------------

# The metrics every host's Ganglia graphs need, one per module: load, cpu, mem, net.
GANGLIA_METRICS = ["load_one", "cpu_idle", "mem_free", "bytes_in"]
GANGLIA_RRDS = GMETAD_RRDS


def last_update(host, rrd: str) -> tuple[int, list[str]] | None:
    """(time, values) of an RRD's last update, from ``rrdtool lastupdate``; None if it has none."""
    result = host.run(f"rrdtool lastupdate {rrd}")
    lines = result.stdout.strip().splitlines()
    if result.rc != 0 or len(lines) < 2 or ":" not in lines[-1]:
        return None
    stamp, values = lines[-1].split(":", 1)
    return int(stamp), values.split()


def is_number(value: str) -> bool:
    """A value rrdtool printed that is a measurement: not "U" (unknown) and not NaN."""
    try:
        return not math.isnan(float(value))
    except ValueError:
        return False


def host_clock(host) -> int:
    return int(host.check_output("date +%s"))


@pytest.mark.roles("proxy")
def test_a_collectors_gmond_takes_only_the_sites_hosts(host, site):
    """gmond's own ACLs (besides the firewall): metrics from the site's hosts, its XML to the
    web hosts' gmetad and this host."""
    conf = host.file("/etc/ganglia/gmond.conf").content_string
    channels = dict(re.findall(r"(udp_recv_channel|tcp_accept_channel) \{(.*?)\n\}", conf, re.S))
    allowed = {name: set(re.findall(r"ip = (\S+) mask = 32", body)) for name, body in channels.items()}
    hosts = site.topology_hosts()
    assert allowed == {
        "udp_recv_channel": {"127.0.0.1", *firewall.gmond_senders(hosts, host_name(host, site))},
        "tcp_accept_channel": {"127.0.0.1", *(str(w.addresses["back"]) for w in site.hosts_in("web"))},
    }


@pytest.mark.roles("web")
def test_gmond_loads_every_metric_module(host, site):
    """gmond names a module by a path that exists where it runs, on the host or in its container
    (it does not start if one fails to load)."""
    conf = host.file("/etc/ganglia/gmond.conf").content_string
    paths = re.findall(r'path\s*=\s*"([^"]+)"', conf)
    platform = host_platform(host, site)
    inside = f"docker exec {platform.gmond_service} " if platform.ganglia_in_container else ""
    missing = [path for path in paths if host.run(f"{inside}test -e {path}").rc != 0]
    assert (len(paths) >= 7, missing) == (True, [])


@pytest.mark.roles("proxy")
def test_gmond_collector_xml_carries_metrics_of_every_host(host, site):
    """A collector's XML (gmond's TCP port) holds each host's cpu, load, memory and network metrics,
    freshly reported."""
    port = site.setting("ganglia_port", site.hosts[host_name(host, site)])
    metrics: dict[str, set[str]] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        xml = host.check_output(
            "python3 -c \"import socket,sys; s=socket.create_connection(('127.0.0.1', "
            f"{port})); sys.stdout.write(b''.join(iter(lambda: s.recv(65536), b'')).decode())\""
        )
        # Fresh: reported within twice its own threshold (gmond sends it at least every TMAX s);
        # a collector keeps a silent host's last values, so presence alone proves nothing.
        metrics = {
            node.get("NAME"): {
                metric.get("NAME")
                for metric in node.iter("METRIC")
                if int(metric.get("TN")) <= 2 * int(metric.get("TMAX"))
            }
            for node in ET.fromstring(xml).iter("HOST")
        }
        if all(set(GANGLIA_METRICS) <= metrics.get(name, set()) for name in site.hosts):
            break
        time.sleep(5)
    assert {name: sorted(set(GANGLIA_METRICS) - metrics.get(name, set())) for name in site.hosts} == {
        name: [] for name in site.hosts
    }


@pytest.mark.roles("web")
def test_gmetad_writes_fresh_values_for_every_host(host, site):
    """Each host's load, cpu, memory and traffic RRDs hold a number from one of gmetad's last polls."""
    poll = site.setting("ganglia_poll_seconds", site.hosts[host_name(host, site)])
    # A value is fresh if it came from one of the last polls (and at least within two minutes).
    fresh = max(120, 4 * poll)
    stale: dict[str, list[str]] = {}
    deadline = time.monotonic() + fresh + 60
    while True:
        now = host_clock(host)
        stale = {}
        for name in site.hosts:
            for metric in GANGLIA_METRICS:
                update = last_update(host, f"{GANGLIA_RRDS}/{site.cluster}/{name}/{metric}.rrd")
                if update is None or now - update[0] > fresh or not all(map(is_number, update[1])):
                    stale.setdefault(name, []).append(f"{metric}: {update}")
        if not stale or time.monotonic() > deadline:
            break
        time.sleep(10)
    assert stale == {}


# systemd's "unit started" message (a start job done): one per successful poller run.
UNIT_STARTED = "39f53479d3a045ac8e11786248231fbf"


def cacti_config(host) -> tuple[int, str]:
    """Cacti's effective poller interval (seconds) and RRD folder, as Cacti itself reads them."""
    out = host.check_output(CACTI_CONFIG)
    interval, rra = out.split()
    return int(interval), rra


def scheduled_polls(host) -> list[int]:
    """When the timer's poller runs finished successfully (seconds), oldest first, from the journal."""
    out = host.check_output(
        f"journalctl -q -o json -u {CACTI_POLLER_UNIT}.service MESSAGE_ID={UNIT_STARTED} JOB_RESULT=done"
    )
    return [int(json.loads(line)["__REALTIME_TIMESTAMP"]) // 1_000_000 for line in out.splitlines()]


@pytest.mark.roles("proxy")
def test_cacti_poller_is_scheduled_by_a_timer_at_the_sites_interval(host, site):
    """Cacti's poller_interval is the site's cacti_poll_minutes, and the timer runs the poller on
    the clock at it; no cron entry."""
    minutes = site.setting("cacti_poll_minutes", site.hosts[host_name(host, site)])
    timer = host.service(f"{CACTI_POLLER_UNIT}.timer")
    schedule = host.check_output(f"systemctl show -p TimersCalendar --value {CACTI_POLLER_UNIT}.timer")
    assert (
        cacti_config(host)[0],
        timer.is_enabled,
        timer.is_running,
        f"OnCalendar=*-*-* *:00/{minutes}:00 " in schedule,
        host.file("/etc/cron.d/cacti").exists,
    ) == (minutes * 60, True, True, True, False), schedule


@pytest.mark.roles("proxy")
def test_cacti_runs_its_queued_commands(host, site):
    """Cacti's queue of commands (a device's reindex after it restarted: its graphs then follow
    the interfaces' new indexes) holds nothing older than two poller runs: the poller's run
    leaves the background process that runs it alone (KillMode=process), as cron does."""
    minutes = site.setting("cacti_poll_minutes", site.hosts[host_name(host, site)])
    stale = host.check_output(
        'mysql -N -B cacti -e "SELECT command, time FROM poller_command '
        f'WHERE time < NOW() - INTERVAL {2 * minutes * 60 + 30} SECOND"'
    )
    kill_mode = host.check_output(f"systemctl show -p KillMode --value {CACTI_POLLER_UNIT}.service")
    assert (stale.splitlines(), kill_mode) == ([], "process"), (
        f"Cacti's queued commands (device:data query) wait: {stale.splitlines()[:8]}; KillMode={kill_mode}. "
        f"Deploy the proxy again (its {CACTI_POLLER_UNIT}.service), or run them once: "
        "`runuser -u www-data -- php -q /usr/share/cacti/site/poller_commands.php --poller=1`"
    )


def stale_indexes(host) -> list[str]:
    """The data sources that no longer follow their interface (hastack's remapper's query)."""
    out = host.check_output(f"mysql -N -B cacti -e {shlex.quote(CACTI_STALE_INDEXES)}")
    return [" | ".join(line.split("\t")) for line in out.splitlines() if line.strip()]


def remapper_run(host) -> tuple[str, str | None]:
    """The poller unit's ExecStartPre as systemd shows it, and the remapper's last exit status
    (None before its first run)."""
    pre = host.check_output(f"systemctl show -p ExecStartPre --value {CACTI_POLLER_UNIT}.service")
    ran = re.search(r"status=(\d+)", pre)
    return pre, ran and ran.group(1)


@pytest.mark.roles("proxy")
def test_cacti_graphs_follow_their_interfaces(host):
    """Every interface's data source is indexed by its device's sort field, which is not ifIndex
    (a key an interface loses at its host's restart), at an index the last walk found, where
    Cacti's cache holds its interface, from a walk newer than the device's snmpd. A restarted
    host whose walk timed out leaves stale ones: Cacti polls their old indexes and writes unknown
    traffic until it indexes the device again, which it does only when the device's snmpd
    restarts. hastack's remapper, run before each poll (and without error at its last run),
    queues a reindex of such a device, which Cacti runs after the poll. One still stale after two
    polls fails (issue #26, item 7)."""
    stale, seen = stale_indexes(host), cacti_last_poll(host)
    pre, status = remapper_run(host)
    deadline = time.monotonic() + 2 * cacti_config(host)[0] + 90
    # A remapper's run that failed (MariaDB still starting after a reboot, say) is waited on too:
    # the next one must exit 0.
    while (stale or status != "0") and time.monotonic() < deadline:
        time.sleep(10)
        if cacti_last_poll(host) > seen:
            # A poll began: the remapper ran before it; the reindex runs after it.
            seen = cacti_last_poll(host)
            time.sleep(20)
            stale = stale_indexes(host)
            pre, status = remapper_run(host)
    assert (stale, CACTI_REMAP in pre, status) == ([], True, "0"), (
        "Cacti's data sources that do not follow their interface (id | device id | device | data "
        f"query | sort field | index type | index value | index | cached indexes): {stale[:8]}; the "
        f"remapper in {CACTI_POLLER_UNIT}.service: {pre.strip()}. Deploy the proxy again, or index the "
        "device again: `runuser -u www-data -- php /usr/share/cacti/cli/poller_reindex_hosts.php "
        "--id=DEVICE_ID`. An interface that is gone keeps its graph stale: delete that graph in Cacti."
    )


@pytest.mark.roles("proxy")
def test_cacti_has_no_graph_polled_through_command_line_tools(host):
    """No graph of a device, and no link of a device or a device template, of the templates
    that Cacti's script server polls through net-snmp's command-line tools: those carry the
    SNMPv3 passphrases on their command line at every poll (tests/infra/test_secrets_in_transit.py
    watches for them)."""
    listed = ", ".join(f"'{value}'" for value in sorted(CACTI_GRAPHS_POLLED_BY_COMMAND_LINE))
    out = host.check_output(
        'mysql -N -B cacti -e "SELECT gt.name, '
        "(SELECT COUNT(*) FROM graph_local gl JOIN host h ON h.id = gl.host_id "
        "WHERE gl.graph_template_id = gt.id), "
        "(SELECT COUNT(*) FROM host_template_graph htg WHERE htg.graph_template_id = gt.id), "
        "(SELECT COUNT(*) FROM host_graph hg WHERE hg.graph_template_id = gt.id) "
        f'FROM graph_templates gt WHERE gt.hash IN ({listed})"'
    )
    found = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines() if line.strip()}
    assert {name: counts for name, counts in found.items() if counts != ["0", "0", "0"]} == {}


def data_sources(host) -> dict[str, int]:
    """Each data source of a polled device (a departed host's device is disabled, its RRDs kept
    as history): its RRD file and the step Cacti has for it."""
    rra = cacti_config(host)[1]
    rows = host.check_output(
        'mysql -N -B cacti -e "SELECT dtd.rrd_step, dtd.data_source_path FROM data_template_data dtd '
        "JOIN data_local dl ON dl.id = dtd.local_data_id JOIN host h ON h.id = dl.host_id "
        "WHERE h.disabled = '' AND dtd.data_source_path <> ''\""
    )
    pairs = (row.split("\t") for row in rows.splitlines())
    return {path.replace("<path_rra>", rra): int(step) for step, path in pairs}


def rrd_steps(host, paths) -> dict[str, int]:
    """The step of each of these RRD files that exists (the poller makes a missing one)."""
    quoted = " ".join(map(shlex.quote, paths))
    out = host.check_output(
        f"for f in {quoted}; do [ ! -e $f ] || echo $f $(rrdtool info $f | sed -n 's/^step = //p'); done"
    )
    return {line.split()[0]: int(line.split()[1]) for line in out.splitlines()}


@pytest.mark.roles("proxy")
def test_cacti_rrds_have_the_sites_step(host, site):
    """Every data source (its record in Cacti and its RRD file, where the poller made it already)
    has the step of the site's cacti_poll_minutes: a changed interval made them again."""
    step = site.setting("cacti_poll_minutes", site.hosts[host_name(host, site)]) * 60
    records = data_sources(host)
    made = rrd_steps(host, records)
    assert (
        {path: got for path, got in records.items() if got != step},
        {path: got for path, got in made.items() if got != step},
        len(records) > 0,
    ) == ({}, {}, True)


def cacti_last_poll(host) -> int:
    """When Cacti's poller last really polled (its own record; a run it skipped leaves it)."""
    out = host.check_output(
        "mysql -N -B cacti -e \"SELECT value FROM settings WHERE name = 'poller_lastrun_1'\""
    )
    return int(out.strip() or 0)


def wait_for_scheduled_polls(host, count: int) -> tuple[int, str, int]:
    """Wait until the timer's poller has run ``count`` times within the last ``count`` intervals,
    the last of them a run that polled: Cacti's poller exits without polling ("Cron is configured
    to run too often") when a run, forced or not, began less than about 230 s of a 300 s interval
    before; the journal counts that run as a success all the same. (interval, RRD folder, now)."""
    interval, rra = cacti_config(host)
    deadline = time.monotonic() + (count + 1) * interval + 120
    while True:
        polls, now = scheduled_polls(host), host_clock(host)
        recent = [poll for poll in polls if now - poll <= count * interval + 60]
        polled = bool(recent) and cacti_last_poll(host) >= recent[-1] // interval * interval - 5
        if (len(recent) >= count and polled) or time.monotonic() > deadline:
            break
        time.sleep(10)
    window = count * interval + 60
    assert len(recent) >= count, f"the timer ran the poller at {polls[-3:]}, now {now}: {count} in {window} s"
    assert polled, (
        f"the timer's last run (finished at {recent[-1]}) did not poll: Cacti last polled at "
        f"{cacti_last_poll(host)} (a forced poller run shortly before a scheduled one makes Cacti skip it)"
    )
    return interval, rra, now


def empty_rrds(host, rrds: list[tuple[str, str, str]], rra: str, interval: int) -> list[str]:
    """The RRDs (device, template, path) without a number in the rows of the last two intervals
    (a traffic counter needs two polls in a row, within the RRD's heartbeat)."""
    now, empty = host_clock(host), []
    for device, template, path in rrds:
        rrd = path.replace("<path_rra>", rra)
        fetched = host.check_output(f"rrdtool fetch {rrd} AVERAGE -r {interval} -s -{3 * interval}")
        rows = [row.split(":", 1) for row in fetched.splitlines() if ":" in row]
        recent = [values.split() for stamp, values in rows if int(stamp) >= now - 2 * interval]
        if not any(values and all(map(is_number, values)) for values in recent):
            empty.append(f"{device} {template}: {fetched.strip().splitlines()[-3:]}")
    return empty


# What Cacti's poller logs of a run that did not poll, or came late.
POLLER_LATE = ("run too often", "out of sync")


def poller_ran_late(host) -> bool:
    """Whether Cacti's recent log lines tell of a run that did not poll or came late."""
    log = host.run(f"tail -n 300 {CACTI_LOG}").stdout
    return any(word in log for word in POLLER_LATE)


@pytest.mark.roles("proxy")
@pytest.mark.after_the_other_checks
def test_cacti_rrds_hold_values_from_scheduled_polls(host, site, connect):
    """After two scheduled polls (the timer's, at Cacti's interval), each device's load RRD and each
    interface traffic RRD have numbers from the last polls (a traffic counter needs two). A run
    that did not poll (a forced run shortly before it, or a late start on a busy host) leaves a
    counter without a rate until two polls come in a row again: where Cacti's log shows such a
    run, the check reads again for up to three more intervals before it fails (a Cacti that
    polls on time and still has no numbers fails at once), and says which runs did not poll."""
    interval, rra, _ = wait_for_scheduled_polls(host, 2)
    out = host.check_output(
        'mysql -N -B cacti -e "SELECT h.description, dt.name, dtd.data_source_path '
        "FROM data_local dl JOIN host h ON h.id = dl.host_id "
        "JOIN data_template dt ON dt.id = dl.data_template_id "
        "JOIN data_template_data dtd ON dtd.local_data_id = dl.id "
        "WHERE h.disabled = '' AND (dt.name LIKE '%Load Average%' OR dt.name LIKE 'Interface - Traffic%')\""
    )
    rrds = [tuple(line.split("\t")) for line in out.splitlines()]
    kinds: dict[str, set[str]] = {}
    for device, template, _ in rrds:
        kinds.setdefault(device, set()).add("load" if "Load" in template else "traffic")
    deadline = time.monotonic() + 3 * interval + 30
    empty = empty_rrds(host, rrds, rra, interval)
    while empty and poller_ran_late(host) and time.monotonic() < deadline:
        time.sleep(15)
        empty = empty_rrds(host, rrds, rra, interval)
    why = cacti_blind_spots(host, site, connect, sorted({line.split()[0] for line in empty}))
    assert (empty, {device: sorted(kinds.get(device, [])) for device in site.hosts}) == (
        [],
        {device: ["load", "traffic"] for device in site.hosts},
    ), why


CACTI_LOG = "/var/log/cacti/cacti.log"
# What an SNMP request's failure says, from net-snmp (snmpget, the poller's log), by cause.
SNMP_CAUSES = {
    "an authentication failure (the SNMPv3 user or its passwords differ from the agent's)": (
        "Authentication failure",
        "Unknown user name",
        "authorizationError",
        "Decryption error",
        "Unknown security name",
    ),
    "a timeout (no answer within cacti_snmp_timeout_ms and its retries)": ("Timeout",),
    "no such object (the agent answers, without that OID)": ("No Such Object", "No Such Instance"),
}


# The poller's log lines that tell of a device's trouble.
SNMP_TROUBLE = r"WARNING|ERROR|[Tt]imeout|failure|did not respond"


def snmp_cause(text: str) -> str | None:
    for cause, words in SNMP_CAUSES.items():
        if any(word in text for word in words):
            return cause
    return None


def cacti_blind_spots(host, site, connect, devices: list[str]) -> str:
    """Why Cacti on this proxy has no data of these devices: Cacti's own view of each (status,
    last error), an SNMP GET of it now from this proxy with the site's user and Cacti's timeout
    and retries, the poller's log lines about it, and scheduled runs the poller skipped."""
    if not devices:
        return ""
    status_names = {"0": "unknown", "1": "down", "2": "recovering", "3": "up"}
    rows = host.check_output(
        "mysql -N -B cacti -e 'SELECT id, description, status, status_last_error FROM host'"
    )
    cacti = {line.split("\t")[1]: line.split("\t") for line in rows.splitlines()}
    log = host.run(f"tail -n 3000 {CACTI_LOG}").stdout.splitlines()
    skipped = [line for line in log if any(word in line for word in POLLER_LATE)][-3:]
    proxy = host_name(host, site)
    report = [f"Cacti on {proxy} has no data of {', '.join(devices)}:"]
    for device in devices:
        if device not in site.hosts:
            continue
        device_id, _, status, error = (cacti.get(device, ["?", device, "0", "not in Cacti"]) + [""])[:4]
        rc, answer = snmpget_from_collector(connect, site, device, source=proxy, cacti_timing=True)
        address = own_address(site, device)
        lines = [line for line in log if f"Device[{device_id}]" in line or f"'{address}'" in line]
        errors = [line for line in lines if re.search(SNMP_TROUBLE, line)][-3:]
        answer = (answer.strip().splitlines() or [""])[-1]  # net-snmp's verdict, after MIB warnings
        cause = snmp_cause(" ".join([answer, error, *errors])) or (
            "unknown: SNMP answers now; see the poller's log lines" if rc == 0 else "unknown"
        )
        report.append(
            f"- {device}: cause: {cause}. Cacti's status: {status_names.get(status, status)}"
            f"{f', last error: {error}' if error else ''}; "
            f"an SNMPv3 GET from {proxy} now, with Cacti's timing: "
            f"{'answers' if rc == 0 else answer or f'exit {rc}'}"
            + "".join(f"\n    log: {line}" for line in errors)
        )
    if skipped:
        report.append(
            "Poller runs that did not poll, or came late (a forced run shortly before, a busy host):"
        )
        report += [f"    log: {line}" for line in skipped]
    return "\n".join(report)


# --- the front ends: Ganglia's pages (web hosts), Cacti (proxies), through the VIP ---------


def fetch(host, site, url: str) -> tuple[str, str]:
    """(status, body) of a GET from this host, through the VIP. The monitoring pages are read
    from a proxy: they answer the proxies' own addresses whatever the site's admin_web_networks."""
    out = host.check_output(
        f"curl {site.curl_to_vip} -s -m 20 -o /tmp/hastack-page -w '%{{http_code}}' '{url}'"
    )
    return out, host.file("/tmp/hastack-page").content_string


@pytest.mark.roles("web", "proxy")
def test_apache_runs_the_releases_php(host, site):
    """Ganglia's and Cacti's pages run on the PHP the OS map names for this release."""
    php = host_platform(host, site).php
    assert (php is not None, host.package(f"libapache2-mod-php{php}").is_installed) == (True, True)


@pytest.mark.roles("web", "proxy")
def test_apache_listens_on_loopback_only(host, site):
    port = monitoring_web_port(host, site)
    sockets = host.check_output("ss -Hltnp | grep apache2 || true").splitlines()
    assert [line.split()[3] for line in sockets] == [f"127.0.0.1:{port}"]


@pytest.mark.roles("proxy")
@pytest.mark.one_host
def test_ganglia_page_through_the_vip(host, site):
    status, page = fetch(host, site, site.url("/ganglia/"))
    assert (status, "<title>Ganglia:: hastack Grid Report</title>" in page) == ("200", True)


@pytest.mark.roles("proxy")
@pytest.mark.one_host
def test_ganglia_cluster_page_shows_every_host(host, site):
    status, page = fetch(host, site, site.url(f"/ganglia/?c={site.cluster}"))
    shown = {name for name in site.hosts if f"h={name}&" in page or f'h={name}"' in page}
    assert (status, shown) == ("200", set(site.hosts))


# A walk of Ganglia's pages stops after this many (the lab's cluster has about 400).
GANGLIA_WALK_LIMIT = 600
APACHE_ERROR_LOG = "/var/log/apache2/error.log"
WALK_DIR = "/tmp/hastack-walk"


def fetch_pages(host, site, urls: list[str]) -> dict[str, tuple[str, str, str]]:
    """GET each URL from ``host`` with one curl (4 at a time, like a browser), through the VIP:
    url -> (status, content type, the page where it is HTML). Two round trips for the lot, not
    two a page."""
    outputs = " ".join(f"-o {WALK_DIR}/{number} {shlex.quote(url)}" for number, url in enumerate(urls))
    statuses = host.run(
        f"rm -rf {WALK_DIR} && mkdir {WALK_DIR} && "
        f"curl {site.curl_to_vip} -g -s -m 30 --parallel --parallel-max 4 "
        f"-w '%{{filename_effective}} %{{http_code}} %{{content_type}}\\n' {outputs}"
    ).stdout
    found = {}
    for line in statuses.splitlines():
        path, status, kind = (line.split(" ", 2) + ["", ""])[:3]
        found[path.rsplit("/", 1)[-1]] = (status, kind)
    html_pages = [number for number, (status, kind) in found.items() if kind.startswith("text/html")]
    listed = " ".join(html_pages) or "/dev/null"
    pages = host.check_output(
        f"cd {WALK_DIR} && for f in {listed}; do printf '\\n=== %s\\n' $f; cat $f; done; "
        f"cd / && rm -rf {WALK_DIR}"
    )
    bodies = dict(re.findall(r"\n=== (\d+)\n(.*?)(?=\n=== \d+\n|\Z)", pages, re.S))
    return {
        url: (*found.get(str(number), ("000", "")), bodies.get(str(number), ""))
        for number, url in enumerate(urls)
    }


@pytest.mark.roles("proxy")
@pytest.mark.one_host
def test_ganglia_linked_pages_answer_without_php_errors(host, site, connect):
    """Every page reachable by links from /ganglia/ answers 200 (a page that failed is asked
    again after a gmetad poll, twice at most), and Apache's error log on the web hosts gains no
    PHP error while they are walked."""
    webs = [web.name for web in site.hosts_in("web")]
    offsets = {web: int(connect(web).check_output(f"stat -c %s {APACHE_ERROR_LOG}")) for web in webs}
    base = site.url("/ganglia/")
    seen: set[str] = set()
    level = [base]
    failed: dict[str, str] = {}
    # Breadth first, a level of links at a time.
    while level and len(seen) < GANGLIA_WALK_LIMIT:
        level = list(dict.fromkeys(url for url in level if url not in seen))[: GANGLIA_WALK_LIMIT - len(seen)]
        seen.update(level)
        found = []
        # At most 150 URLs a curl: one command line stays far below the kernel's 128 KiB an argument.
        pages = {}
        for start in range(0, len(level), 150):
            pages.update(fetch_pages(host, site, level[start : start + 150]))
        for url, (status, kind, page) in pages.items():
            if status != "200":
                failed[url] = status
            elif kind.startswith("text/html"):
                for href in re.findall(r"""href=["']([^"'#]+)""", page):
                    link = urllib.parse.urljoin(url, html.unescape(href))
                    if link.startswith(base) and not link.endswith((".css", ".js", ".png", ".ico")):
                        found.append(link)
        level = found
    # A host's metric that has just appeared (a fresh deploy) is listed before gmetad has
    # written its RRD: its graph's data answers 500 until gmetad's next poll. A page asked
    # again after two polls that still fails is a failure; one that answers was that window.
    poll = site.setting("ganglia_poll_seconds", site.hosts_in("web")[0])
    for _ in range(2):
        if not failed:
            break
        time.sleep(poll + 5)
        again = fetch_pages(host, site, sorted(failed))
        failed = {url: status for url, (status, _, _) in again.items() if status != "200"}
    since = {web: f"tail -c +{offsets[web] + 1} {APACHE_ERROR_LOG}" for web in webs}
    logged = {web: connect(web).check_output(since[web]) for web in webs}
    errors = {web: [line for line in text.splitlines() if "PHP " in line] for web, text in logged.items()}
    assert (len(seen) > 50, failed, errors) == (True, {}, {web: [] for web in webs})


@pytest.mark.roles("proxy")
@pytest.mark.one_host
def test_ganglia_draws_graphs(host, site):
    web = site.hosts_in("web")[-1].name
    url = site.url(f"/ganglia/graph.php?c={site.cluster}&h={web}&m=load_one&r=hour&z=small")
    kind = host.check_output(
        f"curl {site.curl_to_vip} -s -m 20 -o /dev/null -w '%{{http_code}} %{{content_type}}' '{url}'"
    )
    assert kind == "200 image/png"


# The series of Ganglia's cluster reports that every host feeds: graph.php's own data (json=1).
GANGLIA_REPORTS = {
    "load_report": ["1-min", "CPUs", "Procs"],
    "cpu_report": ["User", "System", "Idle"],
    "mem_report": ["Use", "Cache", "Free", "Total"],
    "network_report": ["In", "Out"],
}


@pytest.mark.roles("proxy")
@pytest.mark.one_host
def test_ganglia_cluster_reports_draw_recent_data(host, site):
    """What the cluster page's graphs are drawn from holds numbers from the last polls, not NaN."""
    fresh = max(120, 4 * site.setting("ganglia_poll_seconds"))
    now = host_clock(host)
    empty = {}
    for report, wanted in GANGLIA_REPORTS.items():
        url = site.url(f"/ganglia/graph.php?c={site.cluster}&g={report}&r=hour&json=1")
        series = json.loads(host.check_output(f"curl {site.curl_to_vip} -s -m 20 '{url}'"))
        recent = {
            entry["metric_name"].replace("\\g", "").strip(): [
                value for value, when in entry["datapoints"] if when >= now - fresh and is_number(f"{value}")
            ]
            for entry in series
        }
        missing = [name for name in wanted if not recent.get(name)]
        if missing:
            empty[report] = missing
    assert empty == {}


@pytest.mark.roles("proxy")
@pytest.mark.one_host
def test_ganglia_stacked_graph_is_a_png(host, site):
    """The cluster page's stacked graph (rrdtool refused its command before hastack's fix)."""
    url = site.url(f"/ganglia/stacked.php?c={site.cluster}&m=load_one&r=hour&st=1")
    magic = host.check_output(f"curl {site.curl_to_vip} -s -m 20 '{url}' | head -c 4 | od -An -c | tr -d ' '")
    assert magic == "211PNG"


@pytest.mark.roles("proxy")
@pytest.mark.one_host
def test_cacti_login_page_through_the_vip(host, site):
    status, page = fetch(host, site, site.url("/cacti/"))
    assert (status, "<title>Login to Cacti</title>" in page) == ("200", True)


@pytest.mark.roles("proxy")
def test_cacti_answers_on_each_proxy(host, site):
    """The proxy without the VIP has its Cacti ready too: it answers when the VIP moves there."""
    port = monitoring_web_port(host, site)
    page = host.check_output(f"curl -s -m 20 http://127.0.0.1:{port}/cacti/")
    assert "<title>Login to Cacti</title>" in page


# Cacti's login like a browser's, run on a host with curl: the login form's CSRF token, a
# session cookie, then the console page, which names the user only when logged in. The password
# comes on standard input and reaches curl through a builtin's pipe, never a command line.
CACTI_LOGIN = r"""set -e
IFS= read -r password
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
form=$(curl $OPTIONS -fsS -m 20 -c "$dir/jar" -b "$dir/jar" "$BASE")
token=$(printf '%s\n' "$form" | sed -n "s/.*name=.__csrf_magic. value=.\([^\"']*\).*/\1/p" | head -n 1)
escaped=$(printf '%s' "$password" | sed 's/[\\"]/\\&/g')
printf 'data-urlencode = "login_password=%s"\n' "$escaped" | curl $OPTIONS -fsS -m 20 -K - -o /dev/null \
    -c "$dir/jar" -b "$dir/jar" -d action=login --data-urlencode "login_username=$USER_NAME" \
    --data-urlencode "__csrf_magic=$token" "${BASE}index.php"
curl $OPTIONS -fsS -m 20 -b "$dir/jar" "${BASE}index.php" > "$dir/page"
grep -c "Logged in as <span id='user' class='user usermenuup'>$USER_NAME" "$dir/page" || true
"""


def cacti_login_from(host, base_url: str, user: str, password: str, options: str = "") -> bool:
    """Whether Cacti at ``base_url`` (ending in /cacti/) lets this user in, asked from ``host``
    (``options``: curl's, ``Site.curl_to_vip``)."""
    values = f"BASE={shlex.quote(base_url)} USER_NAME={shlex.quote(user)} OPTIONS={shlex.quote(options)}"
    script = f"{values}\n{CACTI_LOGIN}"
    stdin, stdout, stderr = host.backend.client.exec_command(script, timeout=90)
    stdin.write(password + "\n")
    stdin.flush()
    stdin.channel.shutdown_write()
    out, status = stdout.read().decode(), stdout.channel.recv_exit_status()
    assert status == 0, f"Cacti's login page could not be read from the host: {stderr.read().decode()}"
    return out.strip() not in ("", "0")


@pytest.mark.roles("proxy")
@pytest.mark.one_host
def test_cacti_lets_admin_in_with_the_generated_password_only(host, site):
    """Through the VIP, from a proxy (the admin pages answer the proxies whatever the site's
    admin_web_networks)."""
    password = secrets.password(site.cluster, "cacti_admin_password")
    url = site.url("/cacti/")
    assert (
        cacti_login_from(host, url, "admin", password, site.curl_to_vip),
        cacti_login_from(host, url, "admin", password[::-1], site.curl_to_vip),
    ) == (True, False)


@pytest.mark.roles("proxy")
@pytest.mark.after_the_other_checks
def test_cacti_polls_every_host_over_snmpv3(host, site):
    """The timer's last poller run on this proxy's Cacti found every host up, named as SNMP names
    it. Never a forced run here: Cacti would skip the next scheduled poll, a gap in the graphs."""
    wait_for_scheduled_polls(host, 1)
    columns = "description, status, snmp_sysName, snmp_version, snmp_community"
    rows = host.check_output(f"mysql -N -B cacti -e 'SELECT {columns} FROM host WHERE disabled=\"\"'")
    devices = {line.split("\t")[0]: line.split("\t")[1:] for line in rows.splitlines()}
    # status 3: up; SNMP version 3 and no community
    assert devices == {name: ["3", name, "3", ""] for name in site.hosts}


@pytest.mark.roles("proxy")
def test_cacti_discovers_no_network(host):
    """No automation network is enabled: Cacti ships "Test Network" (192.168.1.0/24) enabled and
    scheduled, and its poller would ping and SNMP-probe it. The devices are the site's hosts."""
    enabled = host.check_output(
        "mysql -N -B cacti -e 'SELECT name, subnet_range FROM automation_networks WHERE enabled <> \"\"'"
    )
    assert enabled.splitlines() == []


@pytest.mark.roles("proxy")
def test_cacti_asks_with_the_sites_snmp_timeout_and_retries(host, site):
    """Every device, and Cacti's defaults, have this proxy's cacti_snmp_timeout_ms and
    cacti_snmp_retries (availability check: ping_timeout and ping_retries; polls: snmp_timeout
    and the global snmp_retries)."""
    own = site.hosts[host_name(host, site)]
    timeout, retries = site.setting("cacti_snmp_timeout_ms", own), site.setting("cacti_snmp_retries", own)
    rows = host.check_output(
        "mysql -N -B cacti -e 'SELECT description, snmp_timeout, ping_timeout, ping_retries "
        'FROM host WHERE disabled = ""\''
    )
    devices = {line.split("\t")[0]: [int(n) for n in line.split("\t")[1:]] for line in rows.splitlines()}
    names = "'snmp_timeout', 'snmp_retries', 'ping_timeout', 'ping_retries'"
    settings = host.check_output(
        f'mysql -N -B cacti -e "SELECT name, value FROM settings WHERE name IN ({names})"'
    )
    defaults = dict(line.split("\t") for line in settings.splitlines())
    assert (devices, defaults) == (
        {name: [timeout, timeout, retries] for name in site.hosts},
        {
            "snmp_timeout": str(timeout),
            "snmp_retries": str(retries),
            "ping_timeout": str(timeout),
            "ping_retries": str(retries),
        },
    )


@pytest.mark.roles("proxy")
def test_cacti_graphs_every_host_with_its_data_queries(host, site):
    """Each device has the template's graphs and its Ethernet interfaces' traffic (an SNMP data query)."""
    rows = host.check_output(
        "mysql -N -B cacti -e 'SELECT h.description, COUNT(g.id), COALESCE(SUM(g.snmp_query_id > 0), 0) "
        'FROM host h LEFT JOIN graph_local g ON g.host_id = h.id WHERE h.disabled = "" GROUP BY h.id\''
    )
    graphs = {line.split("\t")[0]: [int(n) for n in line.split("\t")[1:]] for line in rows.splitlines()}
    assert {name: (total >= 5, queried >= 1) for name, (total, queried) in graphs.items()} == {
        name: (True, True) for name in site.hosts
    }
