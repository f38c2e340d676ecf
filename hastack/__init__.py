"""hastack: a highly-available web cluster, provisioned with pyinfra."""

from hastack import nodelay

# Every SSH connection of hastack's processes (pyinfra's, testinfra's, its own) without Nagle's
# 40 ms wait per command (hastack/nodelay.py).
nodelay.install()
