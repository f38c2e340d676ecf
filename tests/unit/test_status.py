"""`hastack status`'s verdict and screen from its lines (the lines themselves are read from the
lab's hosts: tests/infra/test_degraded_verify.py)."""

from hastack.site import load_site
from hastack.status import Line, exit_code, render


def test_all_well_is_0_a_problem_1_the_shop_down_2():
    well = [Line("hosts", True, "5 of 5 answer SSH"), Line("shop", True, "200")]
    degraded = [*well, Line("raid", False, "web1 /dev/md0: its state is 'clean, degraded'")]
    down = [*degraded, Line("shop", False, "000", down=True)]
    assert (exit_code(well), exit_code(degraded), exit_code(down)) == (0, 1, 2)


def test_the_screen_marks_each_problem(fixtures):
    site = load_site(fixtures / "good_site.yaml")
    lines = [Line("hosts", True, "5 of 5 answer SSH"), Line("storage", False, "away: web2")]
    screen = render(site, lines, 1.23).splitlines()
    assert (screen[0].endswith(": DEGRADED, read in 1.2 s"), screen[1:]) == (
        True,
        ["  ok  hosts        5 of 5 answer SSH", "  !!  storage      away: web2"],
    )
