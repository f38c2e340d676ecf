"""What inventory.py reads from pyinfra's command line (it runs inside pyinfra's process):
the group data folders pyinfra will read, and ``--data`` overrides it must refuse.

``--data KEY=VALUE`` beats every host's data in pyinfra, so a hastack data key given there
would reach the deploys past the site file's checks, and ``hastack verify`` would check
another value: it is refused, naming the key and where to set it instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hastack.defaults import DEFAULTS


def option_values(argv: Sequence[str], option: str) -> list[str]:
    """Every value of a long option, given as ``OPTION VALUE`` or ``OPTION=VALUE``."""
    values = []
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == option and index + 1 < len(argv):
            values.append(argv[index + 1])
        elif arg.startswith(f"{option}="):
            values.append(arg[len(option) + 1 :])
    return values


def group_data_folders(argv: Sequence[str], inventory_file: str | Path) -> list[Path]:
    """The folders pyinfra reads group data from, in its order: ``<cwd>/group_data``, the inventory
    file's folder's ``group_data``, each ``--group-data`` (relative to the working folder)."""
    cwd = Path.cwd()
    given = [cwd / folder for folder in option_values(argv, "--group-data")]
    return [cwd / "group_data", Path(inventory_file).parent.resolve() / "group_data", *given]


def refused_data(argv: Sequence[str]) -> list[str]:
    """One message for each ``--data`` that sets a hastack data key or a ``site_*`` key."""
    messages = []
    for item in option_values(argv, "--data"):
        key = item.split("=", 1)[0].strip()
        if key in DEFAULTS:
            messages.append(
                f"--data {item}: {key} is a hastack data key; pyinfra's --data would set it past the site "
                f"file's checks. Fix: set it in the site file (data: for every host, hosts.<name>.data: "
                f"for one) or in group_data/<group>.py (all, proxy, web, client), and run again."
            )
        elif key.startswith("site_"):
            messages.append(
                f"--data {item}: {key} is written by hastack from the site file. Fix: describe it in "
                f"the site file (cluster, networks, vip, hosts), and run again."
            )
    return messages
