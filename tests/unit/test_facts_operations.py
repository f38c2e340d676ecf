"""Facts and operations from JSON fixtures, as pyinfra's own tests do: facts in, commands out."""

import hashlib
import json
from pathlib import Path

import pytest
from pyinfra.api import Config, FileUploadCommand, Inventory, State
from pyinfra.context import ctx_host, ctx_state
from pyinfra.facts.files import File, Sha256File
from pyinfra.facts.server import TmpDir

from hastack.facts.network import Ipv4Interfaces
from hastack.operations.files import validated_file

FIXTURES = Path(__file__).parent / "fixtures"
FACT_CLASSES = {"File": File, "Sha256File": Sha256File, "TmpDir": TmpDir}


def cases(folder: str) -> list[Path]:
    return sorted((FIXTURES / folder).glob("*.json"))


@pytest.mark.parametrize("path", cases("facts/ipv4_interfaces"), ids=lambda p: p.stem)
def test_ipv4_interfaces_fact(path):
    case = json.loads(path.read_text())
    assert Ipv4Interfaces().process(case["output"]) == case["fact"]


def run_operation(operation, case: dict) -> tuple[list[str], list[str]]:
    inventory = Inventory((["somehost"], {}))
    state = State(inventory, Config())
    host = inventory.get_host("somehost")
    facts = {FACT_CLASSES[name]: value for name, value in case["facts"].items()}
    if case.get("content_sha256"):
        facts[Sha256File] = hashlib.sha256(case["args"]["content"].encode()).hexdigest()
    host.get_fact = lambda cls, **kwargs: facts[cls]
    noops: list[str] = []
    host.noop = noops.append
    with ctx_state.use(state), ctx_host.use(host):
        commands = list(operation._inner(**case["args"]))
    rendered = [
        f"upload {command.dest}" if isinstance(command, FileUploadCommand) else str(command)
        for command in commands
    ]
    return rendered, noops


@pytest.mark.parametrize("path", cases("operations/validated_file"), ids=lambda p: p.stem)
def test_validated_file(path):
    case = json.loads(path.read_text())
    commands, noops = run_operation(validated_file, case)
    assert (commands, noops) == (case["commands"], [case["noop"]] if "noop" in case else [])
