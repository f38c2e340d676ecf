"""Reading pyinfra's results table: what a deploy run changed."""

from hastack.deploying import DeployRun


def test_results_rows(fixtures):
    run = DeployRun(0, (fixtures / "pyinfra_results.txt").read_text())
    assert [(r["op"], r["changed"], r["unchanged"]) for r in run.results] == [
        ("Base: hostname | Set the hostname", "-", "5"),
        ("Base: hostname | Write /etc/hosts", "2", "3"),
        ("Grand total", "2", "8"),
    ]


def test_changed_operations(fixtures):
    run = DeployRun(0, (fixtures / "pyinfra_results.txt").read_text())
    assert run.changed_operations == ["Base: hostname | Write /etc/hosts (2 hosts)"]


def test_no_table_no_results():
    assert DeployRun(1, "--> Loading config...\nerror\n").results == []
