"""README stays current: the two commands (the data keys: tests/unit/test_keydoc.py)."""

from hastack.defaults import ROOT

README = (ROOT / "README.md").read_text()


def test_the_two_commands_are_given():
    assert ("./run lab " in README, "./run test " in README) == (True, True)


def test_ci_runs_the_readme_test_command():
    assert "exec ./run test" in (ROOT / ".ci" / "run").read_text()
