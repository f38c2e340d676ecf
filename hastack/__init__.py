"""hastack: a highly-available web cluster, provisioned with pyinfra."""
