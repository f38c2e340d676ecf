"""The ``hastack`` command."""

from __future__ import annotations

import argparse
import sys

from hastack.site import SiteError, load_site


def cmd_check(args: argparse.Namespace) -> int:
    try:
        site = load_site(args.site)
    except SiteError as error:
        print(error.report(), file=sys.stderr)
        return 2
    print(site.summary())
    print("ok: the site file is valid")
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    from hastack import lab

    return lab.main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hastack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="validate a site file and summarise it")
    check.add_argument("site", nargs="?", default="site.yaml", help="site file (default site.yaml)")
    check.set_defaults(func=cmd_check)

    lab = commands.add_parser("lab", help="the local lab: real test hosts in Docker")
    lab_commands = lab.add_subparsers(dest="lab_command", required=True)
    lab_commands.add_parser("up", help="build the image if needed and start the lab hosts")
    lab_commands.add_parser("down", help="remove every container, network and volume of the lab")
    lab_commands.add_parser("status", help="show each lab host, its addresses and SSH")
    ssh = lab_commands.add_parser("ssh", help="open a shell (or run a command) on a lab host")
    ssh.add_argument("host")
    ssh.add_argument("remote_command", nargs=argparse.REMAINDER)
    lab.set_defaults(func=cmd_lab)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
