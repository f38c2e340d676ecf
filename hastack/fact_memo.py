"""A fact asked again gets its last answer, as long as no command has run on any host since.

pyinfra 3 keeps no fact: each operation asks its own, and one deploy asks the same ones again
and again (on a proxy of the lab, in one run of deploys/all.py: the package list 16 times,
the cluster's configuration 13 times, the folder of a file uploaded 8 times; 50 of its 243
commands). Each is a command on the host, one round trip after the other.

Here an answer is kept until anything else runs on any host: a command of an operation, an
upload, a command of hastack's own code. The next fact asked after that is read again. So the
answers reused are the ones the host would give now, unless something outside the deploy
changed it meanwhile, which a fact read again a moment later could not promise either. Any host,
not only the one asked: a command on one proxy changes what the other's cluster configuration
says, a GlusterFS command on one web host what the other's volume says.

Kept only where the command ran and succeeded (a fact whose command failed is asked again), per
run and per host, and only over the code it was compared with (``ORIGINALS``, as in
hastack/pyinfra_speed.py): a pyinfra whose code differs keeps its own.
"""

from __future__ import annotations

import copy
import functools
import weakref
from typing import Any

from pyinfra.api import facts
from pyinfra.api.host import Host

from hastack.pyinfra_speed import source_hash

_MARK = "_hastack_memo"
# The sha256 (first 16 hex digits) of the source of the pyinfra functions wrapped here, as
# compared (pyinfra 3.10).
ORIGINALS = {
    "pyinfra.api.facts._get_fact": "4bae739f846172aa",
    "pyinfra.api.host.Host.run_shell_command": "7dde2d02831ead60",
    "pyinfra.api.host.Host.put_file": "ac175bdd9e350828",
    "pyinfra.api.host.Host.rsync": "1e2a941ef7928cbc",
}


def _found() -> dict[str, Any]:
    return {
        "pyinfra.api.facts._get_fact": facts._get_fact,
        "pyinfra.api.host.Host.run_shell_command": Host.run_shell_command,
        "pyinfra.api.host.Host.put_file": Host.put_file,
        "pyinfra.api.host.Host.rsync": Host.rsync,
    }


def compared() -> bool:
    """Whether pyinfra's functions are still the code this module was compared with."""
    try:
        found = {
            name: source_hash(getattr(function, "__wrapped__", function))
            for name, function in _found().items()
        }
    except (OSError, TypeError):
        return False
    return found == ORIGINALS


class Memo:
    """The answers of one process's runs: for each run (pyinfra's state), (host, fact, its
    arguments) -> (the number of commands run when it was asked, the answer)."""

    def __init__(self) -> None:
        self.changes = 0
        self.answers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        # host name -> whether its fact's command succeeded (set while a fact is asked there)
        self.asking: dict[str, list[bool]] = {}

    def get_fact(self, original, state, host, cls, args=None, kwargs=None, *rest, **more):
        try:
            key = (host.name, cls, repr(args), repr(sorted((kwargs or {}).items())))
            answers = self.answers.setdefault(state, {})
            hash(key)
        except TypeError:
            return original(state, host, cls, args, kwargs, *rest, **more)
        changes = self.changes
        if key in answers and answers[key][0] == changes:
            return copy.deepcopy(answers[key][1])
        statuses: list[bool] = []
        self.asking[host.name] = statuses
        try:
            answer = original(state, host, cls, args, kwargs, *rest, **more)
        finally:
            self.asking.pop(host.name, None)
        # one command, run and succeeded; nothing else ran meanwhile (another host's command)
        if statuses == [True] and self.changes == changes:
            answers[key] = (changes, copy.deepcopy(answer))
        return answer

    def ran(self, host, status: bool | None) -> None:
        """Something ran on ``host``: a fact's command (its status noted), else a change."""
        statuses = self.asking.get(host.name)
        if statuses is not None and status is not None:
            statuses.append(bool(status))
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
