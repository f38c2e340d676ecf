"""What differs between the operating systems hastack serves: the one place it is written.

Deploys ask this module, never compare releases or architectures themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hastack.topology import ROLES

# Debian's multiarch triplet per kernel architecture (``uname -m``): the folder
# below /usr/lib where Debian and Ubuntu put a package's libraries and plugins.
MULTIARCH = {
    "x86_64": "x86_64-linux-gnu",
    "aarch64": "aarch64-linux-gnu",
    "armv7l": "arm-linux-gnueabihf",
    "i686": "i386-linux-gnu",
    "ppc64le": "powerpc64le-linux-gnu",
    "s390x": "s390x-linux-gnu",
    "riscv64": "riscv64-linux-gnu",
}

# gmond's metric modules (libganglia1's files), by what ``modules`` names them.
GANGLIA_MODULES = {
    "cpu_module": "modcpu.so",
    "disk_module": "moddisk.so",
    "load_module": "modload.so",
    "mem_module": "modmem.so",
    "net_module": "modnet.so",
    "proc_module": "modproc.so",
    "sys_module": "modsys.so",
}


def ganglia_module_dir(arch: str) -> str:
    """Where libganglia1 puts gmond's metric modules.

    gmond resolves a module path that is not absolute against a folder compiled
    into it, which Debian 12's build leaves as the literal ``${prefix}/lib/...``:
    every module must be named by its absolute path.
    """
    try:
        return f"/usr/lib/{MULTIARCH[arch]}/ganglia"
    except KeyError:
        raise UnsupportedPlatform(
            f"no known library folder for architecture {arch!r} (known: {', '.join(sorted(MULTIARCH))})"
        ) from None


def ganglia_module_paths(arch: str) -> dict[str, str]:
    """gmond's metric modules by name, each with its absolute path."""
    folder = ganglia_module_dir(arch)
    return {name: f"{folder}/{library}" for name, library in GANGLIA_MODULES.items()}


class UnsupportedPlatform(ValueError):
    """This host's OS or architecture is not one hastack knows."""


SERVER_ROLES = ROLES


