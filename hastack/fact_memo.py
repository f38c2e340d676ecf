"""A fact asked again gets its last answer, as long as no command has run on any host since.

pyinfra 3 keeps no fact: each operation asks its own, and one deploy asks the same ones again
and again (on a proxy of the lab, in one run of deploys/all.py: the package list 16 times,
the cluster's configuration 13 times, the folder of a file uploaded 8 times; 50 of its 243
commands). Each is a command on the host, one round trip after the other.

Here an answer is kept until anything else runs on any host: a command of an operation, an
upload, a command of hastack's own code. The next fact asked after that is read again. Any
host, not only the one asked: a command on one proxy changes what the other's cluster
configuration says, a GlusterFS command on one web host what the other's volume says.

The key is the run (pyinfra's state) and its stage, the host, the fact, its arguments and the
connection's arguments it runs with (sudo, its user, the shell, whether errors are ignored),
as pyinfra works them out for it. So the operations, once run, read every fact again: what
pyinfra read while it prepared them (before its prompt, without `-y`) is not reused. Kept
only where the fact's one command ran and succeeded and the host was not failed; a key whose
text would not tell two values apart (a masked secret, an object shown by its address) is
read every time. pyinfra's `_retries` would get the same answers on a retry that ran nothing:
hastack's operations use none.

Installed only over the code it was compared with (``ORIGINALS``, as in
hastack/pyinfra_speed.py): the wrapped functions, and the modules whose commands, uploads and
operations all go through the host's methods wrapped here. A pyinfra whose code differs keeps
its own.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import weakref
from typing import Any

import gevent
from pyinfra.api import facts
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS
from pyinfra.api.host import Host

from hastack.pyinfra_speed import same_code

_MARK = "_hastack_memo"
# The sha256 (first 16 hex digits) of the source of the pyinfra code this relies on, as compared
# (pyinfra 3.10).
ORIGINALS = {
    "pyinfra.api.facts._get_fact": "4bae739f846172aa",
    "pyinfra.api.facts._handle_fact_kwargs": "f1e30b1315adca78",
    "pyinfra.api.host": "c6ee8f23b6bc5c95",
    "pyinfra.api.command": "b5238ac210435020",
    "pyinfra.api.operations": "c912e1eaed8dc611",
}


def _found() -> dict[str, Any]:
    return {
        "pyinfra.api.facts._get_fact": getattr(facts._get_fact, "__wrapped__", facts._get_fact),
        "pyinfra.api.facts._handle_fact_kwargs": facts._handle_fact_kwargs,
        "pyinfra.api.host": importlib.import_module("pyinfra.api.host"),
        "pyinfra.api.command": importlib.import_module("pyinfra.api.command"),
        "pyinfra.api.operations": importlib.import_module("pyinfra.api.operations"),
    }


def compared() -> bool:
    """Whether pyinfra's code is still the code this module was compared with."""
    return same_code(_found(), ORIGINALS)


# What a key's text must not hold: values it would not tell apart.
_BLIND = ("*MASKED*", " object at 0x")


class Memo:
    """The answers of one process's runs: for each run (pyinfra's state), key -> (the number of
    commands run when it was asked, the answer)."""

    def __init__(self) -> None:
        self.changes = 0
        self.answers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        # the greenlet asking a fact -> (its host's name, whether the fact's commands succeeded)
        self.asking: dict[Any, tuple[str, list[bool]]] = {}

    @staticmethod
    def key(state, host, cls, args, kwargs) -> tuple | None:
        """The fact's key, or None where it cannot be told (then it is read every time)."""
        try:
            fact_kwargs, global_kwargs = facts._handle_fact_kwargs(state, host, cls, args, kwargs)
            connection = sorted(
                (name, value)
                for name, value in global_kwargs.items()
                if name in CONNECTOR_ARGUMENT_KEYS or name == "_ignore_errors"
            )
            arguments = sorted((name, value) for name, value in fact_kwargs.items() if name != "self")
            text = repr((arguments, connection))
        except Exception:  # noqa: BLE001 (pyinfra's own read says what is wrong)
            return None
        if any(blind in text for blind in _BLIND):
            return None
        return (getattr(state, "current_stage", None), host.name, cls, text)

    def get_fact(self, original, state, host, cls, args=None, kwargs=None, *rest, **more):
        key = self.key(state, host, cls, args, kwargs)
        try:
            answers = self.answers.setdefault(state, {}) if key is not None else None
        except TypeError:
            answers = None
        changes = self.changes
        if answers is not None and key in answers and answers[key][0] == changes:
            try:
                return copy.deepcopy(answers[key][1])
            except Exception:  # noqa: BLE001 (read it again)
                del answers[key]
        asker = gevent.getcurrent()
        statuses: list[bool] = []
        self.asking[asker] = (host.name, statuses)
        try:
            answer = original(state, host, cls, args, kwargs, *rest, **more)
        finally:
            self.asking.pop(asker, None)
        # one command, run and succeeded, the host not failed; nothing else ran meanwhile
        kept = statuses == [True] and self.changes == changes
        if answers is not None and kept and host not in getattr(state, "failed_hosts", ()):
            with contextlib.suppress(Exception):  # an answer that cannot be copied is not kept
                answers[key] = (changes, copy.deepcopy(answer))
        return answer

    def ran(self, host, status: bool | None) -> None:
        """Something ran on ``host``: the command of a fact this greenlet asks there (its status
        noted), else a change."""
        asking = self.asking.get(gevent.getcurrent())
        if asking is not None and asking[0] == host.name and status is not None:
            asking[1].append(bool(status))
        else:
            self.changes += 1


MEMO = Memo()


def install() -> None:
    """Wrap pyinfra's fact reading and its host's commands and uploads (once; never over code
    other than ``ORIGINALS``)."""
    if getattr(facts._get_fact, _MARK, False) or not compared():
        return
    original_get_fact = facts._get_fact

    @functools.wraps(original_get_fact)
    def _get_fact(state, host, cls, args=None, kwargs=None, *rest, **more):
        return MEMO.get_fact(original_get_fact, state, host, cls, args, kwargs, *rest, **more)

    def noting(method, reads_status: bool):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                result = method(self, *args, **kwargs)
            except BaseException:
                MEMO.ran(self, None if not reads_status else False)
                raise
            status = result[0] if reads_status and isinstance(result, tuple) else None
            MEMO.ran(self, status)
            return result

        setattr(wrapper, _MARK, True)
        return wrapper

    setattr(_get_fact, _MARK, True)
    facts._get_fact = _get_fact
    Host.run_shell_command = noting(Host.run_shell_command, True)
    Host.put_file = noting(Host.put_file, False)
    Host.rsync = noting(Host.rsync, False)
