"""Monitoring switched off, then on: a fresh lab's first deploy has it off (see the plugin's
``deployed`` fixture)."""

import pytest


@pytest.mark.lab
def test_monitoring_off_installs_nothing_and_switches_on_later(site, lab_mode, monitoring_off):
    """The session's first deploy had monitoring off; the tests above ran after it was switched on."""
    if not lab_mode:
        pytest.fail("this test deploys, so it runs against the lab only (unset HASTACK_SITE)")
    assert monitoring_off is not None, (
        "the lab had monitoring before this test session, so switching it on later could not be "
        "checked: run `.venv/bin/hastack lab down` and the tests again"
    )
    assert monitoring_off == {name: [] for name in site.hosts}
