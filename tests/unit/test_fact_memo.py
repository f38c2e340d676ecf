"""hastack/fact_memo.py: a fact asked again is answered from its last reading only while nothing
has run on any host since; a failed reading is asked again."""

from types import SimpleNamespace

from pyinfra.api import facts
from pyinfra.api.host import Host

from hastack import fact_memo
from hastack.fact_memo import Memo


class Host1(SimpleNamespace):
    pass


def reader(memo: Memo, status: bool = True):
    """A stand-in for pyinfra's _get_fact: runs one command on the host (noted as pyinfra's
    Host.run_shell_command would be, once installed), answers a new list each time."""
    calls = []

    def original(state, host, cls, args=None, kwargs=None):
        calls.append((host.name, cls, args))
        memo.ran(host, status)
        return {"answer": [len(calls)]}

    return original, calls


class State:
    """A run (pyinfra's state: the memo keeps a run's answers while it lives)."""


STATE = State()
PROXY1, PROXY2 = Host1(name="proxy1"), Host1(name="proxy2")


def test_a_fact_asked_again_with_nothing_run_meanwhile_is_not_read_again():
    memo = Memo()
    original, calls = reader(memo)
    first = memo.get_fact(original, STATE, PROXY1, "Packages", None, {})
    first["answer"].append("changed by its caller")
    again = memo.get_fact(original, STATE, PROXY1, "Packages", None, {})
    assert (again, len(calls)) == ({"answer": [1]}, 1)


def test_other_arguments_another_host_or_another_run_are_read():
    memo = Memo()
    original, calls = reader(memo)
    memo.get_fact(original, STATE, PROXY1, "File", ["/a"], {})
    memo.get_fact(original, STATE, PROXY1, "File", ["/b"], {})
    memo.get_fact(original, STATE, PROXY1, "File", ["/a"], {"_sudo": True})
    memo.get_fact(original, STATE, PROXY2, "File", ["/a"], {})
    memo.get_fact(original, State(), PROXY1, "File", ["/a"], {})
    assert len(calls) == 5


def test_a_command_on_any_host_makes_every_fact_read_again():
    memo = Memo()
    original, calls = reader(memo)
    memo.get_fact(original, STATE, PROXY1, "Cib", None, {})
    # an operation's command on the other proxy (the cluster's configuration is shared)
    memo.ran(PROXY2, True)
    answer = memo.get_fact(original, STATE, PROXY1, "Cib", None, {})
    memo.ran(PROXY1, None)  # an upload
    last = memo.get_fact(original, STATE, PROXY1, "Cib", None, {})
    assert (answer, last, len(calls)) == ({"answer": [2]}, {"answer": [3]}, 3)


def test_a_fact_whose_command_failed_is_read_again():
    memo = Memo()
    original, calls = reader(memo, status=False)
    memo.get_fact(original, STATE, PROXY1, "Packages", None, {})
    memo.get_fact(original, STATE, PROXY1, "Packages", None, {})
    # and its failure is no change: another fact stays kept
    good, _ = reader(memo)
    memo.get_fact(good, STATE, PROXY1, "Users", None, {})
    memo.get_fact(original, STATE, PROXY1, "Packages", None, {})
    kept = memo.get_fact(good, STATE, PROXY1, "Users", None, {})
    assert (len(calls), kept) == (3, {"answer": [1]})


def test_a_command_run_on_another_host_while_a_fact_is_read_keeps_it_from_being_kept():
    memo = Memo()
    calls = []

    def original(state, host, cls, args=None, kwargs=None):
        calls.append(1)
        memo.ran(PROXY2, True)  # proxy2's operation, in its own greenlet, meanwhile
        memo.ran(host, True)
        return len(calls)

    memo.get_fact(original, STATE, PROXY1, "Cib", None, {})
    assert memo.get_fact(original, STATE, PROXY1, "Cib", None, {}) == 2


def test_install_wraps_pyinfra_once_and_only_the_code_it_was_compared_with(monkeypatch):
    for name in ("run_shell_command", "put_file", "rsync"):
        monkeypatch.setattr(Host, name, getattr(getattr(Host, name), "__wrapped__", getattr(Host, name)))
    monkeypatch.setattr(facts, "_get_fact", getattr(facts._get_fact, "__wrapped__", facts._get_fact))
    assert fact_memo.compared(), {
        name: fact_memo.source_hash(function) for name, function in fact_memo._found().items()
    }
    own = facts._get_fact
    monkeypatch.setitem(fact_memo.ORIGINALS, "pyinfra.api.host.Host.rsync", "0" * 16)
    fact_memo.install()
    assert facts._get_fact is own
    monkeypatch.setitem(fact_memo.ORIGINALS, "pyinfra.api.host.Host.rsync", fact_memo.source_hash(Host.rsync))
    fact_memo.install()
    wrapped = (facts._get_fact, Host.run_shell_command, Host.put_file)
    fact_memo.install()
    assert (facts._get_fact, Host.run_shell_command, Host.put_file) == wrapped
    assert all(getattr(each, "_hastack_memo", False) for each in wrapped)
    assert fact_memo.compared()
