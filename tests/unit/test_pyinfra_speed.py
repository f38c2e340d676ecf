"""hastack/pyinfra_speed.py gives pyinfra's own results: the operation order read from the frames
directly, the global arguments read once."""

import sys
from types import SimpleNamespace

import pyinfra
import pytest
from pyinfra.api import arguments, facts, util

from hastack import pyinfra_speed
from hastack.pyinfra_speed import operation


def nested(depth: int, state):
    """Both orders from one line, ``depth`` frames into this file."""
    if depth:
        return nested(depth - 1, state)
    return util.get_operation_order_from_stack(state), pyinfra_speed.order_from_frames(state, sys._getframe())


@pytest.mark.parametrize("deploy_file", [__file__, None, "/nowhere/deploy.py"])
@pytest.mark.parametrize("cli", [True, False])
def test_the_order_is_pyinfras_own(monkeypatch, deploy_file, cli):
    monkeypatch.setattr(pyinfra, "is_cli", cli)
    state = SimpleNamespace(current_deploy_filename=deploy_file, current_op_file_number=7)
    theirs, ours = nested(3, state)
    # this file's frames: the test and nested() 4 times; pytest's before them unless the deploy
    # file is this one; none when it is a file with no frame here
    least = {__file__: 5, None: 10, "/nowhere/deploy.py": 0}[deploy_file] + cli
    assert (ours, len(ours) >= least) == (theirs, True)


def test_install_puts_them_where_operations_and_facts_ask_once(monkeypatch):
    monkeypatch.setattr(operation, "get_operation_order_from_stack", util.get_operation_order_from_stack)
    # pyinfra's own (inventory.py, run by other tests, installs this module's)
    monkeypatch.setattr(arguments, "all_global_arguments", pyinfra_speed.PYINFRA_ALL_GLOBAL_ARGUMENTS)
    monkeypatch.setattr(facts, "all_global_arguments", pyinfra_speed.PYINFRA_ALL_GLOBAL_ARGUMENTS)
    fresh = arguments.all_global_arguments()
    pyinfra_speed.install()
    installed = operation.get_operation_order_from_stack
    pyinfra_speed.install()
    state = SimpleNamespace(current_deploy_filename=__file__, current_op_file_number=3)
    monkeypatch.setattr(pyinfra, "is_cli", True)
    line = sys._getframe().f_lineno + 1
    order = operation.get_operation_order_from_stack(state)
    assert (operation.get_operation_order_from_stack is installed, order) == (True, [3, line])
    assert (arguments.all_global_arguments(), facts.all_global_arguments()) == (fresh, fresh)
    assert len(fresh) > 10 and "_sudo" in dict(fresh)
    # in place, not pyinfra's own
    replaced = (
        installed is not util.get_operation_order_from_stack,
        getattr(installed, "_hastack_speed", False),
        arguments.all_global_arguments is facts.all_global_arguments,
        arguments.all_global_arguments.__module__,
    )
    assert replaced == (True, True, True, "hastack.pyinfra_speed")


def test_the_installed_pyinfra_is_the_code_it_was_compared_with():
    """Else install() leaves pyinfra alone (slower, as correct): compare order_from_frames and the
    arguments' cache with the new pyinfra's code, then update ORIGINALS."""
    assert pyinfra_speed.compared(), {
        name: pyinfra_speed.source_hash(function)
        for name, function in (
            ("get_operation_order_from_stack", util.get_operation_order_from_stack),
            ("all_global_arguments", pyinfra_speed.PYINFRA_ALL_GLOBAL_ARGUMENTS),
        )
    }


def test_a_pyinfra_of_other_code_is_left_alone(monkeypatch):
    monkeypatch.setattr(operation, "get_operation_order_from_stack", util.get_operation_order_from_stack)
    monkeypatch.setattr(arguments, "all_global_arguments", pyinfra_speed.PYINFRA_ALL_GLOBAL_ARGUMENTS)
    monkeypatch.setitem(pyinfra_speed.ORIGINALS, "pyinfra.api.arguments.all_global_arguments", "0" * 16)
    pyinfra_speed.install()
    assert operation.get_operation_order_from_stack is util.get_operation_order_from_stack
