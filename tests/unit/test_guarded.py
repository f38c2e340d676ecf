"""The guarded apply's verdicts (hastack/operations/guarded.py), with the host's answers given:
what the run says when no confirmation came, by what the new logins found."""

from types import SimpleNamespace

import pytest
from pyinfra.api import OperationError

from hastack.operations import guarded


@pytest.fixture
def fake_host(monkeypatch):
    data = SimpleNamespace(ssh_hostname="192.0.2.5", get=lambda key, default=None: default)
    fake = SimpleNamespace(name="web1", data=data, run_shell_command=lambda *a, **k: (True, None))
    monkeypatch.setattr(guarded, "host", fake)
    monkeypatch.setattr(guarded.time, "sleep", lambda seconds: None)
    return fake


def verdict(monkeypatch, answers) -> str:
    answers = iter(answers)
    said = {6: "the package mirror (http://deb.example/InRelease) no longer answers\n"}
    monkeypatch.setattr(
        guarded, "_confirm_over_a_new_login", lambda command: (status := next(answers), said.get(status, ""))
    )
    # the clock moves only while the loop sleeps (a second each)
    clock = [0]
    monkeypatch.setattr(guarded.time, "sleep", lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    monkeypatch.setattr(guarded.time, "monotonic", lambda: clock[0])
    guard = guarded.Guard("network", "/x/switch.sh", "`netplan apply`", "hastack-netplan-apply")
    with pytest.raises(OperationError) as error:
        guarded.apply_confirmed(guard, ["/etc/netplan/60-hastack.yaml"], 5, "Check the site.")
    return str(error.value)


@pytest.mark.parametrize(
    "answers, said",
    [
        ([None] * 10, "host web1: no new SSH login to 192.0.2.5 within 5 s after `netplan apply`"),
        (
            [None, 3, 3, 3, 3, 3],
            "host web1: a new SSH login worked, but `netplan apply` had not finished within 5 s",
        ),
        (
            [3, 3, 3, None, None, None],
            "host web1: no new SSH login to 192.0.2.5 within 5 s after `netplan apply` (one worked "
            "earlier, while `netplan apply` ran)",
        ),
        (
            [None, 127, 127, 127, 127, 127],
            "host web1: a new SSH login ran `sh /x/switch.sh confirm`, which exited 127",
        ),
        ([None, 4], "host web1: `netplan apply` failed; the change was undone"),
        # the host's timer fired a moment before this side's deadline: the old state is back
        (
            [None, None, None, 5],
            "host web1: no new SSH login to 192.0.2.5 within 5 s after `netplan apply`: the host has "
            "put the previous state back by itself",
        ),
        # DHCP's route came late (a 6, then 0) would pass; a mirror that never answers again does not
        (
            [None, 3, 6, 6, 6, 6],
            "host web1: a new SSH login worked after `netplan apply`, but for 5 s the host's own check "
            "said: the package mirror (http://deb.example/InRelease) no longer answers: the host undoes",
        ),
        # the host's check said why, then its timer fired before this side's last login, or the
        # later logins failed: what the check said, when, and what came after it
        (
            [None, 6, 6, 5],
            "host web1: a new SSH login worked after `netplan apply`, but the host's own check said: "
            "the package mirror (http://deb.example/InRelease) no longer answers (its last answer, 3 s "
            "after the change); then the host put the previous state back by itself, its 5 s up",
        ),
        (
            [6, None, None, None, None],
            "host web1: a new SSH login worked after `netplan apply`, and the host's own check said: "
            "the package mirror (http://deb.example/InRelease) no longer answers (its last answer, 1 s "
            "after the change); no new SSH login to 192.0.2.5 worked after it within 5 s: the host undoes",
        ),
    ],
)
def test_an_unconfirmed_change_says_what_the_new_logins_found(fake_host, monkeypatch, answers, said):
    assert said in verdict(monkeypatch, answers)


def test_a_check_that_fails_then_holds_is_confirmed(fake_host, monkeypatch):
    """A DHCP lease a moment late: the host's checks said 6, then 0."""
    answers = iter([(6, "the host has no default route any more\n"), (0, "")])
    monkeypatch.setattr(guarded, "_confirm_over_a_new_login", lambda command: next(answers))
    guard = guarded.Guard("network", "/x/switch.sh", "`netplan apply`", "hastack-netplan-apply")
    guarded.apply_confirmed(guard, ["/etc/netplan/60-hastack.yaml"], 5, "")
    assert guard.failed == []


def test_a_confirmed_change_returns(fake_host, monkeypatch):
    monkeypatch.setattr(guarded, "_confirm_over_a_new_login", lambda command: (0, ""))
    guard = guarded.Guard("network", "/x/switch.sh", "`netplan apply`", "hastack-netplan-apply")
    guarded.apply_confirmed(guard, ["/etc/netplan/60-hastack.yaml"], 5, "")
    assert guard.failed == []
