"""Group data files, read as pyinfra reads them: ``group_data/all.py`` and one per role.

pyinfra (v3) looks for group data in ``<cwd>/group_data``, then in the inventory file's folder's
``group_data``, then in each ``--group-data`` folder, a later folder's value winning; it runs each
``.py`` file and keeps its module-level names, less dunders and imported names (or ``__all__``).
hastack reads the same files the same way, so that their values are checked with the site file
and given to every host as host data (which beats pyinfra's group data): the deploys,
``hastack verify`` and the checks see one value. Only hastack's groups are files there: all,
proxy, web, client.
"""

from __future__ import annotations

import ast
import os
import types
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hastack.defaults import ROOT
from hastack.site.model import GROUPS, GroupFile, Problem


@dataclass(frozen=True)
class GroupData:
    """What the group data folders hold: each group file's names (not checked yet), in the order
    read, and what could not be read."""

    files: tuple[GroupFile, ...] = ()
    problems: tuple[Problem, ...] = ()
    folders: tuple[str, ...] = ()


def default_folders() -> list[Path]:
    """Where pyinfra looks when it runs ``inventory.py`` from this checkout: the working folder's
    group_data, then the checkout's."""
    return [Path.cwd() / "group_data", ROOT / "group_data"]


def shown(path: Path) -> str:
    """A path as problems name it: relative to the working folder when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def unique(folders: Iterable[str | Path]) -> list[Path]:
    """The folders in order, each once, at its last place: pyinfra reads a folder given twice twice,
    so its values win from the later place."""
    paths = [Path.cwd() / Path(folder).expanduser() for folder in folders]
    resolved = [os.path.realpath(path) for path in paths]
    return [path for index, path in enumerate(paths) if resolved[index] not in resolved[index + 1 :]]


def _imported_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {alias.asname or alias.name for alias in node.names if alias.name != "*"}
    return names


def read_file(path: Path) -> dict[str, Any]:
    """A group data file's names, as pyinfra keeps them (its single-underscore names too: pyinfra
    takes ``_sudo`` and the like as operation arguments, so the checks must see them)."""
    text = path.read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__file__": str(path)}
    exec(compile(text, str(path), "exec"), namespace)  # as pyinfra does (pyinfra_cli.util.exec_file)
    if "__all__" in namespace:
        keep = set(namespace["__all__"])
    else:
        keep = set(namespace) - _imported_names(ast.parse(text))
    return {
        name: value
        for name, value in namespace.items()
        if name in keep and not name.startswith("__") and not isinstance(value, types.ModuleType)
    }


def read_group_data(folders: Iterable[str | Path] | None = None) -> GroupData:
    """The group data files in ``folders`` (default: ``default_folders()``), lowest first.
    A missing folder holds none; a file that is not a group, or does not run, is a problem."""
    found = unique(default_folders() if folders is None else folders)
    files: list[GroupFile] = []
    problems: list[Problem] = []
    for folder in found:
        if folder.is_file():
            candidates = [folder]
        elif folder.is_dir():
            candidates = sorted(entry for entry in folder.iterdir() if not entry.name.startswith("."))
        else:
            continue
        for path in candidates:
            if path.is_dir():
                continue
            if path.suffix != ".py" or path.stem not in GROUPS:
                problems.append(
                    Problem(
                        shown(path),
                        f"{path.name} is not a group of hastack's group data",
                        f"the groups are {', '.join(GROUPS)}: name it group_data/<group>.py, "
                        "or move it out of the folder",
                    )
                )
                continue
            try:
                values = read_file(path)
            except SyntaxError as error:
                problems.append(
                    Problem(
                        shown(path),
                        f"Python syntax error at line {error.lineno}: {error.msg}",
                        "correct the Python at that line",
                    )
                )
                continue
            except Exception as error:  # the file is the person's: any error is told
                problems.append(
                    Problem(
                        shown(path),
                        f"running it failed: {type(error).__name__}: {error}",
                        "make the file run on its own (python3 FILE): plain assignments like web_port = 8081",
                    )
                )
                continue
            files.append(GroupFile(path.stem, shown(path), values))
    return GroupData(tuple(files), tuple(problems), tuple(str(folder) for folder in found))
