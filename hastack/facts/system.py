"""Facts about the host's operating system: which one it is, whether apt is free, whether a
directory is there."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase

from hastack.neighbours import UNATTENDED_CONF
from hastack.platforms import parse_os_release

# The units that run apt on their own on a freshly booted Debian or Ubuntu host (oneshot
# units: "activating" while they run). cloud-init is asked itself.
APT_UNITS = ("apt-daily.service", "apt-daily-upgrade.service")


class OsRelease(FactBase):
    """/etc/os-release as a dict (ID, VERSION_ID, PRETTY_NAME...). Fails when the file is missing:
    hastack refuses a host it cannot name."""

    def command(self) -> str:
        return "cat /etc/os-release"

    def process(self, output):
        return parse_os_release("\n".join(output))


class AptComponents(FactBase):
    """The apt sources' suites and components ("trixie main"), from apt's configuration (what
    `apt-get update` would fetch): sources.list, .list and .sources. Every configured source
    (``--no-release-info``: also those whose lists were never fetched, which apt otherwise leaves
    out), and those fetched again with their Release file's codename, so that a source named by
    its alias ("stable") counts under its codename too (apt leaves an unknown field as written:
    "$(CODENAME)")."""

    default = list

    def command(self) -> str:
        fields = "--format '$(RELEASE) $(CODENAME) $(COMPONENT)' 'Identifier: Packages'"
        return f"apt-get indextargets --no-release-info {fields}; apt-get indextargets {fields}"

    def process(self, output):
        return apt_components(output)


def apt_components(lines) -> list[str]:
    """AptComponents' lines ("release codename component") as "suite component" entries."""
    found = set()
    for line in lines:
        fields = line.split()
        if len(fields) != 3:
            continue
        release, codename, component = fields
        found.add(f"{release} {component}")
        if not codename.startswith("$("):
            found.add(f"{codename} {component}")
    return sorted(found)


class AptBusyAfterWait(FactBase):
    """Wait, up to ``seconds``, while a job that runs apt on its own is at work (a freshly
    booted host's apt-daily, apt-daily-upgrade which runs unattended-upgrades, cloud-init);
    then the jobs still busy (an empty list: apt is free)."""

    default = list

    def command(self, seconds: int) -> str:
        return (
            "busy() { for u in " + " ".join(APT_UNITS) + "; do "
            'case "$(systemctl show -p ActiveState --value "$u" 2>/dev/null)" in '
            'activating|active|deactivating|reloading) printf " %s" "$u";; esac; done; '
            "if command -v cloud-init >/dev/null && "
            "cloud-init status 2>/dev/null | grep -q 'status: running'; "
            'then printf " cloud-init"; fi; }; '
            f"end=$(( $(date +%s) + {int(seconds)} )); "
            'while b=$(busy); [ -n "$b" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 2; done; '
            'echo "busy:$(busy)"'
        )

    def process(self, output):
        line = next((line for line in output if line.startswith("busy:")), None)
        if line is None:
            raise ValueError(f"unexpected output: {output!r}")
        return line[len("busy:") :].split()


class HostIdentities(FactBase):
    """What must differ between two hosts, and is the same on hosts cloned from one machine:
    /etc/machine-id, the SSH host keys, glusterd's UUID ("" where there is none yet).

    .. code:: python

        {"machine-id": "e223a40...", "SSH host key": "AAAAC3Nza...", "glusterd UUID": "50066b38-..."}
    """

    default = dict

    def command(self) -> str:
        return (
            'echo "machine-id=$(cat /etc/machine-id 2>/dev/null)"; '
            'echo "SSH host key=$(cat /etc/ssh/ssh_host_*_key.pub 2>/dev/null '
            "| awk '{print $2}' | sort | head -1)\"; "
            "echo \"glusterd UUID=$(sed -n 's/^UUID=//p' /var/lib/glusterd/glusterd.info 2>/dev/null)\""
        )

    def process(self, output):
        pairs = (line.split("=", 1) for line in output if "=" in line)
        return {key: value.strip() for key, value in pairs}


class IsDirectory(FactBase):
    """Whether ``path`` is a directory, without reading its times: the root of a mounted
    GlusterFS volume can carry times out of range (seen after an add-brick), which pyinfra's
    own Directory fact fails to parse."""

    default = bool

    def command(self, path: str) -> str:
        quoted = shlex.quote(path)
        return f"if [ -d {quoted} ]; then echo yes; else echo no; fi"

    def process(self, output):
        return output[-1].strip() == "yes"


