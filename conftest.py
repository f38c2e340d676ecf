"""The checkout's tests: the checks' pytest plugin (``hastack verify`` loads it by name) and the
lab harness (tests/harness.py), which gives it the lab's site and deploys the lab first."""

pytest_plugins = ["hastack.checks.plugin", "tests.harness", "tests.cpu_by_test"]
