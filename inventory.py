"""pyinfra inventory: the hosts of the site file, grouped by role.

The site file is $HASTACK_SITE (default site.yaml). It is validated, with the
group data files pyinfra reads (group_data/all.py, proxy.py, web.py, client.py
in the working folder, beside this file, and any --group-data folder), before
pyinfra connects to anything; a bad site file stops the run with every problem
listed. So does --data for a hastack data key: it would bypass the checks.
"""

import os
import sys

from hastack import fact_memo, pyinfra_speed
from hastack.pyinfra_args import group_data_folders, refused_data
from hastack.site import load_site_or_exit

# pyinfra's operation order without inspect.stack(), its global arguments read once: about 2 s
# of a no-op run (hastack/pyinfra_speed.py)
pyinfra_speed.install()
# a fact asked again answered from its last reading while nothing has run on any host since
# (hastack/fact_memo.py)
fact_memo.install()

_refused = refused_data(sys.argv[1:])
if _refused:
    for _message in _refused:
        print(f"hastack: {_message}", file=sys.stderr)
    print("hastack: nothing was touched", file=sys.stderr)
    raise SystemExit(2)

_site = load_site_or_exit(
    os.environ.get("HASTACK_SITE", "site.yaml"), group_data_folders(sys.argv[1:], __file__)
)
for _warning in _site.warnings:
    print(f"hastack: warning: {_warning}", file=sys.stderr)

proxy = [(host.name, _site.host_data(host)) for host in _site.hosts_in("proxy")]
web = [(host.name, _site.host_data(host)) for host in _site.hosts_in("web")]
client = [(host.name, _site.host_data(host)) for host in _site.hosts_in("client")]
