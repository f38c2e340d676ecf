"""The second run of every deploy changes nothing."""

import pytest

from hastack import lab
from hastack.deploying import run_deploy

ENTRIES = ["deploys/all.py", "deploys/proxy.py", "deploys/web.py", "deploys/client.py"]


@pytest.mark.lab
@pytest.mark.parametrize("entry", ENTRIES)
def test_second_run_changes_nothing(deployed, lab_mode, entry):
    if not lab_mode:
        pytest.fail("the idempotence test deploys, so it runs against the lab only (unset HASTACK_SITE)")
    run = run_deploy(lab.SITE_FILE, entry, log=lab.LAB_DIR / f"idempotence-{entry[8:-3]}.log")
    assert run.returncode == 0, run.report(3000)
    assert run.results, "pyinfra printed no results table"
    assert run.changed_operations == []
