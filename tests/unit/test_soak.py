"""Reading what the soak looks at: fail counts, Corosync's ring id, ab's totals; its verdict."""

import pytest

from hastack.soak import MARK, Phase, ab_totals, failcounts, ring_id


def test_ring_id_from_quorumtool(fixtures):
    assert ring_id((fixtures / "corosync_quorumtool_s.txt").read_text()) == "1.17"


def test_no_ring_id_is_an_error():
    with pytest.raises(ValueError, match="no ring id"):
        ring_id("Cannot initialize QUORUM service")


def test_fail_counts_by_node_from_the_cib_status(fixtures):
    """A real status section (haproxy killed once on proxy1): the count, by node and operation."""
    assert failcounts((fixtures / "cib_status_failcount.xml").read_text()) == {
        "proxy1 haproxy#monitor_1000": 1
    }


def test_ab_totals_add_every_run_and_count_a_run_without_figures_as_failed(fixtures):
    seed = (fixtures / "ab_seed_c30.txt").read_text()
    output = f"{MARK}\n{seed}\n{MARK}\n{seed}\n{MARK}\napr_socket_connect(): Connection refused (111)\n"
    # The seed's run: 32000 complete, every one a non-2xx (its shop answered 301).
    assert ab_totals(output) == (64000, 64001)


@pytest.mark.parametrize(
    "holders, gained, ring_after, held",
    [
        (["proxy1", "proxy1", "proxy1"], {}, "1.17", True),
        (["proxy1", "proxy2", "proxy2"], {}, "1.17", False),
        (["proxy1", "", "proxy1"], {}, "1.17", False),
        (["proxy1", "proxy1"], {"proxy1 haproxy#monitor_1000": 1}, "1.17", False),
        # shown in the table, not failed: nothing moved (see hastack/soak.py)
        (["proxy1", "proxy1"], {}, "1.1b", True),
    ],
)
def test_a_phase_holds_only_without_a_vip_move_or_a_fail_count(holders, gained, ring_after, held):
    phase = Phase("soak", 10, 100, 0, holders, gained, "1.17", ring_after)
    assert (phase.held, "| yes |" in phase.row()) == (held, held)


def test_a_phase_with_a_failed_request_does_not_hold():
    assert Phase("soak", 10, 100, 1, ["proxy1"], {}, "1.17", "1.17").held is False
