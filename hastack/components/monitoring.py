"""Monitoring, every host: SNMPv3 agent and Ganglia gmond (unicast); on the web hosts gmetad
and Ganglia's web front end; on the proxies Cacti. Both front ends run in Apache on loopback."""

import hashlib
import io

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import FileContents
from pyinfra.facts.server import Arch
from pyinfra.operations import files, server, systemd
from pyinfra.operations.util import any_changed

from hastack import firewall, secrets, topology
from hastack.components.docker import provide_image
from hastack.components.host_os import SECRET_DIR, install, platform, run_timer
from hastack.defaults import ROOT
from hastack.facts.monitoring import (
    CactiDevices,
    CactiDiscovery,
    CactiGraphsOfTemplates,
    CactiRrdsOfAnotherStep,
    GmetadHosts,
)
from hastack.operations.files import patched_tree, render_template, validated_file

TEMPLATES = ROOT / "templates" / "monitoring"
SNMP_STAMP = "/var/lib/hastack/snmp-user.sha256"
GANGLIA_WEB = "/usr/share/ganglia-webfrontend"
# Each applied on its own, so that a new one never conflicts with one already applied.
GANGLIA_WEB_STATE = ["/var/lib/ganglia-web/dwoo/cache", "/var/lib/ganglia-web/dwoo/compiled"]
GANGLIA_PATCHES = {
    "ganglia-web-3.7.5-php8.patch": "PHP 8 fixes",
    "ganglia-web-3.7.6-php8.patch": "PHP 8 fixes",
    "ganglia-web-stacked.patch": "stacked graph's fix",
    "ganglia-web-links.patch": "linked pages' fixes",
    "ganglia-web-3.7.5-switch.patch": "switch warning's fix",
    "ganglia-web-dwoo-atomic.patch": "template compiler's atomic write",
}
# gmetad's interactive port, which the Ganglia pages query on the same host.
GMETAD_INTERACTIVE_PORT = 8652
# gmetad's XML port (local only): the hosts it knows.
GMETAD_XML_PORT = 8651
GMETAD_RRDS = "/var/lib/ganglia/rrds"
# The user gmetad runs as in the Ganglia image, by the same numbers on the host.
GANGLIA_CONTAINER_USER = "nobody"
GANGLIA_CONTAINER_GROUP = "nogroup"
CACTI_SETUP = "/usr/local/sbin/hastack-cacti-setup"
CACTI_ADMIN = "admin"
# Cacti's profiles of data sources by step (seconds): their hashes, the same in every install.
CACTI_PROFILES = {60: "66d35da8f75c912ede3dbe901fedcae0", 300: "d62c52891f4f9688729a5bc9fad91b18"}
CACTI_POLLER_UNIT = "hastack-cacti-poller"
# Cacti's index remapper, run before each poll (templates/monitoring/cacti-remap.php.j2).
CACTI_REMAP = "/usr/local/lib/hastack/cacti-remap.php"
# Cacti's "SNMP - Interface Statistics" data query (its hash, the same in every install): the one
# hastack makes graphs from (each host's interface traffic).
CACTI_INTERFACES_QUERY = "d75e406fdeca4fcef45b8be3a9a63cbc"
# The interface data sources of an enabled device that no longer follow their interface. The
# remapper queues a reindex of these devices; verify fails while one is left. Stale means one of:
# - the device's sort field is not their index type (a restart's walk that answered ifIndex and
#   timed out on ifName, ifDescr and ifHwAddr made ifIndex the sort field);
# - the device's sort field is ifIndex, the last of the query's index order: only a walk that
#   timed out on the names makes it so. An ifIndex does not survive a restart (a lab container's,
#   a veth's): a data source keyed by it loses its interface at the next one;
# - the last walk found no interface at the index they poll;
# - Cacti's cache does not hold their interface at that index (it moved, or it is gone);
# - the cache is older than the device's snmpd (a reindex after its restart failed: the uptime
#   Cacti's poller read last, at its last run, tells when snmpd started; 30 s of margin). Only
#   with Cacti's uptime reindex method (op '<'), and only an uptime read (a timeout stores '').
#   After a run that did not read the device (a failed ping, a gap in polling), the uptime is
#   older than the run: this can queue a reindex that was not needed, which clears it.
_SAME_DEVICE = "c.host_id = dl.host_id AND c.snmp_query_id = dl.snmp_query_id"
# A data source's index type (it.value) and index value (iv.value), the input data that hold them.
_INDEX_FIELDS = (
    "JOIN data_template_data dtd ON dtd.local_data_id = dl.id "
    "JOIN data_input_fields ft ON ft.data_input_id = dtd.data_input_id AND ft.data_name = 'index_type' "
    "JOIN data_input_data it ON it.data_template_data_id = dtd.id AND it.data_input_field_id = ft.id "
    "JOIN data_input_fields fv ON fv.data_input_id = dtd.data_input_id AND fv.data_name = 'index_value' "
    "JOIN data_input_data iv ON iv.data_template_data_id = dtd.id AND iv.data_input_field_id = fv.id "
)
CACTI_STALE_INDEXES = (
    "SELECT dl.id AS local_data_id, dl.host_id, h.description AS device, dl.snmp_query_id, "
    "hsq.sort_field, it.value AS index_type, iv.value AS index_value, dl.snmp_index, "
    f"(SELECT GROUP_CONCAT(c.snmp_index) FROM host_snmp_cache c WHERE {_SAME_DEVICE} "
    "AND c.field_name = it.value AND c.field_value = iv.value) AS cached_indexes "
    "FROM data_local dl "
    f"JOIN snmp_query sq ON sq.id = dl.snmp_query_id AND sq.hash = '{CACTI_INTERFACES_QUERY}' "
    "JOIN host h ON h.id = dl.host_id AND h.disabled = '' "
    "JOIN host_snmp_query hsq ON hsq.host_id = dl.host_id AND hsq.snmp_query_id = dl.snmp_query_id "
    f"{_INDEX_FIELDS}"
    "WHERE it.value <> hsq.sort_field OR hsq.sort_field = 'ifIndex' "
    f"OR NOT EXISTS (SELECT 1 FROM host_snmp_cache c WHERE {_SAME_DEVICE} "
    "AND c.field_name = 'ifIndex' AND c.snmp_index = dl.snmp_index) "
    f"OR NOT EXISTS (SELECT 1 FROM host_snmp_cache c WHERE {_SAME_DEVICE} "
    "AND c.field_name = it.value AND c.field_value = iv.value AND c.snmp_index = dl.snmp_index) "
    f"OR (SELECT MAX(UNIX_TIMESTAMP(c.last_updated)) FROM host_snmp_cache c WHERE {_SAME_DEVICE}) "
    "< (SELECT CAST(s.value AS SIGNED) FROM settings s WHERE s.name = 'poller_lastrun_1') "
    "- (SELECT CAST(pr.assert_value AS UNSIGNED) FROM poller_reindex pr WHERE pr.host_id = dl.host_id "
    "AND pr.data_query_id = dl.snmp_query_id AND pr.op = '<' AND pr.assert_value <> '' "
    "AND pr.assert_value NOT REGEXP '[^0-9]' LIMIT 1) / 100 - 30"
)
# Every interface data source of the interfaces query, for the remapper's keys (the name each one
# follows): its index type and value, the fields that hold them, whether the last walk found
# that interface at its index, and the name (ifName) the cache has at that index. Cacti re-keys a
# device's data sources by the new sort field when it changes: to ifIndex after a walk that timed
# out on most names but not all (CI, once). Keyed by an ifIndex, a data source is lost at its
# host's next restart, and Cacti never keys it by name again.
# The remapper remembers each one's key while its interface is found, and keys it by that name
# again when Cacti has keyed it by ifIndex (or, with no key kept, by the name the cache gives the
# interface at its index); the reindex it queues then finds the interface by name.
CACTI_INTERFACE_KEYS = (
    "SELECT dl.id AS local_data_id, h.description AS device, dtd.id AS data_template_data_id, "
    "ft.id AS type_field, it.value AS index_type, fv.id AS value_field, iv.value AS index_value, "
    f"EXISTS (SELECT 1 FROM host_snmp_cache c WHERE {_SAME_DEVICE} AND c.field_name = it.value "
    "AND c.field_value = iv.value AND c.snmp_index = dl.snmp_index) AS found, "
    f"(SELECT MIN(c.field_value) FROM host_snmp_cache c WHERE {_SAME_DEVICE} AND c.field_name = 'ifName' "
    "AND c.snmp_index = dl.snmp_index) AS name_here "
    "FROM data_local dl "
    f"JOIN snmp_query sq ON sq.id = dl.snmp_query_id AND sq.hash = '{CACTI_INTERFACES_QUERY}' "
    "JOIN host h ON h.id = dl.host_id "
    f"{_INDEX_FIELDS.rstrip()}"
)
# Where the remapper keeps those keys: Cacti's settings, one per data source (prefix + its id).
CACTI_KEY_SETTING = "hastack_ifkey_"
# Graph templates of Cacti's "Net-SNMP Device" that its script server polls through net-snmp's
# command-line tools, which carry the SNMPv3 passphrases on their command line at every poll
# (Cacti 1.2 runs SNMPv3 through the tools): never made (hash: name).
CACTI_GRAPHS_POLLED_BY_COMMAND_LINE = {
    "8eeff0b956240da5625c05d4cdbfbe7f": "Net-SNMP - Combined SCSI Disk I/O",
    "cf044e8a7a9d21229564265d2fa2d80c": "Net-SNMP - Combined SCSI Disk Bytes",
}


