"""Seconds without service, from a stream of (time, status) samples."""

from hastack.drill import outage


def test_no_failure_no_outage():
    assert outage([(0.0, 200), (0.05, 200)]) == 0.0


def test_outage_runs_from_the_first_failure_to_the_next_success():
    samples = [(0.0, 200), (1.0, 0), (1.5, 503), (3.2, 200), (4.0, 0), (4.5, 200)]
    assert outage(samples) == 2.2


def test_an_outage_still_running_at_the_end_counts():
    assert outage([(0.0, 200), (1.0, 0), (2.5, 0)]) == 1.5


def test_the_lab_site_is_known_however_its_path_is_written(monkeypatch, tmp_path):
    from hastack import lab

    monkeypatch.chdir(lab.ROOT)
    relative = str(lab.SITE_FILE.relative_to(lab.ROOT))
    other = tmp_path / "site.yaml"
    assert (lab.is_lab_site(relative), lab.is_lab_site(str(lab.SITE_FILE)), lab.is_lab_site(str(other))) == (
        True,
        True,
        False,
    )


def test_the_command_offers_every_drill():
    from hastack import cli, drill

    parser = cli.build_parser()
    drill_parser = parser._subparsers._group_actions[0].choices["drill"]
    name = next(action for action in drill_parser._actions if action.dest == "name")
    assert list(name.choices) == list(drill.DRILLS)
