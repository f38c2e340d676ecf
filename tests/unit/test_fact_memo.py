"""hastack/fact_memo.py over pyinfra's own fact reading and host methods, with a stand-in for the
SSH connection: a fact asked again is answered from its last reading only while nothing has run
on any host since, in the same stage, with the same arguments and connection arguments; a failed
reading is asked again."""

import gevent
import pytest
from pyinfra.api import Config, Inventory, State, facts
from pyinfra.api.host import Host
from pyinfra.api.state import StateStage
from pyinfra.connectors.util import CommandOutput, OutputLine
from pyinfra.facts.server import Command, Hostname

from hastack import fact_memo, pyinfra_speed


class Connection:
    """What each host answers: the commands it was sent, each answered with a new line."""

    def __init__(self, status: bool = True):
        self.commands: list[str] = []
        self.status = status
        # seconds a command that reads a file waits before it answers
        self.pause = 0.0

    def run_shell_command(self, command, **kwargs):
        self.commands.append(str(command))
        answer = f"answer-{len(self.commands)}"
        if "cat " in str(command):
            gevent.sleep(self.pause)
        return self.status, CommandOutput([OutputLine("stdout", answer)])

    def put_file(self, *args, **kwargs):
        return True

    def rsync(self, *args, **kwargs):
        return True


@pytest.fixture
def run(monkeypatch):
    """A run of two hosts with the memo installed over pyinfra's own code."""
    for name in ("run_shell_command", "put_file", "rsync"):
        method = getattr(Host, name)
        monkeypatch.setattr(Host, name, getattr(method, "__wrapped__", method))
    monkeypatch.setattr(facts, "_get_fact", getattr(facts._get_fact, "__wrapped__", facts._get_fact))
    monkeypatch.setattr(fact_memo, "MEMO", fact_memo.Memo())
    fact_memo.install()
    inventory = Inventory((["proxy1", "proxy2"], {}))
    state = State(inventory, Config())
    state.current_stage = StateStage.Execute
    hosts = [inventory.get_host(name) for name in ("proxy1", "proxy2")]
    for host in hosts:
        host.connector = Connection()
        host.connected = True
    return state, hosts


def test_a_fact_asked_again_with_nothing_run_meanwhile_is_not_read_again(run):
    state, (proxy1, _) = run
    first = [proxy1.get_fact(Hostname), proxy1.get_fact(Hostname)]
    assert (first, len(proxy1.connector.commands)) == (["answer-1", "answer-1"], 1)


def test_other_arguments_host_connection_arguments_stage_or_run_are_read(run):
    state, (proxy1, proxy2) = run
    proxy1.get_fact(Command, command="cat /a")
    proxy1.get_fact(Command, command="cat /b")
    proxy1.get_fact(Command, command="cat /a", _sudo=True)
    proxy1.get_fact(Command, command="cat /a", _sudo=True, _sudo_user="postgres")
    proxy2.get_fact(Command, command="cat /a")
    state.current_stage = StateStage.Prepare
    proxy1.get_fact(Command, command="cat /a")
    other = State(Inventory((["proxy1"], {})), Config())
    other.current_stage = StateStage.Execute
    facts.get_fact(other, proxy1, Command, kwargs={"command": "cat /a"})
    # and each of those again: none read again
    state.current_stage = StateStage.Execute
    proxy1.get_fact(Command, command="cat /a", _sudo=True)
    proxy1.get_fact(Command, command="cat /a")
    assert (len(proxy1.connector.commands), len(proxy2.connector.commands)) == (6, 1)


def test_a_command_or_an_upload_on_any_host_makes_every_fact_read_again(run):
    state, (proxy1, proxy2) = run
    answers = [proxy1.get_fact(Hostname)]
    # an operation's command on the other proxy (the cluster's configuration is shared)
    proxy2.run_shell_command("pcs resource update vip")
    answers.append(proxy1.get_fact(Hostname))
    proxy1.put_file("/local", "/remote")
    answers.append(proxy1.get_fact(Hostname))
    proxy2.rsync("/local", "/remote", ())
    answers.append(proxy1.get_fact(Hostname))
    answers.append(proxy1.get_fact(Hostname))
    assert answers == ["answer-1", "answer-2", "answer-3", "answer-4", "answer-4"]


def test_a_fact_whose_command_failed_is_read_again_and_is_no_change(run):
    state, (proxy1, _) = run
    proxy1.get_fact(Hostname)
    proxy1.connector.status = False
    for _ in range(2):
        proxy1.get_fact(Command, command="cat /a", _ignore_errors=True)
    kept = proxy1.get_fact(Hostname)
    assert (kept, len(proxy1.connector.commands)) == ("answer-1", 3)


def test_a_command_run_meanwhile_on_the_same_host_by_another_greenlet_is_a_change(run):
    """A fact read on proxy1 while another greenlet runs an operation's command there, which ends
    first: what was kept before is read again after."""
    state, (proxy1, _) = run
    before = proxy1.get_fact(Hostname)
    proxy1.connector.pause = 0.05
    reader = gevent.spawn(proxy1.get_fact, Command, command="cat /a")
    gevent.sleep(0.01)
    writer = gevent.spawn(proxy1.run_shell_command, "systemctl restart haproxy")
    gevent.joinall([reader, writer])
    proxy1.connector.pause = 0
    after = [proxy1.get_fact(Hostname), proxy1.get_fact(Command, command="cat /a")]
    assert (before, reader.value, after) == ("answer-1", "answer-2", ["answer-4", "answer-5"])


def test_install_wraps_pyinfra_once_and_only_the_code_it_was_compared_with(run, monkeypatch):
    wrapped = (facts._get_fact, Host.run_shell_command, Host.put_file, Host.rsync)
    fact_memo.install()
    assert (facts._get_fact, Host.run_shell_command, Host.put_file, Host.rsync) == wrapped
    assert all(getattr(each, "_hastack_memo", False) for each in wrapped)
    assert fact_memo.compared(), {
        name: pyinfra_speed.source_hash(each) for name, each in fact_memo._found().items()
    }
    own = wrapped[0].__wrapped__
    monkeypatch.setattr(facts, "_get_fact", own)
    monkeypatch.setitem(fact_memo.ORIGINALS, "pyinfra.api.command", "0" * 16)
    fact_memo.install()
    assert facts._get_fact is own
