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


FAILED_RUN = """--> Beginning operation run...
--> Starting operation: Monitoring | Write the setup
    [proxy1] Success
    [proxy2] Success

--> Starting operation: Monitoring | Apply the setup
    [proxy1] ERROR: Unknown snmp-field ifOperStatus for host 7
    [proxy1] Error: executed 0/1 commands
    [proxy2] Success

--> Starting operation: Monitoring | Reload Apache
    [proxy2] Success

--> Results:
    Operation    Hosts   Success   Error   No Change
    Grand total  5       4         1       -
"""


def test_report_shows_the_failed_operation_before_the_tail():
    report = DeployRun(1, FAILED_RUN).report(tail=40)
    assert report.startswith("--> Starting operation: Monitoring | Apply the setup")
    assert "Unknown snmp-field ifOperStatus" in report
    assert "Write the setup" not in report and "Reload Apache" not in report
    assert report.endswith(FAILED_RUN[-40:])


def test_report_of_a_run_without_failure_is_its_tail():
    assert (
        DeployRun(0, FAILED_RUN.replace("Error: executed", "Success")).report(10)
        == "[...]\n" + FAILED_RUN[-10:]
    )