def own_address() -> str:
    """Where this host's agents listen: its primary address."""
    return topology.primary_address(host.data.site_addresses)


def configure_snmp() -> None:
    cluster = host.data.site_cluster
    user = host.data.snmp_user
    auth = secrets.password(cluster, "snmp_auth_password")
    priv = secrets.password(cluster, "snmp_priv_password")
    this = platform()
    install("Install snmpd", [this.snmpd_package])
    conf = validated_file(
        name="Configure snmpd: SNMPv3 only, on this host's own network",
        dest="/etc/snmp/snmpd.conf",
        content=render_template(
            str(TEMPLATES / "snmpd.conf.j2"),
            address=own_address(),
            location=host.data.snmp_location,
            contact=host.data.snmp_contact,
            user=user,
        ),
        mode="600",
    )
    # The user's keys live in snmpd's own state file, which it rewrites on exit:
    # change it only with snmpd stopped. A stamp of the credentials tells
    # whether the user there is the one the secrets describe.
    wanted = hashlib.sha256(f"{user}:{auth}:{priv}".encode()).hexdigest()
    user_made = None
    snmpd_user, state = this.snmpd_user, this.snmpd_state
    if (host.get_fact(FileContents, path=SNMP_STAMP) or [""])[0] != wanted:
        # The line with the passwords reaches the host in a private file, never on a
        # command line (`ps` shows those to every local user).
        line = f"{SECRET_DIR}/snmp-user"
        files.directory(name="A private folder for secrets in transit", path=SECRET_DIR, mode="700")
        files.put(
            name=f"Hand over the SNMPv3 user {user}'s line in a private file (generated secrets)",
            src=io.StringIO(f'createUser {user} SHA-256 "{auth}" AES "{priv}"\n'),
            dest=line,
            mode="600",
        )
        user_made = server.shell(
            name=f"Create the SNMPv3 user {user} (generated secrets)",
            commands=[
                "systemctl stop snmpd",
                f"test -e {state} || install -o {snmpd_user} -g {snmpd_user} -m 600 /dev/null {state}",
                f"sed -i '/^usmUser /d' {state}",
                f"cat {line} >> {state}; rm -f {line}",
                f"mkdir -p /var/lib/hastack && echo {wanted} > {SNMP_STAMP}",
                "systemctl start snmpd",
            ],
        )
    systemd.service(name="Run snmpd", service="snmpd", running=True, enabled=True)
    # A restart, not a reload: after a SIGHUP snmpd denied the SNMPv3 user
    # access (seen in the lab). The user step above already restarted it.
    systemd.service(
        name="Restart snmpd with its new configuration",
        service="snmpd",
        restarted=True,
        _if=lambda: conf.did_change() and not (user_made and user_made.did_change()),
    )


