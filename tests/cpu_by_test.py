"""Where the tests' CPU goes (a pytest plugin the checkout's conftest loads): for each test, its
set-up, call and teardown together, the CPU used by pytest and the processes it waited for
(pyinfra, SSH, hastack's CLI, a VM's qemu once it ended), by the lab's containers (Docker's cgroup)
and by this run's own cgroup where it has one (the VM tests' in `./run test`). Only with
--durations (as `./run test` runs each suite): the slowest by CPU are printed at the end, and all
go to .lab/cpu-by-test-<pid>.tsv. CI is bound by the CPU of its two cores, so this, beside
--durations, is what says where its time goes."""

import os
import resource
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# cgroup v1's cpuacct (nanoseconds) and v2's cpu.stat (microseconds) of Docker's containers
DOCKER = (Path("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage"), Path("/sys/fs/cgroup/docker/cpu.stat"))
SHOWN = 15


def read_usage_s(path: Path) -> float | None:
    """CPU seconds from a cgroup's counter file; None where it cannot be read."""
    try:
        text = path.read_text()
    except OSError:
        return None
    if path.name == "cpu.stat":
        for line in text.splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) / 1e6
        return None
    return int(text.split()[0]) / 1e9


def own_cgroup_counter() -> Path | None:
    """The counter of the cgroup this process runs in, unless it is the root (the whole machine)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if path == "/":
            continue
        if "cpuacct" in controllers.split(","):
            return Path("/sys/fs/cgroup/cpuacct") / path.lstrip("/") / "cpuacct.usage"
        if controllers == "":
            return Path("/sys/fs/cgroup") / path.lstrip("/") / "cpu.stat"
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
    def __init__(self):
        self.own = own_cgroup_counter()
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

        def cpu(row):
            # a VM's qemu: in the own cgroup as it runs, in pytest's children once it ended
            own = row[4] if row[4] is not None else row[2]
            return own + (row[3] or 0)

        lines = ["test\twall_s\tpytest_and_children_s\tcontainers_s\town_cgroup_s"]
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
        terminalreporter.write_sep("=", f"CPU by test: the {SHOWN} that used the most (seconds)")
        terminalreporter.write_line("pytest+children  containers  own cgroup  wall  test")
        for row in sorted(self.rows, key=cpu, reverse=True)[:SHOWN]:
            terminalreporter.write_line(
                f"{row[2]:15.0f}  {shown(row[3]):>10}  {shown(row[4]):>10}  {row[1]:4.0f}  {row[0]}"
            )
        terminalreporter.write_line(
            f"in all: pytest and children {totals[0]:.0f} s, containers {totals[1]:.0f} s, own cgroup "
            f"{totals[2]:.0f} s (a VM's qemu is counted by pytest when it ends, by the cgroup as it runs)"
            + (f"; every test: {out.relative_to(ROOT)}" if out else "")
        )


def pytest_configure(config):
    """Only beside --durations (as `./run test` runs each suite)."""
    if config.getoption("durations", None) and not config.pluginmanager.has_plugin("hastack-cpu-by-test"):
        config.pluginmanager.register(CpuByTest(), "hastack-cpu-by-test")
