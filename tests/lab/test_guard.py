"""The lab's guard (hastack/lab/guard.py): nothing the lab sent reached a private or link-local
range outside its own networks, and the guard would have caught it.

`./run test` runs this file at the end of each pass, the lab still up: the first test reads
the counter of everything since the last pass, the second proves the guard drops and counts,
and sets it to nothing for the next pass.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hastack import lab
from hastack.lab import guard

HASTACK = str(Path(sys.executable).with_name("hastack"))


@pytest.fixture(scope="module", autouse=True)
def lab_is_up():
    result = subprocess.run([HASTACK, "lab", "up"], cwd=lab.ROOT, text=True, capture_output=True)
    assert result.returncode == 0, f"the lab cannot come up: {result.stderr or result.stdout}"


def test_the_lab_sent_nothing_beyond_its_own_networks():
    found = guard.report()
    assert found is not None, guard.describe()
    packets, addresses = found
    assert packets == 0, (
        f"{guard.describe()}. Find the daemon that sent them (its default scans, announces or "
        "discovers) and turn that default off in the deploy; then `hastack lab guard --reset`."
    )


def local_guarded_address() -> str:
    """An address of this machine in a guarded range outside the lab (Docker's own docker0):
    a packet to it stops at this machine's input hook and never leaves the machine."""
    listed = json.loads(
        subprocess.run(["ip", "-j", "-4", "addr", "show", "docker0"], text=True, capture_output=True).stdout
        or "[]"
    )
    for link in listed:
        for info in link.get("addr_info", []):
            return info["local"]
    pytest.fail("no docker0 address on this machine: the guard's proof needs a local private address")


def test_the_guard_drops_and_counts_a_packet_to_a_private_range():
    target = local_guarded_address()
    before = guard.report()[0]
    client = lab.host_named("client")
    answered = lab.docker("exec", client.container, "ping", "-c", "3", "-W", "1", target, check=False)
    packets, addresses = guard.report()
    assert answered.returncode != 0, f"{target} answered the lab's client: the guard let it through"
    assert packets - before >= 3, f"the guard counted {packets - before} of the 3 pings to {target}"
    assert target in addresses, f"the guard kept {addresses}, not {target}"
    guard.reset()
    assert guard.report() == (0, [])