def ganglia_daemon(
    daemon: str, purpose: str, template: str, dest: str, restart_if=lambda: False, **data
) -> None:
    """gmond or gmetad: from the OS's packages, or (where it has none) in Docker from the
    Ganglia image; configured from a template, run, restarted on a change (or ``restart_if``)."""
    this = platform()
    service = this.gmond_service if daemon == "gmond" else this.gmetad_service
    files.directory(name="Create /etc/ganglia", path="/etc/ganglia")
    # Written before the package is installed (apt keeps it: --force-confold), so that the
    # daemon's first start already follows it: the package's own gmond.conf sends to and joins
    # the multicast group 239.2.11.71 (seen in the lab until it was written first).
    conf = files.template(
        name=f"Configure {daemon}: {purpose}", src=str(TEMPLATES / template), dest=dest, **data
    )
    packages = this.gmond_packages if daemon == "gmond" else this.gmetad_packages
    if packages:
        install(f"Install {daemon}", packages)
    changes = [conf]
    if this.ganglia_in_container:
        image = host.data.ganglia_image
        provide_image(image, host.data.ganglia_image_archive)
        volumes = ["/etc/ganglia:/etc/ganglia:ro", "/etc/hosts:/etc/hosts:ro"]
        command = "gmond -f -c /etc/ganglia/gmond.conf"
        if daemon == "gmetad":
            files.directory(
                name="Create gmetad's RRD folder (the container's user owns it)",
                path=GMETAD_RRDS,
                user=GANGLIA_CONTAINER_USER,
                group=GANGLIA_CONTAINER_GROUP,
                mode="755",
            )
            volumes.append(f"{GMETAD_RRDS}:{GMETAD_RRDS}")
            # gmetad stays in the foreground only with a debug level.
            command = "gmetad -d 1 -c /etc/ganglia/gmetad.conf"
        unit = files.template(
            name=f"Run {daemon} in Docker ({service}.service)",
            src=str(TEMPLATES / "ganglia-container.service.j2"),
            dest=f"/etc/systemd/system/{service}.service",
            daemon=daemon,
            image=image,
            container=service,
            volumes=volumes,
            command=command,
        )
        systemd.daemon_reload(name=f"Load {service}.service", _if=unit.did_change)
        changes.append(unit)
    systemd.service(name=f"Run {daemon}", service=service, running=True, enabled=True)
    changed = any_changed(*changes)
    systemd.service(
        name=f"Restart {daemon}", service=service, restarted=True, _if=lambda: changed() or restart_if()
    )


