"""``hastack timers``: its tables, and its values refused before any host is touched."""

import pytest

from hastack import cli, timers


def test_the_connect_table_says_what_a_killed_and_a_stalled_web_host_cost():
    row = timers.ConnectRow("500ms", 0, 1500, 0.0, ["web2"], 0, 679, 0)
    lines = timers.connect_table([row]).splitlines()
    assert lines[0].startswith("| `haproxy_timeout_connect` |")
    assert lines[2] == "| 500ms | 0 of 1500 | 0.00 | web2 | 0 of 679 | 0 |"


def test_the_ping_table_says_when_the_freeze_steps_ran_out_without_a_disconnection():
    ridden = timers.PingRow(5, 4, 8, 3.9, 1.2, 30, 2000, 6.5)
    never = timers.PingRow(42, 16, 16, 16.0, 44.0, 2100, 4000, 43.1)
    lines = timers.ping_table([ridden, never]).splitlines()
    assert lines[2] == "| 5 | 4 | 3.9 | 6.5 | 1.20 | 30 of 2000 |"
    assert lines[3].startswith("| 42 | 16 or more | 16.0 | 43.1 |")


@pytest.mark.parametrize(
    "argv, said",
    [
        (["timers", "ping", "--timeouts", "0"], "whole seconds, 1 or more"),
        (["timers", "ping", "--timeouts", "5s"], "whole seconds, 1 or more"),
        (["timers", "connect", "--timeouts", "half"], "an HAProxy time"),
        (["timers", "--timeouts", "5"], "for `timers connect` or `timers ping`"),
    ],
)
def test_bad_values_are_refused_before_the_lab_is_touched(argv, said, capsys, monkeypatch, tmp_path):
    from hastack import lab

    site = tmp_path / "site.yaml"
    site.write_text("")
    monkeypatch.setattr(lab, "SITE_FILE", site)
    called = []
    monkeypatch.setattr(timers, "measure_connect", lambda *a, **k: called.append(a))
    monkeypatch.setattr(timers, "measure_ping", lambda *a, **k: called.append(a))
    monkeypatch.setattr(timers, "measure", lambda *a, **k: called.append(a))
    args = cli.build_parser().parse_args(argv)
    assert args.func(args) == 2
    assert said in capsys.readouterr().err
    assert not called
