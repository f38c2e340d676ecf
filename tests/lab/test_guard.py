"""The lab's guard (hastack/lab/guard.py): nothing the lab sent reached a private or link-local
range outside its own networks, and the guard would have caught it.

`./run test` runs this file near the end of each pass, the lab still up: the first test reads
the counter of everything since the last pass (or since `./run test` began), the second proves
the guard drops and counts, and sets it to nothing for the next pass.
"""

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


# The proof's target: a link-local address of this machine's own, added to its loopback by the
# test and removed after it (no dummy interface: not every kernel has the module). A lab host
# reaches it only through its gateway (this machine): the packet stops at this machine's input
# hook and never leaves it, guard or not. (docker0's address would not do: on Debian 13 every lab
# host runs its own Docker, with its own 172.17.0.1.)
PROOF_ADDRESS = "169.254.231.231"


@pytest.fixture
def proof_address():
    subprocess.run(["ip", "addr", "del", f"{PROOF_ADDRESS}/32", "dev", "lo"], capture_output=True)
    made = subprocess.run(
        ["ip", "addr", "add", f"{PROOF_ADDRESS}/32", "dev", "lo"], text=True, capture_output=True
    )
    assert made.returncode == 0, (
        f"ip addr add {PROOF_ADDRESS}/32 dev lo: {made.stderr} (the proof runs as root)"
    )
    yield PROOF_ADDRESS
    subprocess.run(["ip", "addr", "del", f"{PROOF_ADDRESS}/32", "dev", "lo"], capture_output=True)


def test_the_guard_drops_and_counts_a_packet_to_a_private_range(proof_address):
    client = lab.host_named("client")
    route = lab.docker("exec", client.container, "ip", "-4", "route", "get", proof_address).stdout
    assert " via " in route, f"the client does not reach {proof_address} through its gateway: {route}"
    before = guard.report()[0]
    answered = lab.docker("exec", client.container, "ping", "-c", "3", "-W", "1", proof_address, check=False)
    packets, addresses = guard.report()
    assert answered.returncode != 0, f"{proof_address} answered the lab's client: the guard let it through"
    assert packets - before >= 3, f"the guard counted {packets - before} of the 3 pings to {proof_address}"
    assert proof_address in addresses, f"the guard kept {addresses}, not {proof_address}"
    guard.reset()
    assert guard.report() == (0, [])