def configure_gmond() -> None:
    ganglia_daemon(
        "gmond",
        "unicast to the collectors",
        "gmond.conf.j2",
        "/etc/ganglia/gmond.conf",
        cluster=host.data.site_cluster,
        location=host.data.snmp_location,
        send_to=topology.collectors(host.data.site_hosts, host.data.site_addresses),
        port=host.data.ganglia_port,
        collector="proxy" in host.groups,
        senders=["127.0.0.1", *firewall.gmond_senders(host.data.site_hosts, host.name)],
        pollers=["127.0.0.1", *topology.back_addresses(host.data.site_hosts, "web")],
        modules=platform().gmond_modules(host.get_fact(Arch)),
    )


def site_host_names() -> set[str]:
    return {other["name"] for other in host.data.site_hosts}


def configure_gmetad() -> None:
    ganglia_daemon(
        "gmetad",
        "poll the collectors",
        "gmetad.conf.j2",
        "/etc/ganglia/gmetad.conf",
        # A host gone from the site stays in gmetad's view for a day (its DMAX), shown down, once
        # the collectors have forgotten it (their ACL changed, they restarted): a restart forgets
        # it too. Its RRDs stay, as history.
        restart_if=lambda: bool(set(host.get_fact(GmetadHosts, port=GMETAD_XML_PORT)) - site_host_names()),
        cluster=host.data.site_cluster,
        collectors=topology.back_addresses(host.data.site_hosts, "proxy"),
        port=host.data.ganglia_port,
        poll_seconds=host.data.ganglia_poll_seconds,
        run_as=GANGLIA_CONTAINER_USER if platform().ganglia_in_container else "ganglia",
    )


def site_devices() -> list[dict]:
    """Every host of the cluster, at the address its SNMP agent listens on."""
    return [
        {"name": other["name"], "address": topology.primary_address(other["addresses"])}
        for other in host.data.site_hosts
    ]


