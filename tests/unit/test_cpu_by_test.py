"""The CPU-by-test plugin's counters (tests/cpu_by_test.py): cgroup v1's and v2's files read, and
an odd or missing file read as nothing, never an error that would stop a test run."""

from tests import cpu_by_test
from tests.cpu_by_test import CpuByTest, read_usage_s


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


class Reporter:
    def __init__(self):
        self.lines = []

    def write_sep(self, sep, title):
        self.lines.append(title)

    def write_line(self, line):
        self.lines.append(line)


def ranked(rows, root) -> list[str]:
    """The tests in the order the summary prints them (its file written below ``root``)."""
    plugin = CpuByTest(None)
    plugin.rows = rows
    reporter = Reporter()
    plugin.pytest_terminal_summary(reporter)
    return [line.split()[-1] for line in reporter.lines[2:-1]]


def test_a_lab_pass_ranks_by_the_containers_work_it_drives_and_a_vm_suite_by_its_cgroup(
    tmp_path, monkeypatch
):
    # (test, wall, pytest and children, containers, the suite's cgroup)
    lab = [("soak", 97, 1, 177, None), ("wheel", 83, 148, 10, None)]
    vm = [("storage", 800, 60, 700, 700), ("raid", 100, 300, 5, 120)]
    monkeypatch.setattr(cpu_by_test, "ROOT", tmp_path)
    assert (ranked(lab, tmp_path), ranked(vm, tmp_path)) == (["soak", "wheel"], ["storage", "raid"])
