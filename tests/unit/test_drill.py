"""Seconds without service, from a stream of (time, status) samples."""

from hastack.drill import outage


def test_no_failure_no_outage():
    assert outage([(0.0, 200), (0.05, 200)]) == 0.0


def test_outage_runs_from_the_first_failure_to_the_next_success():
    samples = [(0.0, 200), (1.0, 0), (1.5, 503), (3.2, 200), (4.0, 0), (4.5, 200)]
    assert outage(samples) == 2.2


def test_an_outage_still_running_at_the_end_counts():
    assert outage([(0.0, 200), (1.0, 0), (2.5, 0)]) == 1.5


def test_drills_act_on_lab_containers_only_for_a_lab_site(fixtures):
    """Chosen from the site file, not from its path: `lab: true` (written by `hastack lab up`)."""
    from hastack import drill, lab
    from hastack.site import load_site, parse_site

    servers = load_site(fixtures / "good_site.yaml")
    in_lab = parse_site(lab.site_text(), "anywhere.yaml")
    assert (type(drill.host_control(servers, None)), type(drill.host_control(in_lab, None))) == (
        drill.RealServers,
        drill.LabHosts,
    )


def test_the_command_offers_every_drill():
    from hastack import cli, drill

    parser = cli.build_parser()
    drill_parser = parser._subparsers._group_actions[0].choices["drill"]
    name = next(action for action in drill_parser._actions if action.dest == "name")
    assert list(name.choices) == list(drill.DRILLS)
