"""Cacti's graphs follow a restarted host's interfaces, with no step by hand (issue #26, item 7).

A restarted host's interfaces get new indexes (a lab container's, at each start). Cacti
notices the restart from the uptime and walks the interface table again. A host that is still
busy can answer the walk of ifIndex and time out on ifName, ifDescr and ifHwAddr. Cacti then
takes ifIndex as the sort field and cannot place the graphs, which are indexed by ifName: it
keeps polling the old indexes, and the traffic stays unknown until the host's snmpd restarts.
That happened in CI after the drills' reboots.

The test reproduces it on a real restart: the host's snmpd hides those three columns, and the
host restarts. Then snmpd shows them again, and Cacti's own uptime trigger is held back, as on a
host that answered normally again without restarting its snmpd. hastack's remapper, run before
each poll, must have the device indexed again within two polls (it queues the reindex, which
Cacti runs after the poll), with every graph at its interface's new index.

Cacti can also re-key data sources by ifIndex (a walk that timed out on most names but not all,
in CI once): keyed by an ifIndex, a data source loses its interface at the host's next restart.
So before the restart, one proxy's Cacti has the host's data sources keyed by their ifIndex (as
Cacti leaves them): hastack's remapper must put back the names it kept. And another host's,
keyed by ifIndex with no name kept and ifIndex as its sort field, must be keyed again by the
name Cacti's cache gives their interface, and the device indexed again."""

import time

import pytest

from hastack.checks.test_monitoring import cacti_config, stale_indexes
from hastack.components.monitoring import CACTI_INTERFACES_QUERY, CACTI_KEY_SETTING
from tests.harness import restart_lab_host

pytestmark = [pytest.mark.lab]

SNMPD_CONF = "/etc/snmp/snmpd.conf"
KEPT = "/root/snmpd.conf.hastack-test"
# ifName, ifDescr, ifPhysAddress: the sort fields Cacti tries before ifIndex.
HIDDEN = (".1.3.6.1.2.1.31.1.1.1", ".1.3.6.1.2.1.2.2.1.2", ".1.3.6.1.2.1.2.2.1.6")
CACTI_LOG = "/var/log/cacti/cacti.log"


def hide_columns(remote) -> None:
    views = "\\n".join(
        ["view hastacktest included .1", *(f"view hastacktest excluded {oid}" for oid in HIDDEN)]
    )
    remote.check_output(
        f"cp -p {SNMPD_CONF} {KEPT} && "
        f"sed -i 's/^\\(rouser .*\\)$/{views}\\n\\1 -V hastacktest/' {SNMPD_CONF} "
        f"&& grep -q '^rouser .* -V hastacktest$' {SNMPD_CONF}"
    )


def graphs_of(proxy, device: str) -> dict[str, tuple[str, str, str]]:
    """The device's interface data sources in this proxy's Cacti: id -> (interface, index, polled OID)."""
    out = proxy.check_output(
        'mysql -N -B cacti -e "SELECT dl.id, iv.value, dl.snmp_index, '
        "(SELECT MIN(pi.arg1) FROM poller_item pi WHERE pi.local_data_id = dl.id) "
        "FROM data_local dl JOIN host h ON h.id = dl.host_id "
        "JOIN data_template_data dtd ON dtd.local_data_id = dl.id "
        "JOIN data_input_fields fv ON fv.data_input_id = dtd.data_input_id AND fv.data_name = 'index_value' "
        "JOIN data_input_data iv ON iv.data_template_data_id = dtd.id AND iv.data_input_field_id = fv.id "
        f"WHERE h.description = '{device}' AND dl.snmp_query_id > 0\""
    )
    return {row[0]: tuple(row[1:]) for row in (line.split("\t") for line in out.splitlines() if line)}


def indexes(remote, names) -> dict[str, str]:
    return {name: remote.check_output(f"cat /sys/class/net/{name}/ifindex") for name in names}


