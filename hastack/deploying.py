"""Run a deploy with the pyinfra CLI and read what it changed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hastack.defaults import ROOT

# pyinfra's results table: "<operation>  <hosts>  <success>  <error>  <no change>",
# where "success" counts the hosts the operation changed.
RESULT_ROW = re.compile(
    r"^\s{4}(?P<op>.+?)\s{2,}(?P<hosts>\d+)\s+(?P<changed>\d+|-)\s+"
    r"(?P<error>\d+|-)\s+(?P<unchanged>\d+|-)\s*$"
)
# A host's line in an operation's output that says it failed there.
FAILED_HOST = re.compile(r"^\s+\[[^]]+\]\s+(Error|Failed)", re.M)


@dataclass
class DeployRun:
    returncode: int
    output: str

    @property
    def results(self) -> list[dict]:
        block = self.output.split("--> Results:", 1)[-1]
        return [match.groupdict() for line in block.splitlines() if (match := RESULT_ROW.match(line))]

    @property
    def changed_operations(self) -> list[str]:
        return [
            f"{row['op']} ({row['changed']} hosts)"
            for row in self.results
            if row["changed"] != "-" and row["op"] != "Grand total"
        ]

    def report(self, tail: int = 2000) -> str:
        """For an assertion's message: the output of each operation that failed on a host (a
        failed run's table alone does not say why), then the run's last ``tail`` characters."""
        blocks = self.output.split("--> Starting operation:")
        failed = [
            "--> Starting operation:" + block[:1500]
            for block in blocks[1:]
            if FAILED_HOST.search(block.split("--> Results:", 1)[0])
        ]
        return "\n".join(failed[:5] + ["[...]", self.output[-tail:]])


def run_deploy(
    site: str | Path,
    entry: str = "deploys/all.py",
    *extra: str,
    log: Path | None = None,
    cwd: Path = ROOT,
) -> DeployRun:
    """Run ``pyinfra -y inventory.py ENTRY`` against a site file, from the repository root or
    from ``cwd`` (whose group_data/ pyinfra and the inventory read then, beside the checkout's)."""
    pyinfra = Path(sys.executable).with_name("pyinfra")
    env = {**os.environ, "HASTACK_SITE": str(site)}
    command = [str(pyinfra), "-y", str(ROOT / "inventory.py"), str(ROOT / entry), *extra]
    if log is None:
        result = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            encoding="utf-8",
            errors="replace",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        return DeployRun(result.returncode, result.stdout)
    # Written line by line as the run goes, so a person sees where a long run is.
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        returncode = subprocess.run(
            command, cwd=cwd, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    return DeployRun(returncode, log.read_text(encoding="utf-8", errors="replace"))
