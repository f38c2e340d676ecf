"""The checkout's tests use the checks' pytest plugin (``hastack verify`` loads it by name)."""

pytest_plugins = ["hastack.checks.plugin"]
