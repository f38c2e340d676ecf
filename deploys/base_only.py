"""The base layer alone, any host: pyinfra inventory.py deploys/base_only.py --limit web1

The preflight, then hostname, /etc/hosts, time, netplan (put live, applied one host at a
time with a way back) and sshd. Used by the network VM test, whose VM is a web host with a
real kernel, systemd-networkd and netplan.
"""

from hastack.components.base import deploy_base
from hastack.components.host_os import preflight

preflight()
deploy_base()
