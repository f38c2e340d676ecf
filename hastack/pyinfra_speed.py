"""Two of pyinfra's per-operation steps, made cheap, with the same results.

**The operation order, read from the call stack without inspect.stack().** pyinfra orders
each operation by the line numbers of the deploy code's frames that called it
(``pyinfra.api.util.get_operation_order_from_stack``). It reads them with ``inspect.stack()``,
which also reads each frame's source line and code positions: about 2 ms a call at a deploy's
depth of some 40 frames, paid once per operation per host, so about 1.8 s of the lab's no-op
re-run (5 hosts, about 180 operations each). This reads the same file names and line numbers
straight from the frames (some microseconds) and gives the same list; a unit test compares the
two on one stack.

**The global arguments' names and types, read once.** pyinfra asks ``typing.get_type_hints`` of
its arguments' TypedDict for every operation and every fact (0.16 ms each, about 0.3 s of the
run); they do not change while it runs.

Installed by inventory.py, in pyinfra's process only, and only over the code it was compared
with (``ORIGINALS``: the two functions' source, hashed): a pyinfra whose code differs keeps its
own, and a unit test fails until this module is compared with the new code again.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import sys

import pyinfra
from pyinfra.api import arguments, facts, util

# the module (``pyinfra.api.operation`` as an attribute is the decorator of that name)
operation = importlib.import_module("pyinfra.api.operation")

_MARK = "_hastack_speed"
# pyinfra's own, as this module found it (install() replaces the name in pyinfra's modules; the
# order's function stays in pyinfra.api.util, where operation.py imported it from)
PYINFRA_ALL_GLOBAL_ARGUMENTS = arguments.all_global_arguments
# The sha256 (first 16 hex digits) of the source of the pyinfra functions replaced here, as
# compared (pyinfra 3.10).
ORIGINALS = {
    "pyinfra.api.util.get_operation_order_from_stack": "f4807f61585570e0",
    "pyinfra.api.arguments.all_global_arguments": "f7afbc472d78c5d2",
}


def source_hash(function) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def same_code(found: dict, originals: dict[str, str]) -> bool:
    """Whether each of ``found`` (name -> pyinfra's function or module) has the source hash
    ``originals`` gives it, and no name is missing on either side."""
    try:
        return {name: source_hash(each) for name, each in found.items()} == originals
    except (OSError, TypeError):
        return False


def compared() -> bool:
    """Whether pyinfra's functions are still the code this module was compared with."""
    found = {
        "pyinfra.api.util.get_operation_order_from_stack": util.get_operation_order_from_stack,
        "pyinfra.api.arguments.all_global_arguments": PYINFRA_ALL_GLOBAL_ARGUMENTS,
    }
    return same_code(found, ORIGINALS)


def order_from_frames(state, frame) -> list[int]:
    """pyinfra's list for the stack from ``frame`` outwards: the frames from the first one of
    the current deploy file inwards, outside pyinfra's own folder, as line numbers; first the
    deploy file's operation number when run from the command line."""
    frames = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()
    start = 0
    if state.current_deploy_filename:
        # none of the deploy file's: pyinfra's loop ends on its own frame, which it leaves out
        start = next(
            (
                index
                for index, each in enumerate(frames)
                if each.f_code.co_filename == state.current_deploy_filename
            ),
            len(frames),
        )
    numbers = [state.current_op_file_number] if pyinfra.is_cli else []
    for each in frames[start:]:
        if not each.f_code.co_filename.startswith(util.PYINFRA_INSTALL_DIR):
            numbers.append(each.f_lineno)
    return numbers


def install() -> None:
    """Use ``order_from_frames`` where pyinfra's operations ask for their order, and the global
    arguments read once where operations and facts ask for them (once; never over code other
    than ``ORIGINALS``)."""
    original = operation.get_operation_order_from_stack
    if getattr(original, _MARK, False) or not compared():
        return
    hints = tuple(PYINFRA_ALL_GLOBAL_ARGUMENTS())

    def all_global_arguments() -> list[tuple[str, type]]:
        return list(hints)

    arguments.all_global_arguments = all_global_arguments
    facts.all_global_arguments = all_global_arguments

    @functools.wraps(original)
    def get_operation_order_from_stack(state):
        return order_from_frames(state, sys._getframe(1))

    setattr(get_operation_order_from_stack, _MARK, True)
    operation.get_operation_order_from_stack = get_operation_order_from_stack
