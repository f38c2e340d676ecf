"""The CPU-by-test plugin's counters (tests/cpu_by_test.py): cgroup v1's and v2's files read, and
an odd or missing file read as nothing, never an error that would stop a test run."""

from tests.cpu_by_test import read_usage_s


def test_a_cgroup_counter_is_read_in_seconds_from_either_version(tmp_path):
    v1, v2 = tmp_path / "cpuacct.usage", tmp_path / "cpu.stat"
    v1.write_text("2500000000\n")
    v2.write_text("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n")
    assert (read_usage_s(v1), read_usage_s(v2)) == (2.5, 1.5)


def test_an_odd_or_missing_counter_is_nothing(tmp_path):
    empty, odd, stat = tmp_path / "cpuacct.usage", tmp_path / "x" / "cpuacct.usage", tmp_path / "cpu.stat"
    empty.write_text("")
    odd.parent.mkdir()
    odd.write_text("n/a\n")
    stat.write_text("nr_periods 0\n")
    found = [read_usage_s(path) for path in (empty, odd, stat, tmp_path / "missing" / "cpu.stat")]
    assert found == [None, None, None, None]
