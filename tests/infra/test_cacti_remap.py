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
Cacti runs after the poll), with every graph at its interface's new index."""

import time

import pytest

from hastack.checks.test_monitoring import cacti_config, stale_indexes
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
    name = site.hosts_in("web")[-1].name
    proxies = {proxy.name: connect(proxy.name) for proxy in site.hosts_in("proxy")}
    interval = cacti_config(next(iter(proxies.values())))[0]
    before = {proxy: graphs_of(remote, name) for proxy, remote in proxies.items()}
    assert all(before.values()), f"Cacti has no interface graphs of {name}: {before}"
    remote = connect(name)
    try:
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
        assert any(graph[1] != moved[graph[0]] for graphs in polled.values() for graph in graphs.values()), (
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
            if all(
                graph[1] == moved[graph[0]] and graph[2].endswith(f".{moved[graph[0]]}")
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
        ) == (
            {
                proxy: {
                    graph[0]: (moved[graph[0]], polled_oid(graph[2], moved[graph[0]]))
                    for graph in graphs.values()
                }
                for proxy, graphs in after.items()
            },
            {proxy: [] for proxy in proxies},
            True,
        )
    finally:
        remote = connect(name, fresh=True)
        remote.run(f"[ ! -e {KEPT} ] || {{ mv {KEPT} {SNMPD_CONF} && systemctl restart snmpd; }}")


def remapper_lines(proxy, name: str) -> list[str]:
    """The remapper's lines about ``name`` in this proxy's Cacti log."""
    return proxy.run(
        f"grep -a 'REINDEX hastack: Device\\[[0-9]*\\] ({name})' {CACTI_LOG}"
    ).stdout.splitlines()


def polled_oid(oid: str, index: str) -> str:
    """The OID with the index it should carry (the poller's item of the data source)."""
    return oid.rsplit(".", 1)[0] + f".{index}"
