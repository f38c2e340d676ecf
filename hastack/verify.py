"""``hastack verify``: the checks (hastack.checks) against the hosts of any site, as a table.

Runs the checks the package carries with HASTACK_SITE set (so nothing is
deployed), from a checkout or an installed wheel alike, without the tests
marked ``lab``. Prints, per host and layer (each check module's ``LAYER``), how
many checks hold and which do not.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from hastack import checks
from hastack.site import Site

CHECKS = Path(checks.__file__).parent


class Collector:
    """A pytest plugin that counts results per (host, layer)."""

    def __init__(self) -> None:
        self.results: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(
            lambda: {"passed": [], "failed": []}
        )
        self.hosts: dict[str, str] = {}
        self.layers: dict[str, str] = {}
        self.reasons: list[tuple[str, str, str]] = []

    def pytest_itemcollected(self, item) -> None:
        callspec = getattr(item, "callspec", None)
        self.hosts[item.nodeid] = callspec.params.get("host", "cluster") if callspec else "cluster"
        self.layers[item.nodeid] = getattr(item.module, "LAYER", item.module.__name__)

    def pytest_runtest_logreport(self, report) -> None:
        if report.when != "call" and not (report.when == "setup" and report.failed):
            return
        layer = self.layers.get(report.nodeid, Path(report.fspath).stem)
        host = self.hosts.get(report.nodeid, "cluster")
        outcome = "passed" if report.passed else "failed"
        test = report.nodeid.split("::", 1)[1].split("[", 1)[0]
        self.results[(host, layer)][outcome].append(test)
        if report.failed:
            self.reasons.append((host, test, reason(report)))


def reason(report) -> str:
    """A failed check's own words: the first line of its assertion's message (the checks of a
    degraded cluster say there what to do), else of the error."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash else str(report.longrepr)
    first = text.strip().splitlines()[0] if text.strip() else "failed"
    return first.removeprefix("AssertionError: ").removeprefix("Failed: ")


def table(site: Site, collector: Collector) -> str:
    role = {name: spec.role for name, spec in site.hosts.items()}
    lines = [f"{'host':<9} {'role':<7} {'layer':<11} {'holds':>5} {'fails':>5}  failing checks", "-" * 78]
    for (host, layer), outcome in sorted(
        collector.results.items(), key=lambda item: (item[0][0] not in role, item[0])
    ):
        failing = ", ".join(sorted(set(outcome["failed"])))
        lines.append(
            f"{host:<9} {role.get(host, '-'):<7} {layer:<11} {len(outcome['passed']):>5} "
            f"{len(outcome['failed']):>5}  {failing}"
        )
    return "\n".join(lines)


def run_verify(site: Site, hosts: list[str] | None = None, select: str | None = None) -> int:
    """``hosts``: the checks that take a host run on these only; ``select``: pytest's ``-k``."""
    from hastack.checks import plugin

    unknown = [name for name in hosts or [] if name not in site.hosts]
    if unknown:
        print(
            f"error: --hosts names {', '.join(unknown)}, not a host of {site.source}: "
            f"name some of {', '.join(site.hosts)}",
            file=sys.stderr,
        )
        return 2
    os.environ["HASTACK_SITE"] = site.source
    if hosts:
        os.environ[plugin.HOSTS_ENV] = ",".join(hosts)
    else:
        os.environ.pop(plugin.HOSTS_ENV, None)
    # The checks look at this very site: the values it was loaded with (group_data/ included).
    plugin.use_site(site)
    collector = Collector()
    skipped = []
    if not site.setting("monitoring_enabled"):
        # Nothing of it is deployed: there is nothing to check.
        skipped = ["--ignore", str(CHECKS / "test_monitoring.py")]
    code = pytest.main(
        [
            str(CHECKS),
            *skipped,
            # testinfra's own plugin would give each check a local "host" instead of the site's.
            "-p",
            "no:pytest11.testinfra",
            "-p",
            "hastack.checks.plugin",
            "-m",
            "not lab",
            "-q",
            "-p",
            "no:cacheprovider",
            "--no-header",
            "-o",
            "addopts=",
            *(["-k", select] if select else []),
        ],
        plugins=[collector],
    )
    print()
    print(table(site, collector))
    if collector.reasons:
        print("\nwhat the failing checks say:")
        for host, test, why in collector.reasons:
            print(f"  {host}: {test}: {why}")
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print(f"\nno check matched (--hosts {hosts}, -k {select!r})")
        return 1
    failed = sum(len(outcome["failed"]) for outcome in collector.results.values())
    if skipped:
        print("monitoring: switched off in the site (monitoring_enabled: false), not checked")
    print(f"\n{'all checks hold' if code == 0 else f'{failed} check(s) fail'} on {site.source}")
    print(f"(the checks of {CHECKS})")
    return 0 if code == 0 else 1
