"""hastack/snmp_probe.py: the probe's output read, its table, its command (no hosts)."""

from hastack import snmp_probe

OUTPUT = """PHP Deprecated:  something Cacti says on standard output
client\tup\t336\t0.52
web1\tdown\t1503\tDevice did not respond to SNMP
web1\tup\t20\tno value
client\tup\t1045\t1.07
"""


def test_the_probes_lines_are_read_and_a_poll_needs_a_number():
    answers = snmp_probe.parse(OUTPUT)
    assert [(a.device, a.up, a.ms, a.polled) for a in answers] == [
        ("client", True, 336, True),
        ("web1", False, 1503, False),
        ("web1", True, 20, False),
        ("client", True, 1045, True),
    ]


def test_the_table_has_a_line_per_device_and_one_for_all():
    text = snmp_probe.table([("busy", snmp_probe.parse(OUTPUT))])
    assert text.splitlines()[2:] == [
        "| busy | client | 2 | 2 | 690 | 1045 | 1045 |",
        "| busy | web1 | 2 | 0 | 762 | 1503 | 1503 |",
        "| busy | all | 4 | 2 | 690 | 1503 | 1503 |",
    ]


def test_the_probe_runs_as_www_data_at_the_pollers_niceness_and_cleans_up():
    plain = snmp_probe.probe_command("/tmp/hastack-probe.x", rounds=3, timeout_ms=500, retries=1)
    assert plain == (
        "nice -n 5 su -s /bin/sh www-data -c 'php /tmp/hastack-probe.x/probe.php 3 500 1'; "
        "status=$?; rm -rf /tmp/hastack-probe.x; exit $status"
    )
    assert snmp_probe.probe_command("/tmp/p", sudo=True).startswith("sudo -n sh -c 'nice -n 5 su ")


def test_the_probe_never_runs_cactis_poller():
    assert ("poller.php" in snmp_probe.PROBE_PHP, "Net_Ping" in snmp_probe.PROBE_PHP) == (False, True)


def test_busy_on_real_servers_wants_yes_and_timeouts_are_whole_milliseconds(capsys):
    import pytest

    from hastack import cli
    from hastack.defaults import ROOT

    real = str(ROOT / "tests" / "unit" / "fixtures" / "good_site.yaml")
    assert cli.main(["snmp-bench", real, "--busy"]) == 2
    assert "is not the lab: --busy saturates every host's CPU" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        cli.main(["snmp-bench", real, "--timeout-ms", "500,2s"])
    assert (stopped.value.code, "write whole milliseconds" in capsys.readouterr().err) == (2, True)


def test_the_cacti_keys_bounds():
    from hastack import rules

    timeout, retries = rules.RULES["cacti_snmp_timeout_ms"], rules.RULES["cacti_snmp_retries"]
    assert [timeout(v) is None for v in (99, 100, 10000, 10001)] == [False, True, True, False]
    assert [retries(v) is None for v in (0, 1, 5, 6)] == [False, True, True, False]
