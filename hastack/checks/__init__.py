"""What ``hastack verify`` checks on a site's hosts: testinfra checks, one module per layer.

Each module names its layer (``LAYER``); the plugin (``hastack.checks.plugin``)
gives them the site (``HASTACK_SITE``), one ``host`` per host of the roles a
check is for, and SSH connections like pyinfra's. They ship in the package, so
``hastack verify`` works from an installed wheel. The tests that break or
redeploy hosts are in the checkout's tests/infra, not here.
"""
