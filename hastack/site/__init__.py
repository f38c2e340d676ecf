"""The site file: load, validate and describe the cluster a person wants.

Validation collects every problem before it reports, so that one run of
``hastack check`` shows all that is wrong, each problem naming the key path,
the host and the fix.

- ``model``: what a valid site is (Site, Host, SshSettings) and how problems are told
  (Problem, SiteError), with the site file's shape (ROLES, NETWORKS, MAC_RE, ...);
- ``loading``: reading it (YAML, duplicate keys refused), ``load_site``, ``parse_site``,
  ``dump_site``;
- ``group_data``: the group data files (group_data/all.py, proxy.py, web.py, client.py),
  read as pyinfra reads them; their values are checked like the site's ``data:``;
- ``validation``: the structural checks; the rules across keys are in hastack/cross_rules.py,
  the rules for one value in hastack/rules.py.
"""

from hastack.site.group_data import GroupData, default_folders, read_group_data
from hastack.site.loading import dump_site, load_site, load_site_or_exit, parse_site
from hastack.site.model import (
    GROUPS,
    MAC_RE,
    NETWORKS,
    ROLE_NETWORKS,
    ROLES,
    GroupFile,
    Host,
    Layers,
    Problem,
    Site,
    SiteError,
    SshSettings,
)

__all__ = [
    "GROUPS",
    "MAC_RE",
    "NETWORKS",
    "ROLE_NETWORKS",
    "ROLES",
    "GroupData",
    "GroupFile",
    "Host",
    "Layers",
    "Problem",
    "Site",
    "SiteError",
    "SshSettings",
    "default_folders",
    "dump_site",
    "load_site",
    "load_site_or_exit",
    "parse_site",
    "read_group_data",
]
