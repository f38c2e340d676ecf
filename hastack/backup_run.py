"""``hastack backup`` and ``hastack restore`` from the machine that runs pyinfra: each host's
backup script (templates/backup/hastack-backup.py) run over SSH, the controller's secrets streamed
to a web host's restic. What is backed up where: hastack/backup.py."""

from __future__ import annotations

import json
import shlex
import sys

from hastack.backup import CACTI, CLUSTER, SCRIPT, SECRETS, jobs, secrets_tar, sha256


def _site_repository(site) -> str:
    values = {site.setting("backup_repository", spec) for spec in site.hosts.values()}
    values.discard("")
    return sorted(values)[0] if values else ""


def _hosts_doing(site, job: str) -> list[str]:
    return [
        spec.name
        for spec in site.hosts.values()
        if job in jobs(spec.role, site.setting("monitoring_enabled", spec))
        and site.setting("backup_repository", spec)
    ]


def _result(output: str) -> dict:
    """The script's last JSON line (its report), else the output as an error."""
    for line in reversed(output.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    return {"ok": False, "error": output.strip()[-600:] or "no output"}


# A first backup of a large shop takes hours: as long as the hosts' unit allows (6 h).
BACKUP_TIMEOUT_S = 6 * 3600


def run_backup(site, out=sys.stdout) -> int:
    """Back up now: /cluster from the first web host that succeeds (the repository made there
    when there is none), each proxy's Cacti, then the controller's secrets through that web host.
    A table; exit 1 when any part failed, naming it."""
    from hastack.ssh import SiteHosts

    if not _site_repository(site):
        print(
            "backup_repository is empty: no backups. Set it under data: (docs/operations.md)", file=sys.stderr
        )
        return 2
    hosts = SiteHosts(site, timeout=BACKUP_TIMEOUT_S)
    rows: list[tuple[str, str, dict]] = []
    try:
        through = None
        for name in _hosts_doing(site, CLUSTER):
            status, output = hosts.run(name, f"{SCRIPT} --force --init")
            answered = status != 255
            result = _result(output) if answered else {"ok": False, "error": f"does not answer: {output}"}
            rows.append((CLUSTER, name, result))
            if result.get("ok"):
                through = name
                break
        if not rows:
            rows.append((CLUSTER, "-", {"ok": False, "error": "no web host backs up"}))
        for name in _hosts_doing(site, CACTI):
            status, output = hosts.run(name, f"{SCRIPT} --force")
            rows.append((CACTI, name, _result(output) if status != 255 else {"ok": False, "error": output}))
        if through is None:
            rows.append((SECRETS, "controller", {"ok": False, "error": "no web host reached the repository"}))
        else:
            data = secrets_tar(site.cluster)
            name = f"secrets-{site.cluster}.tar"
            status, output = hosts.feed(through, f"{SCRIPT} --stdin {name} --sha256 {sha256(data)}", data)
            rows.append((SECRETS, f"controller via {through}", _result(output)))
    finally:
        hosts.close()
    print(f"{'what':<9} {'from':<24} {'snapshot':<10} {'files':>7} {'MB':>9}  result", file=out)
    failed = 0
    for what, name, result in rows:
        ok = result.get("ok")
        failed += not ok
        note = result.get("note") or (
            "ok" if ok else "FAILED: " + str(result.get("error", "")).replace("\n", " ")
        )
        if result.get("warning"):
            # a snapshot made, some files unreadable (restic's exit 3): kept, and said
            note += f" (incomplete: {result['warning']})"
        size = result.get("bytes")
        megabytes = f"{size / 1e6:.1f}" if size is not None else "-"
        print(
            f"{what:<9} {name:<24} {str(result.get('snapshot') or '-')[:8]:<10} "
            f"{result.get('files', '-')!s:>7} {megabytes:>9}  {note}",
            file=out,
        )
    print(f"repository: {_site_repository(site)}", file=out)
    return 1 if failed else 0


def run_restore(site, drill: bool, path: str | None, as_json: bool = False, out=sys.stdout) -> int:
    """``--drill``: the newest /cluster snapshot restored into a scratch folder on the first web
    host and compared with the live content by checksum; each proxy's Cacti dump loaded into a
    scratch schema and its devices counted. ``--path REL``: REL restored into /cluster."""
    from hastack.ssh import SiteHosts

    if not _site_repository(site):
        print("backup_repository is empty: nothing to restore from", file=sys.stderr)
        return 2
    hosts = SiteHosts(site, timeout=BACKUP_TIMEOUT_S)
    report: dict[str, dict] = {}
    try:
        web = [name for name in _hosts_doing(site, CLUSTER) if hosts.connect(name) is not None]
        if not web:
            print("no web host answers: " + "; ".join(hosts.errors.values()), file=sys.stderr)
            return 1
        if path is not None:
            status, output = hosts.run(web[0], f"{SCRIPT} --restore-path {shlex.quote(path)}")
            report[f"restore {path.strip('/')} on {web[0]}"] = _result(output)
        if drill:
            status, output = hosts.run(web[0], f"{SCRIPT} --drill")
            report[f"cluster drill on {web[0]}"] = _result(output)
            for name in _hosts_doing(site, CACTI):
                status, output = hosts.run(name, f"{SCRIPT} --drill")
                report[f"cacti drill on {name}"] = _result(output)
    finally:
        hosts.close()
    if as_json:
        print(json.dumps(report, indent=2), file=out)
    else:
        for what, result in report.items():
            verdict = "ok" if result.get("ok") else "FAILED"
            detail = result.get("note") or result.get("error", "")
            print(f"{what}: {verdict}: {detail}", file=out)
    return 0 if all(result.get("ok") for result in report.values()) else 1