@dataclass(frozen=True)
class Platform:
    """One (distribution, release) of the matrix, and what the deploys do differently there."""

    distribution: str  # os-release ID
    release: str  # os-release VERSION_ID
    name: str
    # Proven on hosts here (the lab), or mapped from the release's package lists only.
    tested: bool
    roles: tuple[str, ...] = SERVER_ROLES
    # "apt" or "dnf": which pyinfra operations install packages.
    packager: str = "apt"
    # PHP's version folder (/etc/php/<v>); None where Cacti/Ganglia's PHP is not served.
    php: str | None = None
    # The compose command and the packages that bring Docker and it.
    compose: str = "docker-compose"
    docker_packages: tuple[str, ...] = ("docker.io", "docker-compose")
    # Ganglia from the release's packages, or gmond/gmetad in containers built from
    # Debian 12's packages (the release has none); the web front end is always a package.
    ganglia_in_container: bool = False
    # hastack's patches to the release's ganglia-webfrontend (templates/monitoring/), in order.
    ganglia_web_patches: tuple[str, ...] = (
        "ganglia-web-3.7.5-php8.patch",
        "ganglia-web-stacked.patch",
        "ganglia-web-links.patch",
        "ganglia-web-3.7.5-switch.patch",
        "ganglia-web-dwoo-atomic.patch",
    )
    # ApacheBench's package.
    ab_package: str = "apache2-utils"
    # Where a CA certificate the host must trust goes (a .crt file), and what adds it
    # to the system's bundle (curl, Python, openssl read that).
    ca_anchor_dir: str = "/usr/local/share/ca-certificates"
    ca_update_command: str = "update-ca-certificates"
    # SNMP agent: its package, the user it runs as, and its own state file (where it turns
    # createUser lines into localized keys).
    snmpd_package: str = "snmpd"
    snmpd_user: str = "Debian-snmp"
    snmpd_state: str = "/var/lib/snmp/snmpd.conf"
    # What every host gets: time sync, netplan, sshd.
    base_packages: tuple[str, ...] = ("chrony", "netplan.io", "openssh-server")
    # chrony's configuration, its options file and the variable there, its unit.
    chrony_conf: str = "/etc/chrony/chrony.conf"
    chrony_options: tuple[str, str] = ("/etc/default/chrony", "DAEMON_OPTS")
    chrony_service: str = "chrony"
    ssh_service: str = "ssh"
    # The package of a fence agent (its name without "fence_", "_" as "-" fills {agent}):
    # one package of every agent, or one package each.
    fence_agent_package: str = "fence-agents"
    # The package of Pacemaker's resource agents (IPaddr2 among them).
    resource_agents_package: str = "resource-agents"
    # Its restic reads repository format 2 (0.14 and later), which restic makes by default since.
    restic_v2: bool = True
    # The key-exchange groups HTTPS offers on the VIP, in order: Mozilla's "intermediate"
    # profile (guidelines 5.7: X25519, prime256v1, secp384r1), led by the hybrid post-quantum
    # X25519MLKEM768 where the release's OpenSSL has it (3.5 and later: the browsers of today
    # offer it first). X448 and secp521r1, OpenSSL's other defaults, are not offered.
    tls_groups: str = "X25519:prime256v1:secp384r1"
    # The apt sources ("suite component") that hastack's packages come from: each one is among
    # the host's sources before anything changes (AptComponents), else the host is refused.
    apt_components: tuple[str, ...] = ()
    # Those a web host needs besides (Docker's compose, where it comes from another suite).
    apt_components_web: tuple[str, ...] = ()

    def missing_apt_components(self, found: list[str] | set[str], role: str = "") -> list[str]:
        """The sources a host of ``role`` on this release needs that ``found`` (its own) lacks."""
        wanted = [*self.apt_components, *(self.apt_components_web if role == "web" else ())]
        return [entry for entry in wanted if entry not in set(found)]

    def fence_packages(self, agents: list[str]) -> tuple[str, ...]:
        """What installs these fence agents (fence_ipmilan, ...), each package once."""
        names = [agent.removeprefix("fence_").replace("_", "-") for agent in agents]
        return tuple(dict.fromkeys(self.fence_agent_package.format(agent=name) for name in names))

    @property
    def label(self) -> str:
        return f"{self.name} ({self.distribution} {self.release})"

    @property
    def gmond_service(self) -> str:
        """The systemd unit that runs gmond."""
        if self.ganglia_in_container:
            return "hastack-gmond"
        return "gmond" if self.packager == "dnf" else "ganglia-monitor"

    @property
    def gmetad_service(self) -> str:
        return "hastack-gmetad" if self.ganglia_in_container else "gmetad"

    @property
    def gmond_packages(self) -> tuple[str, ...]:
        """What installs gmond on the host itself (nothing: Docker runs it)."""
        if self.ganglia_in_container:
            return ()
        return ("ganglia-gmond",) if self.packager == "dnf" else ("ganglia-monitor",)

    @property
    def gmetad_packages(self) -> tuple[str, ...]:
        # rrdtool: to read what gmetad writes (hastack verify does).
        return ("rrdtool",) if self.ganglia_in_container else ("gmetad", "rrdtool")

    @property
    def compose_command(self) -> list[str]:
        return self.compose.split()

    def gmond_modules(self, arch: str) -> dict[str, str]:
        """gmond's modules by name, by absolute path where gmond runs (host or container)."""
        if self.packager == "dnf":
            return {name: f"/usr/lib64/ganglia/{library}" for name, library in GANGLIA_MODULES.items()}
        return ganglia_module_paths(arch)