def install_web_server():
    """Apache with PHP, on loopback only; the operations whose change needs a reload."""
    files.directory(name="Create /etc/apache2", path="/etc/apache2")
    ports = validated_file(
        name="Make Apache listen on loopback only (written before it is installed)",
        dest="/etc/apache2/ports.conf",
        content=render_template(
            str(TEMPLATES / "apache-ports.conf.j2"),
            server_name=host.name,
            port=host.data.monitoring_web_port,
        ),
    )
    install("Install Apache with PHP", ["apache2", "libapache2-mod-php"])
    default_site = files.link(
        name="Disable Apache's default site",
        path="/etc/apache2/sites-enabled/000-default.conf",
        present=False,
    )
    systemd.service(name="Run Apache", service="apache2", running=True, enabled=True)
    return [ports, default_site]


def reload_web_server(changes: list) -> None:
    server.shell(
        name="Reload Apache (configuration tested first)",
        commands=["apache2ctl configtest", "systemctl reload-or-restart apache2"],
        _if=any_changed(*changes),
    )


def configure_ganglia_web() -> list:
    """Ganglia's pages (Debian's ganglia-webfrontend, made to run on PHP 8)."""
    install("Install Ganglia's web front end", ["ganglia-webfrontend", "php-gd", "patch"])
    # Its template cache and views: Apache's user writes them (Debian 13's package leaves
    # the Dwoo folders to root, and every page then fails).
    for folder in GANGLIA_WEB_STATE:
        files.directory(
            name=f"Let Apache write {folder}", path=folder, user="www-data", group="www-data", mode="755"
        )
    files.template(
        name="Configure Ganglia's web front end (gmetad here, PHP 8 shims)",
        src=str(TEMPLATES / "ganglia-conf.php.j2"),
        dest="/etc/ganglia-webfrontend/conf.php",
        gmetad_port=GMETAD_INTERACTIVE_PORT,
    )
    for patch in platform().ganglia_web_patches:
        purpose = GANGLIA_PATCHES[patch]
        remote_patch = f"/usr/local/share/hastack/{patch}"
        files.put(
            name=f"Upload the {purpose} for Ganglia's web front end",
            src=str(TEMPLATES / patch),
            dest=remote_patch,
        )
        patched_tree(
            name=f"Apply the {purpose} to Ganglia's web front end", directory=GANGLIA_WEB, patch=remote_patch
        )
    served = files.link(
        name="Serve Ganglia's pages at /ganglia/",
        path="/etc/apache2/conf-enabled/ganglia-webfrontend.conf",
        target="../conf-available/ganglia-webfrontend.conf",
    )
    return [served]


def configure_cacti() -> list:
    """Cacti with its own MariaDB on this proxy, polling every host over SNMPv3."""
    cluster = host.data.site_cluster
    if "cacti" not in host.get_fact(DebPackages):
        server.shell(
            name="Preseed Cacti: Apache, its database made by dbconfig-common",
            commands=[
                "printf '%s\\n' 'cacti cacti/webserver select apache2' "
                "'cacti cacti/dbconfig-install boolean true' | debconf-set-selections"
            ],
        )
        # The package's cron entry would run the poller (and its automation, which scans the
        # "Test Network" it ships) between the install and the setup below, where cron runs:
        # an entry of ours stands in its place (apt keeps it) until the timer replaces it.
        files.put(
            name="Stand in for the package's cron entry until the poller's timer runs it",
            src=io.StringIO("# hastack: Cacti's poller runs from hastack-cacti-poller.timer\n"),
            dest="/etc/cron.d/cacti",
            mode="644",
        )
    install("Install MariaDB and Cacti", ["mariadb-server", "cacti"])
    systemd.service(name="Run MariaDB", service="mariadb", running=True, enabled=True)
    served = files.link(
        name="Serve Cacti at /cacti/",
        path="/etc/apache2/conf-enabled/cacti.conf",
        target="../conf-available/cacti.conf",
    )
    devices = site_devices()
    step = host.data.cacti_poll_minutes * 60
    remade = host.get_fact(CactiRrdsOfAnotherStep, step=step)
    if remade:
        logger.warning(
            f"host {host.name}: Cacti polls every {step // 60} minute(s) now (cacti_poll_minutes): "
            f"{remade} RRDs are made again with a {step} s step, their history lost"
        )
    unsafe_graphs = tuple(sorted(CACTI_GRAPHS_POLLED_BY_COMMAND_LINE))
    setup = validated_file(
        name="Write Cacti's setup: admin password, one SNMPv3 device per host",
        dest=CACTI_SETUP,
        content=render_template(
            str(TEMPLATES / "cacti-setup.sh.j2"),
            admin_user=CACTI_ADMIN,
            admin_password=secrets.password(cluster, "cacti_admin_password"),
            snmp_user=host.data.snmp_user,
            snmp_auth=secrets.password(cluster, "snmp_auth_password"),
            snmp_priv=secrets.password(cluster, "snmp_priv_password"),
            devices=devices,
            snmp_timeout_ms=host.data.cacti_snmp_timeout_ms,
            snmp_retries=host.data.cacti_snmp_retries,
            step=step,
            profile=CACTI_PROFILES[step],
            unsafe_graph_hashes=unsafe_graphs,
            interfaces_query=CACTI_INTERFACES_QUERY,
        ),
        validate="sh -n {path}",
        mode="700",
    )
    wanted = {device["name"]: device["address"] for device in devices}
    graphless = sorted(
        name for name, address in host.get_fact(CactiDevices).items() if name in wanted and not address
    )
    if graphless:
        logger.warning(
            f"host {host.name}: Cacti has no graphs for {', '.join(graphless)} (its SNMP did not answer "
            "when it was added): this run asks it again"
        )

    def devices_differ() -> bool:
        """A host of the site without its device, or a device of a host gone from the site."""
        known = host.get_fact(CactiDevices)
        return any(known.get(name) != address for name, address in wanted.items()) or bool(
            set(known) - set(wanted)
        )

    server.shell(
        name="Apply Cacti's setup",
        commands=[CACTI_SETUP],
        # Again where a run that changed the interval stopped before its RRDs were made again.
        _if=lambda: (
            setup.did_change()
            or devices_differ()
            or bool(host.get_fact(CactiDiscovery))
            or bool(remade)
            or bool(host.get_fact(CactiGraphsOfTemplates, hashes=unsafe_graphs))
        ),
    )
    schedule_cacti_poller()
    return [served]


