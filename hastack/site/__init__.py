"""The site file: load, validate and describe the cluster a person wants.

Validation collects every problem before it reports, so that one run of
``hastack check`` shows all that is wrong, each problem naming the key path,
the host and the fix.

- ``model``: what a valid site is (Site, Host, SshSettings) and how problems are told
  (Problem, SiteError), with the site file's shape (ROLES, NETWORKS, MAC_RE, ...);
- ``loading``: reading it (YAML, duplicate keys refused), ``load_site``, ``parse_site``,
  ``dump_site``;
- ``validation``: the structural checks; the rules across keys are in hastack/cross_rules.py,
  the rules for one value in hastack/rules.py.
"""

from hastack.site.loading import dump_site, load_site, load_site_or_exit, parse_site
from hastack.site.model import (
    MAC_RE,
    NETWORKS,
    ROLE_NETWORKS,
    ROLES,
    Host,
    Problem,
    Site,
    SiteError,
    SshSettings,
)

__all__ = [
    "MAC_RE",
    "NETWORKS",
    "ROLE_NETWORKS",
    "ROLES",
    "Host",
    "Problem",
    "Site",
    "SiteError",
    "SshSettings",
    "dump_site",
    "load_site",
    "load_site_or_exit",
    "parse_site",
]
