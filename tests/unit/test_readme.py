"""README stays current: the two commands, and every data key with its default."""

import pytest

from hastack.defaults import DEFAULTS, ROOT

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_every_data_key_is_documented(key):
    assert f"#### `{key}`" in README


def test_the_two_commands_are_given():
    assert ("./run lab " in README, "./run test " in README) == (True, True)


def test_ci_runs_the_readme_test_command():
    assert "exec ./run test" in (ROOT / ".ci" / "run").read_text()