def schedule_cacti_poller() -> None:
    """Cacti's poller every cacti_poll_minutes from a systemd timer (the package's cron entry needs
    cron, which a minimal host lacks; where cron exists, two schedulers would run it twice)."""
    minutes = host.data.cacti_poll_minutes
    files.directory(name="hastack's programs folder", path="/usr/local/lib/hastack", mode="755")
    validated_file(
        name="Cacti's index remapper, run before each poll",
        dest=CACTI_REMAP,
        content=render_template(
            str(TEMPLATES / "cacti-remap.php.j2"),
            stale_sql=CACTI_STALE_INDEXES,
            keys_sql=CACTI_INTERFACE_KEYS,
            key_setting=CACTI_KEY_SETTING,
        ),
        validate="php -l {path} >/dev/null",
    )
    units = [
        files.template(
            name=f"Cacti's poller as a service ({CACTI_POLLER_UNIT}.service)",
            src=str(TEMPLATES / "cacti-poller.service.j2"),
            dest=f"/etc/systemd/system/{CACTI_POLLER_UNIT}.service",
            timeout_seconds=minutes * 60 - 20,
            remap=CACTI_REMAP,
        ),
        files.template(
            name=f"Cacti's poller every {minutes} minute(s) ({CACTI_POLLER_UNIT}.timer)",
            src=str(TEMPLATES / "cacti-poller.timer.j2"),
            dest=f"/etc/systemd/system/{CACTI_POLLER_UNIT}.timer",
            minutes=minutes,
        ),
    ]
    # A removed conffile stays removed on upgrades (dpkg keeps the admin's choice).
    files.file(name="Remove the package's cron entry for the poller", path="/etc/cron.d/cacti", present=False)
    # Where ours stood in for it at the install, dpkg put the package's beside it (cron skips it).
    files.file(
        name="Remove the package's copy of its cron entry", path="/etc/cron.d/cacti.dpkg-dist", present=False
    )
    run_timer(CACTI_POLLER_UNIT, "the poller", *units)


@deploy("Monitoring: SNMP, Ganglia and Cacti")
def deploy_monitoring() -> None:
    configure_snmp()
    configure_gmond()
    if "web" in host.groups:
        configure_gmetad()
    if "client" in host.groups:
        return
    changes = install_web_server()
    if "web" in host.groups:
        changes += configure_ganglia_web()
    if "proxy" in host.groups:
        changes += configure_cacti()
    reload_web_server(changes)
