"""Reading a site file: YAML that refuses duplicate keys, the checks in order, the model made.

``load_site`` reads a file and the group data files beside it (hastack.site.group_data),
``parse_site`` text; both raise SiteError listing every problem. ``dump_site`` writes a
document (``Site.document``) back as a site file, validated.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from hastack import cross_rules
from hastack.site.group_data import GroupData, read_group_data
from hastack.site.model import CLUSTER_RE, REQUIRED_TOP_KEYS, TOP_KEYS, Layers, Problem, Site, SiteError
from hastack.site.validation import Checker, check_group_files, check_hosts, check_networks, check_ssh


def dump_site(document: dict[str, Any], header: str = "", group_data: GroupData | None = None) -> str:
    """A site file's text from a document (``Site.document``), validated before it is given
    (with ``group_data`` when given: the group data it will be loaded with)."""
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    text = comment + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=110)
    parse_site(text, "<dumped site>", group_data)
    return text


class _Loader(yaml.SafeLoader):
    """A YAML loader that records duplicate mapping keys instead of dropping them."""

    duplicates: list[tuple[str, int]]


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            loader.duplicates.append((str(key), key_node.start_mark.line + 1))
        seen.add(key)
    return loader.construct_mapping(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_site(text: str, source: str = "<site>", group_data: GroupData | None = None) -> Site:
    """Parse and validate site file text, with the group data files read for it (None: none);
    raise SiteError listing every problem, the group data files' too."""
    group_data = group_data or GroupData()
    loader = _Loader(text)
    loader.duplicates = []
    try:
        raw = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        problem = Problem(
            "(file)",
            f"YAML syntax error at {where}: {error.problem or error.context}",
            "correct the YAML at that line (indentation, quotes, colons)",
        )
        raise SiteError(source, [problem, *group_data.problems]) from None
    finally:
        loader.dispose()

    check = Checker()
    for key, line in loader.duplicates:
        check.add(f"(line {line})", f"key {key!r} is given twice", "keep one entry per key or host name")
    if raw is None:
        raw = {}
    top = check.mapping(raw, "(top level)")
    if top is None:
        raise SiteError(source, [*check.problems, *group_data.problems])

    check.unknown_keys(top, TOP_KEYS, "")
    for key in REQUIRED_TOP_KEYS:
        if key not in top:
            check.add(key, "required key is missing", f"add '{key}:' (see site.yaml for an example)")

    cluster = str(top.get("cluster", ""))
    if "cluster" in top and not CLUSTER_RE.match(cluster):
        check.add(
            "cluster",
            f"{cluster!r} is not a valid cluster name",
            "use 1-32 characters of a-z, 0-9 and '-', not starting or ending with '-'",
        )

    networks = check_networks(check, top.get("networks"))
    vip = check.address(top["vip"], "vip") if "vip" in top else None
    ssh = check_ssh(check, top.get("ssh", {}))
    site_data = check.data(top.get("data", {}), "data")
    check.problems.extend(group_data.problems)
    group_files = check_group_files(check, group_data.files)
    hosts = check_hosts(check, top.get("hosts"), networks)
    layers = Layers(site_data, group_files, hosts)
    cross_rules.check_cluster_shape(check, hosts, networks, vip)
    cross_rules.check_cluster_wide(check, layers, hosts)
    cross_rules.check_host_only(check, layers)
    cross_rules.check_arbiter(check, layers, hosts)
    quorum_warnings = cross_rules.check_quorum_device(check, layers, hosts)
    cross_rules.check_agreement(check, layers, hosts, ssh)
    if CLUSTER_RE.match(cluster):
        cross_rules.check_fence_secrets(check, layers, hosts, cluster)
    warnings = quorum_warnings + cross_rules.token_warnings(layers, hosts)
    warnings += cross_rules.gluster_warnings(layers, hosts)
    warnings += cross_rules.ping_warnings(layers, hosts)
    warnings += cross_rules.check_tls(check, layers, hosts)
    warnings += cross_rules.check_alerts(check, layers, hosts)
    warnings += cross_rules.check_backup(check, layers, hosts)
    warnings += cross_rules.disk_name_warnings(hosts)
    warnings += cross_rules.check_gateways(check, layers, hosts, networks, vip)
    cross_rules.check_routes(check, layers, hosts, networks, vip)

    lab = top.get("lab", False)
    lab_debian = None
    if isinstance(lab, dict) and set(lab) == {"debian"} and isinstance(lab["debian"], int):
        lab_debian = lab["debian"]
    elif not isinstance(lab, bool):
        check.add(
            "lab", f"expected true or {{debian: N}}, got {lab!r}", "leave it out: `hastack lab up` writes it"
        )
    if check.problems:
        raise SiteError(source, check.problems)
    assert vip is not None
    return Site(
        source,
        cluster,
        networks,
        vip,
        ssh,
        hosts,
        site_data,
        lab is not False,
        lab_debian,
        tuple(warnings),
        group_files,
    )


def load_site(path: str | Path, group_data_dirs: Iterable[str | Path] | None = None) -> Site:
    """Read and validate a site file with the group data files in ``group_data_dirs``, lowest
    first (None: ``<cwd>/group_data``, then the checkout's, as pyinfra reads them for
    ``inventory.py``); raise SiteError on any problem."""
    source = str(path)
    group_data = read_group_data(group_data_dirs)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        problem = Problem(
            "(file)",
            f"cannot read the site file: {error.strerror}",
            "give the path of a site file, or set HASTACK_SITE",
        )
        raise SiteError(source, [problem, *group_data.problems]) from None
    return parse_site(text, source, group_data)


def load_site_or_exit(path: str | Path, group_data_dirs: Iterable[str | Path] | None = None) -> Site:
    """For entry points: load the site, or print every problem and exit 2."""
    try:
        return load_site(path, group_data_dirs)
    except SiteError as error:
        print(error.report(), file=sys.stderr)
        raise SystemExit(2) from None