# The matrix. Tested rows run in the lab for every change; the others are mapped from their
# package lists and accepted with a warning. The Ubuntu rows were checked against
# packages.ubuntu.com on 2026-12-05 (the pages are named in docs/real-servers.md, with what
# remains a guess); Fedora's are mapped from packages.fedoraproject.org.
BOOKWORM = Platform(
    "debian", "12", "Debian 12 bookworm", tested=True, php="8.2", apt_components=("bookworm main",)
)
TRIXIE = Platform(
    "debian",
    "13",
    "Debian 13 trixie",
    tested=True,
    php="8.4",
    apt_components=("trixie main",),
    # OpenSSL 3.5
    tls_groups="X25519MLKEM768:X25519:prime256v1:secp384r1",
    # trixie's docker-compose is compose v2, as the `docker compose` plugin.
    compose="docker compose",
    ganglia_in_container=True,
    # 3.7.6 fixes the rest itself (the stacked graph among them).
    ganglia_web_patches=(
        "ganglia-web-3.7.6-php8.patch",
        "ganglia-web-links.patch",
        "ganglia-web-dwoo-atomic.patch",
    ),
    # trixie packs each fence agent apart ("fence-agents" pulls in all of them).
    fence_agent_package="fence-agents-{agent}",
)
MATRIX = (
    BOOKWORM,
    TRIXIE,
    # Ubuntu's releases take most packages from the Debian release of their time.
    replace(
        BOOKWORM,
        distribution="ubuntu",
        release="22.04",
        name="Ubuntu 22.04 jammy",
        tested=False,
        php="8.1",
        # jammy's docker-compose is v1 (Python, end of life); v2 is docker-compose-v2, in
        # jammy-updates (universe).
        compose="docker compose",
        docker_packages=("docker.io", "docker-compose-v2"),
        # restic 0.12.x (universe): older than 0.14, the first to read format 2 (restic docs)
        restic_v2=False,
        # Cacti, MariaDB, Docker, Ganglia, pcs, ... are in universe; compose v2 (web hosts) in
        # jammy-updates.
        apt_components=("jammy main", "jammy universe"),
        apt_components_web=("jammy-updates universe",),
    ),
    # noble has gmetad (3.7.2, universe; libganglia1t64) and compose v2 as its own package; it
    # splits the fence agents like trixie, and has no "resource-agents" package at all.
    replace(
        TRIXIE,
        distribution="ubuntu",
        release="24.04",
        name="Ubuntu 24.04 noble",
        tested=False,
        php="8.3",
        docker_packages=("docker.io", "docker-compose-v2"),
        ganglia_in_container=False,
        resource_agents_package="resource-agents-base",
        # Cacti, MariaDB, Docker, Ganglia, GlusterFS, ... are in universe.
        apt_components=("noble main", "noble universe"),
        # OpenSSL 3.0: no ML-KEM
        tls_groups="X25519:prime256v1:secp384r1",
    ),
    # The client only: ab from httpd-tools, curl and the monitoring agents, by dnf.
    *(
        Platform(
            "fedora",
            release,
            f"Fedora {release}",
            tested=False,
            roles=("client",),
            packager="dnf",
            ab_package="httpd-tools",
            ca_anchor_dir="/etc/pki/ca-trust/source/anchors",
            ca_update_command="update-ca-trust",
            snmpd_package="net-snmp",
            snmpd_user="root",
            snmpd_state="/var/lib/net-snmp/snmpd.conf",
            base_packages=("chrony", "netplan", "openssh-server"),
            chrony_conf="/etc/chrony.conf",
            chrony_options=("/etc/sysconfig/chronyd", "OPTIONS"),
            chrony_service="chronyd",
            ssh_service="sshd",
        )
        for release in ("41", "42")
    ),
)


def for_os(distribution: str, release: str) -> Platform:
    """The matrix's row for an os-release ID and VERSION_ID; UnsupportedPlatform if none."""
    for platform in MATRIX:
        if (platform.distribution, platform.release) == (distribution, release):
            return platform
    raise UnsupportedPlatform(f"{distribution} {release} is not supported; supported: {supported()}")


def supported(role: str | None = None) -> str:
    return ", ".join(p.label for p in MATRIX if role is None or role in p.roles)


def for_host(os_release: dict[str, str], role: str) -> Platform:
    """The platform of a host from its /etc/os-release, refused if the matrix lacks it for the role."""
    distribution = os_release.get("ID", "unknown")
    release = os_release.get("VERSION_ID", "")
    pretty = os_release.get("PRETTY_NAME") or f"{distribution} {release}".strip()
    try:
        platform = for_os(distribution, release)
    except UnsupportedPlatform:
        platform = None
    if platform is None or role not in platform.roles:
        raise UnsupportedPlatform(
            f"runs {pretty}, which hastack does not support for a {role} host; supported: {supported(role)}"
        )
    return platform


def parse_os_release(text: str) -> dict[str, str]:
    """/etc/os-release's KEY=value lines (values unquoted)."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            values[key] = value
    return values
