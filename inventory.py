"""pyinfra inventory: the hosts of the site file, grouped by role.

The site file is $HASTACK_SITE (default site.yaml). It is validated before
pyinfra connects to anything; a bad site file stops the run with every problem
listed.
"""

import os
import sys

from hastack.site import load_site_or_exit

_site = load_site_or_exit(os.environ.get("HASTACK_SITE", "site.yaml"))
for _warning in _site.warnings:
    print(f"hastack: warning: {_warning}", file=sys.stderr)

proxy = [(host.name, _site.host_data(host)) for host in _site.hosts_in("proxy")]
web = [(host.name, _site.host_data(host)) for host in _site.hosts_in("web")]
client = [(host.name, _site.host_data(host)) for host in _site.hosts_in("client")]