class OnRootFilesystem(FactBase):
    """Whether ``path`` (or, where it does not exist yet, the nearest folder above it that does)
    is on the root filesystem (the device of ``/``), where GlusterFS refuses a brick unless
    forced, which hastack never does."""

    default = bool

    def command(self, path: str) -> str:
        quoted = shlex.quote(path)
        return (
            f'p={quoted}; while [ ! -e "$p" ]; do p=$(dirname "$p"); done; '
            'if [ "$(stat -c %d "$p")" = "$(stat -c %d /)" ]; then echo yes; else echo no; fi'
        )

    def process(self, output):
        return output[-1].strip() == "yes"


def each_installed(packages: tuple[str, ...], then: str) -> str:
    """A shell loop that runs ``then`` for each of ``packages`` installed (``$p``: its name)."""
    names = " ".join(shlex.quote(name) for name in packages)
    return (
        f"for p in {names}; do "
        "dpkg-query -W -f='${Status}' \"$p\" 2>/dev/null | grep -q 'ok installed' || continue; "
        f"{then}; done; "
    )


class HostNeighbours(FactBase):
    """What else on a host would fight the cluster: the Debian packages of interest that are
    installed, whether ufw is enabled (now or at boot), and whether unattended-upgrades runs
    (installed, and apt's ``APT::Periodic::Unattended-Upgrade`` not 0).

    .. code:: python

        {"packages": ["docker-ce"], "ufw": False, "unattended_upgrades": True}
    """

    @staticmethod
    def default():
        # no output at all (nothing found): pyinfra gives the default
        return {"packages": [], "ufw": False, "unattended_upgrades": False}

    def command(self, packages: tuple[str, ...]) -> str:
        return (
            each_installed(packages, 'echo "package $p"')
            + "if grep -qis '^ENABLED=yes' /etc/ufw/ufw.conf || "
            "(command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q 'Status: active'); "
            "then echo 'ufw enabled'; fi; "
            "if dpkg-query -W -f='${Status}' unattended-upgrades 2>/dev/null | grep -q 'ok installed'; then "
            # apt's setting without hastack's own policy file: what it is when the site names none
            "d=$(mktemp -d); for f in /etc/apt/apt.conf.d/*; do "
            f'[ "$f" = {UNATTENDED_CONF} ] || ln -s "$f" "$d/"; done; '
            # (the parts folder is set in a file of APT_CONFIG: apt reads the parts before any -o)
            'printf \'Dir::Etc::Parts "%s";\\n\' "$d" > "$d.conf"; '
            'eval "$(APT_CONFIG=$d.conf apt-config shell PERIODIC APT::Periodic::Unattended-Upgrade)"; '
            'rm -rf "$d" "$d.conf"; '
            "[ \"${PERIODIC:-0}\" != 0 ] && echo 'unattended-upgrades enabled'; fi; true"
        )

    def process(self, output):
        lines = [line.strip() for line in output]
        return {
            "packages": [line.split(" ", 1)[1] for line in lines if line.startswith("package ")],
            "ufw": "ufw enabled" in lines,
            "unattended_upgrades": "unattended-upgrades enabled" in lines,
        }


class MailServers(FactBase):
    """The mail servers of ``packages`` that are installed, each with whether a person chose it
    (``manual``) or apt brought it in for another package (``auto``: mdadm's recommended exim4).

    .. code:: python

        {"exim4-base": "auto"}
    """

    default = dict

    def command(self, packages: tuple[str, ...]) -> str:
        names = " ".join(shlex.quote(name) for name in packages)
        return (
            f"auto=$(apt-mark showauto {names} 2>/dev/null); "
            + each_installed(
                packages,
                'if printf "%s\\n" "$auto" | grep -qx "$p"; then echo "$p auto"; else echo "$p manual"; fi',
            )
            + "true"
        )

    def process(self, output):
        return dict(line.split() for line in output if len(line.split()) == 2)


class ResticRepository(FactBase):
    """Whether the site's backup repository answers to this host (``restic cat config``, no
    lock): "ready", "missing" (no repository, or it cannot be reached), "absent" (hastack's
    restic wrapper is not on the host yet)."""

    def command(self, wrapper: str) -> str:
        wrapper = shlex.quote(wrapper)
        return (
            f"if ! test -x {wrapper}; then echo absent; "
            f"elif {wrapper} --no-lock cat config >/dev/null 2>&1; then echo ready; else echo missing; fi"
        )

    def process(self, output):
        return output[0].strip() if output else "absent"
