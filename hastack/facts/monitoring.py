"""Facts for the monitoring layer: patches applied to a package's files, Cacti's devices."""

from __future__ import annotations

import re
import shlex

from pyinfra.api import FactBase


class PatchState(FactBase):
    """Where a tree stands with a unified diff (``patch -p1``).

    ``"applied"``: reversing it would succeed; ``"applicable"``: applying it
    would; ``"absent"``: the tree or the patch file is not there (yet);
    ``"conflict"``: neither, so the tree is not the one the patch was made for.
    """

    def command(self, directory: str, patch: str) -> str:
        tree, diff = shlex.quote(directory), shlex.quote(patch)
        dry = f"patch -d {tree} -p1 --dry-run -s -f"
        return (
            f"if ! [ -d {tree} ] || ! [ -f {diff} ] || ! command -v patch >/dev/null; then echo absent; "
            f"elif {dry} -R < {diff} >/dev/null 2>&1; then echo applied; "
            f"elif {dry} < {diff} >/dev/null 2>&1; then echo applicable; "
            "else echo conflict; fi"
        )

    def process(self, output):
        return output[0].strip() if output else "absent"


class CactiDevices(FactBase):
    """Cacti's enabled devices: description -> address, ``""`` for a device with no graph of a data
    query yet (its SNMP did not answer when it was added: the setup makes them again); empty
    where Cacti has no database yet. Fails when the database exists and cannot be read."""

    default = dict

    def requires_command(self) -> str:
        return "mysql"

    def command(self) -> str:
        return (
            "if [ -d /var/lib/mysql/cacti ]; then mysql -N -B cacti -e '"
            "SELECT h.description, h.hostname, COUNT(g.id) FROM host h LEFT JOIN graph_local g "
            'ON g.host_id = h.id AND g.snmp_query_id > 0 WHERE h.disabled = "" '
            "GROUP BY h.id, h.description, h.hostname'; fi"
        )

    def process(self, output):
        devices = {}
        for line in output:
            parts = line.split("\t")
            if len(parts) == 3:
                devices[parts[0]] = parts[1] if parts[2].strip() != "0" else ""
        return devices


class CactiDiscovery(FactBase):
    """Cacti's enabled automation networks (its own network discovery), as ``name subnet``
    lines: Cacti ships one ("Test Network", 192.168.1.0/24); hastack switches every one off.
    Empty where Cacti has no database yet."""

    default = list

    def requires_command(self) -> str:
        return "mysql"

    def command(self) -> str:
        return (
            "if [ -d /var/lib/mysql/cacti ]; then mysql -N -B cacti -e '"
            'SELECT name, subnet_range FROM automation_networks WHERE enabled <> ""\'; fi'
        )

    def process(self, output):
        return [" ".join(line.split("\t")) for line in output if line.strip()]


class CactiRrdsOfAnotherStep(FactBase):
    """How many data sources of the devices Cacti polls (not disabled) have an RRD step other
    than ``step`` (seconds): the RRDs a changed cacti_poll_minutes makes again. 0 where Cacti
    has no database yet."""

    default = int

    def requires_command(self, step: int) -> str:
        return "mysql"

    def command(self, step: int) -> str:
        return (
            "if [ -d /var/lib/mysql/cacti ]; then mysql -N -B cacti -e '"
            "SELECT COUNT(*) FROM data_template_data dtd JOIN data_local dl ON dl.id = dtd.local_data_id "
            f'JOIN host h ON h.id = dl.host_id WHERE h.disabled = "" AND dtd.rrd_step <> {int(step)} '
            'AND dtd.data_source_path <> ""\'; else echo 0; fi'
        )

    def process(self, output):
        return int(output[0]) if output and output[0].strip().isdigit() else 0


class CactiGraphsOfTemplates(FactBase):
    """How many of Cacti's graphs of a device, device-template links and device links are of
    the graph templates with these hashes (hastack removes those that Cacti polls through
    net-snmp's command-line tools). 0 where Cacti has no database yet."""

    default = int

    def requires_command(self, hashes: tuple[str, ...]) -> str:
        return "mysql"

    def command(self, hashes: tuple[str, ...]) -> str:
        if not all(re.fullmatch(r"[0-9a-f]{32}", value) for value in hashes):
            raise ValueError(f"not Cacti template hashes: {hashes!r}")
        listed = ", ".join(f'"{value}"' for value in hashes)
        return (
            "if [ -d /var/lib/mysql/cacti ]; then mysql -N -B cacti -e '"
            "SELECT (SELECT COUNT(*) FROM graph_local gl JOIN host h ON h.id = gl.host_id "
            "JOIN graph_templates gt ON gt.id = gl.graph_template_id "
            f"WHERE gt.hash IN ({listed})) + (SELECT COUNT(*) FROM host_template_graph htg "
            f"JOIN graph_templates gt ON gt.id = htg.graph_template_id WHERE gt.hash IN ({listed})) "
            "+ (SELECT COUNT(*) FROM host_graph hg "
            f"JOIN graph_templates gt ON gt.id = hg.graph_template_id WHERE gt.hash IN ({listed}))'; "
            "else echo 0; fi"
        )

    def process(self, output):
        return int(output[0]) if output and output[0].strip().isdigit() else 0


class GmetadHosts(FactBase):
    """The hosts gmetad's XML (port ``port``, local only) lists, sorted: gmetad keeps a host it
    has seen until its DMAX (a day) even once the collectors have forgotten it. Empty where
    gmetad does not answer (not installed, or not started yet)."""

    default = list

    def command(self, port: int) -> str:
        return (
            f"timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{int(port)} && cat <&3' 2>/dev/null "
            '| grep -o \'<HOST NAME="[^"]*"\' | sort -u || true'
        )

    def process(self, output):
        return sorted({match.group(1) for line in output if (match := re.search(r'NAME="([^"]*)"', line))})
