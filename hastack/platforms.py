"""What differs between the operating systems hastack serves: the one place it is written.

Deploys ask this module, never compare releases or architectures themselves.
"""

from __future__ import annotations

# Debian's multiarch triplet per kernel architecture (``uname -m``): the folder
# below /usr/lib where Debian and Ubuntu put a package's libraries and plugins.
MULTIARCH = {
    "x86_64": "x86_64-linux-gnu",
    "aarch64": "aarch64-linux-gnu",
    "armv7l": "arm-linux-gnueabihf",
    "i686": "i386-linux-gnu",
    "ppc64le": "powerpc64le-linux-gnu",
    "s390x": "s390x-linux-gnu",
    "riscv64": "riscv64-linux-gnu",
}

# gmond's metric modules (libganglia1's files), by what ``modules`` names them.
GANGLIA_MODULES = {
    "cpu_module": "modcpu.so",
    "disk_module": "moddisk.so",
    "load_module": "modload.so",
    "mem_module": "modmem.so",
    "net_module": "modnet.so",
    "proc_module": "modproc.so",
    "sys_module": "modsys.so",
}


class UnsupportedPlatform(ValueError):
    """This host's OS or architecture is not one hastack knows."""


def ganglia_module_dir(arch: str) -> str:
    """Where libganglia1 puts gmond's metric modules.

    gmond resolves a module path that is not absolute against a folder compiled
    into it, which Debian 12's build leaves as the literal ``${prefix}/lib/...``:
    every module must be named by its absolute path.
    """
    try:
        return f"/usr/lib/{MULTIARCH[arch]}/ganglia"
    except KeyError:
        raise UnsupportedPlatform(
            f"no known library folder for architecture {arch!r} (known: {', '.join(sorted(MULTIARCH))})"
        ) from None


def ganglia_module_paths(arch: str) -> dict[str, str]:
    """gmond's metric modules by name, each with its absolute path."""
    folder = ganglia_module_dir(arch)
    return {name: f"{folder}/{library}" for name, library in GANGLIA_MODULES.items()}
