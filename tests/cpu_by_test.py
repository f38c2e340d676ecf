"""Where the tests' CPU goes (a pytest plugin the checkout's conftest loads, with --durations only,
as `./run test` runs each suite). For each test, its set-up, call and teardown together:

- the CPU of pytest and the processes it waited for (pyinfra, SSH, hastack's CLI; a VM's qemu
  when it ends, so a module's VM lands on its last test, and a session fixture such as the lab's
  deploy on the first test that asks for it);
- the CPU of the cgroup `./run` made for this suite, where it says so (HASTACK_TESTS_CGROUP_CPU:
  a cgroup counter file; the VM tests', qemu counted as it runs);
- the CPU of Docker's containers: the lab's, whatever suite drives them (beside the VM tests it is
  the lab passes' work, not theirs).

The 15 tests that used the most CPU of their own (the suite's cgroup where there is one, else
pytest's, its children's and the containers' it drives) are printed at the end, and every test goes to
.lab/cpu-by-test-<pid>.tsv. CI is bound by the CPU of its two cores, so this, beside --durations,
says where its time goes."""

import os
import resource
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# cgroup v1's cpuacct (nanoseconds) and v2's cpu.stat (microseconds) of Docker's containers
DOCKER = (Path("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage"), Path("/sys/fs/cgroup/docker/cpu.stat"))
# Set by ./run for the suite it runs in a cgroup of its own: that cgroup's counter file.
OWN = "HASTACK_TESTS_CGROUP_CPU"
SHOWN = 15


def read_usage_s(path: Path) -> float | None:
    """CPU seconds from a cgroup's counter file (cpuacct.usage or cpu.stat); None where it cannot
    be read."""
    try:
        text = path.read_text()
        if path.name == "cpu.stat":
            for line in text.splitlines():
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) / 1e6
            return None
        return int(text.split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def docker_s() -> float | None:
    for path in DOCKER:
        value = read_usage_s(path)
        if value is not None:
            return value
    return None


def process_s() -> float:
    """CPU seconds of pytest and the children it has waited for."""
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


class CpuByTest:
    def __init__(self, own: Path | None):
        self.own = own
        self.rows: list[tuple[str, float, float, float | None, float | None]] = []

    def sample(self) -> tuple[float, float, float | None, float | None]:
        own = read_usage_s(self.own) if self.own else None
        return time.monotonic(), process_s(), docker_s(), own

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        before = self.sample()
        yield
        after = self.sample()

        def delta(index):
            if before[index] is None or after[index] is None:
                return None
            return after[index] - before[index]

        self.rows.append((item.nodeid, delta(0), delta(1), delta(2), delta(3)))

    def pytest_terminal_summary(self, terminalreporter):
        if not self.rows:
            return

        def shown(value):
            return "-" if value is None else f"{value:.0f}"

        def own(row):
            # a suite in a cgroup of its own (the VM tests): that cgroup; else (the lab passes)
            # pytest's and the containers', whose work it drives (the VM tests drive none)
            return row[4] if row[4] is not None else row[2] + (row[3] or 0)

        lines = ["test\twall_s\tpytest_and_children_s\tcontainers_s\tsuite_cgroup_s"]
        lines += [
            f"{row[0]}\t{row[1]:.1f}\t{row[2]:.1f}\t{shown(row[3])}\t{shown(row[4])}" for row in self.rows
        ]
        out = ROOT / ".lab" / f"cpu-by-test-{os.getpid()}.tsv"
        try:
            out.parent.mkdir(exist_ok=True)
            out.write_text("\n".join(lines) + "\n")
        except OSError:
            out = None
        totals = [sum(row[index] or 0 for row in self.rows) for index in (2, 3, 4)]
        terminalreporter.write_sep("=", f"CPU by test: the {SHOWN} that used the most of their own (seconds)")
        terminalreporter.write_line("pytest+children  suite cgroup  containers (all)  wall  test")
        for row in sorted(self.rows, key=own, reverse=True)[:SHOWN]:
            terminalreporter.write_line(
                f"{row[2]:15.0f}  {shown(row[4]):>12}  {shown(row[3]):>16}  {row[1]:4.0f}  {row[0]}"
            )
        terminalreporter.write_line(
            f"in all: pytest and children {totals[0]:.0f} s, the suite's cgroup {totals[2]:.0f} s, "
            f"the lab's containers {totals[1]:.0f} s"
            + (f"; every test: {out.relative_to(ROOT)}" if out else "")
        )


def pytest_configure(config):
    """Only beside --durations (any value, 0 too), and not in an xdist worker (its controller
    runs no test)."""
    if config.getoption("durations", None) is None or hasattr(config, "workerinput"):
        return
    if not config.pluginmanager.has_plugin("hastack-cpu-by-test"):
        own = os.environ.get(OWN, "").strip()
        config.pluginmanager.register(CpuByTest(Path(own) if own else None), "hastack-cpu-by-test")
