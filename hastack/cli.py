"""The ``hastack`` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hastack.site import Site, SiteError, load_site


def cmd_check(args: argparse.Namespace) -> int:
    try:
        site = load_site(args.site)
    except SiteError as error:
        print(error.report(), file=sys.stderr)
        return 2
    print(site.summary())
    for warning in site.warnings:
        print(f"warning: {warning}")
    said = f" ({len(site.warnings)} warning(s) above)" if site.warnings else ""
    print(f"ok: the site file is valid{said}")
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    from hastack import lab

    return lab.main(args)


def default_site() -> str:
    from hastack import lab

    return str(lab.SITE_FILE) if lab.SITE_FILE.exists() else "site.yaml"


def site_or_none(args: argparse.Namespace) -> Site | None:
    """The site the command names (default: the lab's), or None after printing its problems."""
    try:
        return load_site(args.site or default_site())
    except SiteError as error:
        print(error.report(), file=sys.stderr)
        return None


def cmd_verify(args: argparse.Namespace) -> int:
    from hastack import verify

    site = site_or_none(args)
    if site is None:
        return 2
    hosts = args.hosts.split(",") if args.hosts else None
    return verify.run_verify(site, hosts=hosts, select=args.k)


def cmd_status(args: argparse.Namespace) -> int:
    from hastack import status

    site = site_or_none(args)
    if site is None:
        return 2
    return status.run_status(site, as_json=args.json)


def site_before_words(args: argparse.Namespace, count: int, usage: str, valid: bool = True) -> Site | None:
    """For a command of ``[SITE] WORD...`` (``count`` words after the optional site): the site, or
    None after printing the usage or the site's problems."""
    words = args.words
    if len(words) not in (count, count + 1) or not valid:
        print(f"usage: {usage}", file=sys.stderr)
        return None
    args.site = words[0] if len(words) == count + 1 else None
    return site_or_none(args)


def cmd_maintenance(args: argparse.Namespace) -> int:
    from hastack import maintenance

    usage = "hastack maintenance [SITE] HOST on|off: name a host, then on or off"
    site = site_before_words(args, 2, usage, valid=args.words[-1] in ("on", "off"))
    if site is None:
        return 2
    return maintenance.run_maintenance(site, args.words[-2], args.words[-1], heal_wait=args.heal_wait)


def cmd_disk(args: argparse.Namespace) -> int:
    from hastack import disk

    site = site_before_words(args, 3, "hastack disk replace [SITE] HOST OLD NEW")
    if site is None:
        return 2
    return disk.run_disk_replace(site, *args.words[-3:], wait=not args.no_wait)


def cmd_backup(args: argparse.Namespace) -> int:
    from hastack import backup_run

    site = site_or_none(args)
    if site is None:
        return 2
    return backup_run.run_backup(site)


def cmd_restore(args: argparse.Namespace) -> int:
    from hastack import backup_run

    if not args.drill and args.path is None:
        print(
            "usage: hastack restore [SITE] --drill | --path REL (see hastack restore --help)", file=sys.stderr
        )
        return 2
    site = site_or_none(args)
    if site is None:
        return 2
    return backup_run.run_restore(site, drill=args.drill, path=args.path, as_json=args.json)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from hastack import upgrade

    site = site_or_none(args)
    if site is None:
        return 2
    hosts = args.hosts.split(",") if args.hosts else None
    return upgrade.run_upgrade(site, hosts, args.reboot, args.heal_wait)


def cmd_drill(args: argparse.Namespace) -> int:
    from hastack import drill

    if args.site in drill.DRILLS and args.name is None:
        # `hastack drill web`: a drill name, not a site file
        args.site, args.name = None, args.site
    site = site_or_none(args)
    if site is None:
        return 2
    names = [args.name] if args.name else [name for name in drill.DRILLS if name not in drill.BY_NAME_ONLY]
    hosts = args.hosts.split(",") if args.hosts else None
    cluster = site.cluster_hosts()
    if hosts and any(name not in cluster for name in hosts):
        print(
            f"error: --hosts: name proxies and web hosts of the site ({', '.join(cluster)})", file=sys.stderr
        )
        return 2
    if not site.lab and not args.yes:
        print(
            f"error: {site.source} is not the lab: the drills reset its hosts (a forced reboot, no clean "
            "shutdown) and fail a RAID disk in software. Run them in a quiet hour with --yes.",
            file=sys.stderr,
        )
        return 2
    results = drill.run_drills(
        site, names, args.seconds, args.rate, stalls=args.stalls, losses=args.losses, hosts=hosts
    )
    print()
    print(drill.table(results))
    return 0 if all(result.data_lost == "no" and result.met for result in results) else 1


def cmd_timers(args: argparse.Namespace) -> int:
    from hastack import lab, timers

    if not lab.SITE_FILE.exists():
        print("error: no lab: `hastack lab up` and a deploy first (`./run lab`)", file=sys.stderr)
        return 2
    if args.timeouts and args.what == "token":
        print("error: --timeouts is for `timers connect` or `timers ping`", file=sys.stderr)
        return 2
    if args.what == "connect":
        from hastack.rules import HAPROXY_TIME_RE

        values = args.timeouts or list(timers.CONNECT_TIMEOUTS)
        wrong = [value for value in values if not HAPROXY_TIME_RE.match(value)]
        if wrong:
            print(
                f"error: --timeouts {' '.join(wrong)}: an HAProxy time, such as 500ms or 2s", file=sys.stderr
            )
            return 2
        print(timers.connect_table(timers.measure_connect(values)))
        return 0
    if args.what == "ping":
        values = args.timeouts or [str(value) for value in timers.PING_TIMEOUTS_S]
        wrong = [value for value in values if not value.isdigit() or int(value) < 1]
        if wrong:
            print(f"error: --timeouts {' '.join(wrong)}: whole seconds, 1 or more", file=sys.stderr)
            return 2
        print(timers.ping_table(timers.measure_ping([int(value) for value in values])))
        return 0
    rows = timers.measure(args.tokens, args.loss_seconds)
    print()
    print(timers.table(rows))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hastack import bench

    site = site_or_none(args)
    if site is None:
        return 2
    concurrency = tuple(int(c) for c in args.concurrency.split(","))
    runs = bench.run_bench(site, args.requests, concurrency)
    print()
    print(bench.table(runs))
    chart = Path(args.chart)
    bench.chart(runs, chart, f"hastack bench: {site.cluster}, ab -n {args.requests}")
    print(f"\nchart: {chart}")
    return 0 if all(run.ok for run in runs) else 1


def cmd_soak(args: argparse.Namespace) -> int:
    from hastack import soak

    site = site_or_none(args)
    if site is None:
        return 2
    phases = soak.run_soak(site, args.seconds)
    print()
    print(soak.table(phases))
    return 0 if all(phase.held for phase in phases) else 1


def milliseconds(text: str) -> list[int]:
    """``500,2000``: timeouts in milliseconds, each at least 1."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: write whole milliseconds, comma-separated: 500,2000"
        ) from None
    if any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"{text!r}: each timeout is at least 1 ms")
    return values


def cmd_snmp_bench(args: argparse.Namespace) -> int:
    from hastack import snmp_probe

    site = site_or_none(args)
    if site is None:
        return 2
    if args.busy and not site.lab and not args.yes:
        print(
            f"error: {site.source} is not the lab: --busy saturates every host's CPU for minutes. "
            "Run it in a quiet hour with --yes.",
            file=sys.stderr,
        )
        return 2
    rows = snmp_probe.run_bench(site, args.rounds, args.busy, args.timeout_ms or [0], args.retries)
    print()
    print(snmp_probe.table(rows))
    return 0


def cmd_screenshots(args: argparse.Namespace) -> int:
    from hastack import screenshots

    site = site_or_none(args)
    if site is None:
        return 2
    try:
        written = screenshots.take(site, Path(args.out), args.device)
    except screenshots.ScreenshotError as error:
        print(f"hastack screenshots: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def cmd_ganglia_image(args: argparse.Namespace) -> int:
    """Build the Ganglia image (Debian 12's gmond and gmetad) and save it as an archive."""
    from hastack import lab
    from hastack.lab.images import GANGLIA_IMAGE, GANGLIA_IMAGE_RELEASE

    try:
        lab.ensure_docker()
        image = GANGLIA_IMAGE.ensure(GANGLIA_IMAGE_RELEASE)
    except lab.LabError as error:
        print(f"hastack ganglia-image: {error}", file=sys.stderr)
        return 1
    archive = GANGLIA_IMAGE.archive(GANGLIA_IMAGE_RELEASE)
    print("For hosts whose OS has no Ganglia packages (Debian 13), set in the site's data:")
    print(f"  ganglia_image: {image}")
    print(f"  ganglia_image_archive: {archive}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hastack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="validate a site file and summarise it")
    check.add_argument("site", nargs="?", default="site.yaml", help="site file (default site.yaml)")
    check.set_defaults(func=cmd_check)

    lab = commands.add_parser("lab", help="the local lab: real test hosts in Docker")
    lab_commands = lab.add_subparsers(dest="lab_command", required=True)
    lab_up = lab_commands.add_parser("up", help="build the images if needed and start the lab hosts")
    lab_up.add_argument(
        "--debian",
        type=int,
        choices=[12, 13],
        help="the hosts' Debian release (default: the running lab's, else 13); another than the running "
        "lab's is refused: `hastack lab down` first",
    )
    lab_up.add_argument(
        "--web",
        type=int,
        metavar="N",
        help="how many web hosts (2 to 9; default: as many as the lab has, else 2). More adds hosts; "
        "fewer leaves the others out of the site (the next deploy drains them and removes their bricks)",
    )
    lab_images = lab_commands.add_parser(
        "images", help="build the images a lab of this release runs, where missing, and start no host"
    )
    lab_images.add_argument(
        "--debian", type=int, choices=[12, 13], help="the release (default: HASTACK_LAB_DEBIAN, else 13)"
    )
    lab_commands.add_parser("down", help="remove every container, network and volume of the lab")
    lab_bench = lab_commands.add_parser(
        "bench",
        help="the cost of more web hosts: for each count, a fresh lab, the whole deploy and its "
        "no-op re-run, timed (it brings the lab down first; about 10 minutes a count)",
    )
    lab_bench.add_argument(
        "--web", type=int, nargs="+", default=[2, 3, 4], metavar="N", help="web host counts (default 2 3 4)"
    )
    lab_commands.add_parser("status", help="show each lab host, its addresses and SSH")
    guard = lab_commands.add_parser(
        "guard", help="what the lab's guard dropped (packets to private ranges outside it); exit 1 if any"
    )
    guard.add_argument("--reset", action="store_true", help="set its counter and addresses to nothing")
    ssh = lab_commands.add_parser("ssh", help="open a shell (or run a command) on a lab host")
    ssh.add_argument("host")
    ssh.add_argument("remote_command", nargs=argparse.REMAINDER)
    lab.set_defaults(func=cmd_lab)

    verify = commands.add_parser("verify", help="check the hosts of a site with testinfra; a table per host")
    verify.add_argument("site", nargs="?", help="site file (default: the lab's, else site.yaml)")
    verify.add_argument("--hosts", help="run the per-host checks on these hosts only (comma-separated)")
    verify.add_argument("-k", metavar="EXPR", help="only the checks whose names match (pytest's -k)")
    verify.set_defaults(func=cmd_verify)

    status_parser = commands.add_parser(
        "status", help="one screen of a site's health; exit 0 healthy, 1 degraded, 2 the shop down"
    )
    status_parser.add_argument("site", nargs="?", help="site file (default: the lab's, else site.yaml)")
    status_parser.add_argument("--json", action="store_true", help="the same as JSON, for scripts")
    status_parser.set_defaults(func=cmd_status)

    maint = commands.add_parser(
        "maintenance",
        help="take a proxy or web host out of service with no failed request (on), and back (off)",
        description="hastack maintenance [SITE] HOST on|off. A proxy: the VIP moves to its peer, then "
        "standby. A web host: drained in HAProxy, then its brick stops with no heal pending; off waits "
        "for its heal. Refused, with nothing changed, while the host's peer is not whole.",
    )
    maint.add_argument("words", nargs="+", metavar="[SITE] HOST on|off")
    maint.add_argument(
        "--heal-wait",
        type=float,
        default=600,
        metavar="S",
        help="how long the heal entries may take to drain, before going out and coming back (default 600)",
    )
    maint.set_defaults(func=cmd_maintenance)

    disk_parser = commands.add_parser("disk", help="a web host's RAID-1: replace a disk")
    disk_commands = disk_parser.add_subparsers(dest="disk_command", required=True)
    replace = disk_commands.add_parser(
        "replace",
        help="a new disk into a web host's RAID-1 in place of one failed, gone or failing",
        description="hastack disk replace [SITE] HOST OLD NEW. With the array degraded (OLD failed or "
        "gone), NEW is added and the array rebuilds onto it; with the array whole (OLD failing but in "
        "sync), NEW is copied from OLD while OLD still serves (mdadm --replace). Waits for the rebuild, "
        "then clears OLD's md superblock. Refused, with nothing changed, when NEW is not blank or OLD "
        "is the array's last working disk. Then name NEW in place of OLD in hosts.HOST.disks.",
    )
    replace.add_argument("words", nargs="+", metavar="[SITE] HOST OLD NEW")
    replace.add_argument(
        "--no-wait", action="store_true", help="start the rebuild and return (cat /proc/mdstat shows it)"
    )
    replace.set_defaults(func=cmd_disk)

    backup_parser = commands.add_parser(
        "backup",
        help="back up now: each proxy's Cacti, /cluster, and this machine's secrets of the site (restic)",
    )
    backup_parser.add_argument("site", nargs="?", help="the site file (default: the lab's, else site.yaml)")
    backup_parser.set_defaults(func=cmd_backup)

    restore = commands.add_parser(
        "restore", help="the restore drill (into scratch, compared), or a part of /cluster restored in place"
    )
    restore.add_argument("site", nargs="?", help="the site file (default: the lab's, else site.yaml)")
    restore.add_argument(
        "--drill",
        action="store_true",
        help="restore the newest /cluster snapshot into a scratch folder on a web host and compare each "
        "file's checksum with the live one; load each proxy's Cacti dump into a scratch schema",
    )
    restore.add_argument(
        "--path", metavar="REL", help="restore /cluster/REL in place from the newest snapshot (overwrites)"
    )
    restore.add_argument("--json", action="store_true", help="the report as JSON")
    restore.set_defaults(func=cmd_restore)

    upgrade = commands.add_parser(
        "upgrade",
        help="a rolling OS upgrade: one host at a time, maintenance on, apt full-upgrade, reboot when "
        "required, maintenance off, healthy again; refused on a degraded cluster",
    )
    upgrade.add_argument("site", nargs="?", help="site file (default: the lab's, else site.yaml)")
    upgrade.add_argument("--hosts", help="these proxies and web hosts only (comma-separated; default all)")
    upgrade.add_argument(
        "--reboot",
        choices=["required", "always", "never"],
        default="required",
        help="reboot when the upgrade asks for it (/run/reboot-required: the default), always, or never",
    )
    upgrade.add_argument(
        "--heal-wait", type=float, default=600, metavar="S", help="as for maintenance (default 600)"
    )
    upgrade.set_defaults(func=cmd_upgrade)

    drill = commands.add_parser("drill", help="failures under a stream of requests through the VIP")
    drill.add_argument("site", nargs="?", help="site file (default: the lab's)")
    drill.add_argument(
        "name",
        nargs="?",
        choices=[
            "proxy",
            "haproxy",
            "web",
            "gluster",
            "raid",
            "partition",
            "isolate",
            "stall",
            "loss",
            "web-stall",
            "upgrade",
        ],
        help="one drill (default all but upgrade, which runs by name: a rolling upgrade and reboot)",
    )
    drill.add_argument(
        "--hosts", help="upgrade: these proxies and web hosts (comma-separated; default every one)"
    )
    drill.add_argument("--seconds", type=float, default=40, help="length of each request stream (default 40)")
    drill.add_argument(
        "--rate", type=float, default=50, help="requests a second, each on a new connection (default 50)"
    )
    drill.add_argument(
        "--stalls",
        type=float,
        nargs="+",
        default=[0.5, 1.0, 2.0],
        metavar="S",
        help="stall: how long Corosync is frozen, each in turn (default 0.5 1 2)",
    )
    drill.add_argument(
        "--losses",
        type=int,
        nargs="+",
        default=[5, 10],
        metavar="PERCENT",
        help="loss: the share of Corosync's packets dropped, each in turn, for --seconds (default 5 10)",
    )
    drill.add_argument("--yes", action="store_true", help="run against real servers: it resets hosts")
    drill.set_defaults(func=cmd_drill)

    timers_parser = commands.add_parser(
        "timers",
        help="the lab: each Corosync token against the stall it survives, the gap of a proxy's death "
        "and memberships under 5 %% loss; HAProxy's connect timeout; GlusterFS's ping timeout "
        "(redeploys; long)",
    )
    timers_parser.add_argument(
        "what",
        nargs="?",
        choices=["token", "connect", "ping"],
        default="token",
        help="token (default): Corosync's token; connect: haproxy_timeout_connect against the web and "
        "web-stall drills; ping: gluster_ping_timeout against a frozen and a silent web host",
    )
    timers_parser.add_argument(
        "--timeouts",
        nargs="+",
        metavar="VALUE",
        help="connect: HAProxy times (default 200ms 500ms 1s 2s); ping: seconds (default 2 5 10 42)",
    )
    timers_parser.add_argument("--tokens", type=int, nargs="+", default=[400, 1000, 2000, 3000], metavar="MS")
    timers_parser.add_argument(
        "--loss-seconds", type=float, default=600, help="how long the 5 %% loss lasts (default 600)"
    )
    timers_parser.set_defaults(func=cmd_timers)

    bench = commands.add_parser("bench", help="the seed's ab table: throughput and latency through the VIP")
    bench.add_argument("site", nargs="?", help="site file (default: the lab's, else site.yaml)")
    bench.add_argument("--requests", type=int, default=32000, help="requests per ab run (default 32000)")
    bench.add_argument("--concurrency", default="30,60,120,240", help="ab -c values (default 30,60,120,240)")
    bench.add_argument(
        "--chart", default="bench.png", help="where to write the PNG chart (default bench.png)"
    )
    bench.set_defaults(func=cmd_bench)

    soak = commands.add_parser(
        "soak",
        help="no false failover: ab -c 240 through the VIP, then with the active proxy's CPU saturated",
    )
    soak.add_argument("site", nargs="?", help="site file (default: the lab's, else site.yaml)")
    soak.add_argument("--seconds", type=float, default=600, help="length of each phase (default 600)")
    soak.set_defaults(func=cmd_soak)

    snmp = commands.add_parser(
        "snmp-bench",
        help="Cacti's availability check and a GET of every device, timed from a proxy (idle, --busy)",
    )
    snmp.add_argument("site", nargs="?", help="site file (default: the lab's, else site.yaml)")
    snmp.add_argument("--rounds", type=int, default=20, help="checks of every device (default 20)")
    snmp.add_argument("--busy", action="store_true", help="again with every host's CPU saturated")
    snmp.add_argument(
        "--timeout-ms", type=milliseconds, help="timeouts to try, comma-separated (default: the site's)"
    )
    snmp.add_argument("--retries", type=int, help="retries to try (default: the site's)")
    snmp.add_argument("--yes", action="store_true", help="--busy against real servers")
    snmp.set_defaults(func=cmd_snmp_bench)

    ganglia = commands.add_parser(
        "ganglia-image",
        help="build the image of gmond and gmetad from Debian 12's packages (as root: debootstrap, Docker)",
    )
    ganglia.set_defaults(func=cmd_ganglia_image)

    shots = commands.add_parser(
        "screenshots", help="Ganglia's cluster page and a device's Cacti graphs as PNG (headless Chromium)"
    )
    shots.add_argument("site", nargs="?", help="site file (default: the lab's, else site.yaml)")
    shots.add_argument("--out", default="docs", help="folder for the PNG files (default docs)")
    shots.add_argument("--device", default="web1", help="whose Cacti graphs (default web1)")
    shots.set_defaults(func=cmd_screenshots)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