def test_a_restarted_hosts_graphs_follow_its_new_interface_indexes(site, lab_mode, connect):
    if not lab_mode:
        pytest.fail(
            "this test restarts a web host and edits its snmpd.conf: the lab only (unset HASTACK_SITE)"
        )
    name, other = site.hosts_in("web")[-1].name, site.hosts_in("web")[0].name
    proxies = {proxy.name: connect(proxy.name) for proxy in site.hosts_in("proxy")}
    first, rekeyed = next(iter(proxies.items()))
    interval = cacti_config(rekeyed)[0]
    before = {proxy: graphs_of(remote, name) for proxy, remote in proxies.items()}
    assert all(before.values()), f"Cacti has no interface graphs of {name}: {before}"
    others = graphs_of(rekeyed, other)
    # The remapper keeps every data source's key (it runs before each poll).
    deadline = time.monotonic() + interval + 60
    while not set(kept_keys(rekeyed)) >= set(before[first]) | set(others) and time.monotonic() < deadline:
        time.sleep(5)
    assert set(kept_keys(rekeyed)) >= set(before[first]) | set(others), (
        f"the remapper kept no key of some data sources of {name} and {other}: {kept_keys(rekeyed)}"
    )
    remote = connect(name)
    try:
        key_by_ifindex(rekeyed, name)
        key_by_ifindex(rekeyed, other, forget=True)
        hide_columns(remote)
        remote = restart_lab_host(connect, name, ready="systemctl is-active snmpd")
        moved = indexes(remote, {graph[0] for graph in next(iter(before.values())).values()})
        # The first poll after the restart indexes the device again, and ifIndex becomes its sort field.
        deadline = time.monotonic() + 3 * interval + 60
        while time.monotonic() < deadline:
            stale = {
                proxy: [row for row in stale_indexes(p) if f" | {name} | " in row]
                for proxy, p in proxies.items()
            }
            if all(stale.values()):
                break
            time.sleep(10)
        assert all(stale.values()), (
            f"the restart with ifName, ifDescr and ifHwAddr hidden left no stale graph of {name}: the "
            f"test no longer reproduces the failure: {stale}; its graphs now: "
            f"{ {proxy: graphs_of(p, name) for proxy, p in proxies.items()} }"
        )
        polled = {proxy: graphs_of(p, name) for proxy, p in proxies.items()}
        assert any(graph[1] != moved.get(graph[0]) for g in polled.values() for graph in g.values()), (
            f"the restart gave {name}'s interfaces no new index ({moved}): nothing to follow"
        )

        # snmpd shows every column again, between two polls. Cacti's own trigger (the uptime gone back)
        # is held back by hand: the remapper alone must do it.
        while not 15 <= time.time() % interval <= interval - 20:
            time.sleep(1)
        # The remapper's back-off starts again too (it may have tried while the columns were hidden).
        for p in proxies.values():
            p.check_output(
                'mysql cacti -e "UPDATE poller_reindex pr JOIN host h ON h.id = pr.host_id '
                f"SET pr.assert_value = 0 WHERE h.description = '{name}'; "
                "DELETE FROM settings WHERE name LIKE 'hastack_remap_%'\""
            )
        queued = {proxy: remapper_lines(p, name) for proxy, p in proxies.items()}
        remote.check_output(f"mv {KEPT} {SNMPD_CONF} && systemctl restart snmpd")
        restored = time.time()

        deadline = time.monotonic() + 2 * interval + 30
        while time.monotonic() < deadline:
            after = {proxy: graphs_of(p, name) for proxy, p in proxies.items()}
            if graphs_of(rekeyed, other) == others and all(
                graph[1] == moved.get(graph[0]) and graph[2].endswith(f".{moved.get(graph[0])}")
                for graphs in after.values()
                for graph in graphs.values()
            ):
                break
            time.sleep(5)
        # The remapper queued the reindex that did it (its log lines since snmpd answered).
        said = {proxy: remapper_lines(p, name)[len(queued[proxy]) :] for proxy, p in proxies.items()}
        print(
            f"\n{name}'s interfaces {moved}; followed {time.time() - restored:.0f} s "
            f"after snmpd answered; {said}"
        )
        assert (
            {proxy: {graph[0]: graph[1:] for graph in graphs.values()} for proxy, graphs in after.items()},
            {
                proxy: [row for row in stale_indexes(p) if f" | {name} | " in row]
                for proxy, p in proxies.items()
            },
            all(said.values()),
            graphs_of(rekeyed, other),
        ) == (
            {
                proxy: {
                    graph[0]: (moved[graph[0]], polled_oid(graph[2], moved[graph[0]]))
                    for graph in graphs.values()
                }
                for proxy, graphs in before.items()
            },
            {proxy: [] for proxy in proxies},
            True,
            others,
        )
    finally:
        remote = connect(name, fresh=True)
        remote.run(f"[ ! -e {KEPT} ] || {{ mv {KEPT} {SNMPD_CONF} && systemctl restart snmpd; }}")


def kept_keys(proxy) -> dict[str, str]:
    """The remapper's kept keys in this proxy's Cacti: data source id -> "type=value"."""
    out = proxy.check_output(
        'mysql -N -B cacti -e "SELECT name, value FROM settings '
        f"WHERE SUBSTRING(name, 1, {len(CACTI_KEY_SETTING)}) = '{CACTI_KEY_SETTING}'\""
    )
    return {
        row[0][len(CACTI_KEY_SETTING) :]: row[1]
        for row in (line.split("\t") for line in out.splitlines() if line)
    }


def key_by_ifindex(proxy, device: str, forget: bool = False) -> None:
    """What Cacti leaves after a walk that timed out on most names: the device's interface data
    sources keyed by their ifIndex, and ifIndex as its sort field. With ``forget``, the remapper's
    kept keys of them are gone too."""
    sql = (
        "UPDATE data_input_data did "
        "JOIN data_template_data dtd ON dtd.id = did.data_template_data_id "
        "JOIN data_local dl ON dl.id = dtd.local_data_id "
        "JOIN data_input_fields f ON f.id = did.data_input_field_id "
        f"JOIN host h ON h.id = dl.host_id AND h.description = '{device}' "
        f"JOIN snmp_query sq ON sq.id = dl.snmp_query_id AND sq.hash = '{CACTI_INTERFACES_QUERY}' "
        "SET did.value = IF(f.data_name = 'index_type', 'ifIndex', dl.snmp_index) "
        "WHERE f.data_name IN ('index_type', 'index_value'); "
        "UPDATE host_snmp_query hsq JOIN host h ON h.id = hsq.host_id "
        f"JOIN snmp_query sq ON sq.id = hsq.snmp_query_id AND sq.hash = '{CACTI_INTERFACES_QUERY}' "
        f"SET hsq.sort_field = 'ifIndex' WHERE h.description = '{device}';"
    )
    if forget:
        sql += (
            f"DELETE s FROM settings s JOIN data_local dl ON s.name = CONCAT('{CACTI_KEY_SETTING}', dl.id) "
            f"JOIN host h ON h.id = dl.host_id AND h.description = '{device}';"
        )
    proxy.check_output(f'mysql cacti -e "{sql}"')


def remapper_lines(proxy, name: str) -> list[str]:
    """The remapper's lines about ``name`` in this proxy's Cacti log."""
    return proxy.run(
        f"grep -a 'REINDEX hastack: Device\\[[0-9]*\\] ({name})' {CACTI_LOG}"
    ).stdout.splitlines()


def polled_oid(oid: str, index: str) -> str:
    """The OID with the index it should carry (the poller's item of the data source)."""
    return oid.rsplit(".", 1)[0] + f".{index}"
