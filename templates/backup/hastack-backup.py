#!/usr/bin/python3
"""hastack's backups on this host with restic (managed by hastack: templates/backup/).

  hastack-backup                 what this host backs up (/etc/hastack/backup/config.json: jobs);
                                 /cluster is skipped when another web host took it lately
  hastack-backup --force         the same, never skipped (hastack backup)
  hastack-backup --init          make the repository when there is none (the deploy, hastack backup)
  hastack-backup --stdin NAME --sha256 HEX
                                 standard input as one file NAME (the controller's secrets), read
                                 back and compared with HEX
  hastack-backup --drill         the newest snapshot restored into scratch and compared
  hastack-backup --restore-path REL
                                 /cluster/REL restored in place from the newest snapshot

The last line printed is a JSON report. Run by its timer, a failure is mailed to root.
By hand: hastack-restic snapshots (restic with this site's repository)
"""

import argparse
import datetime
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

CONFIG = "/etc/hastack/backup/config.json"
LOCK = "/run/hastack-backup.lock"
# The volume's mount (gluster_mount_point): config.json's "mount"
MOUNT = "/cluster"
SCRATCH_SCHEMA = "hastack_restore_drill"
CACTI_DB = "cacti"


class Failed(Exception):
    pass


def load():
    with open(CONFIG) as handle:
        return json.load(handle)


def restic_base(config):
    base = [
        "restic",
        "--repo",
        config["repository"],
        "--password-file",
        config["password_file"],
        "--cache-dir",
        config["cache_dir"],
    ]
    if config.get("sftp_command"):
        base += ["--option", "sftp.command=" + config["sftp_command"]]
    return base


# Another host's run holds the repository's lock (a prune is exclusive): wait, then try again.
LOCK_WAIT_S, LOCK_TRIES = 60, 30


def restic(config, *args, input_bytes=None, check=True, partial=False):
    """restic with the site's repository. A lock held by another run is waited for; a stale one
    (its host died or was fenced mid-prune: restic never skips those) is cleared first by
    ``restic unlock``, which removes only locks older than 30 minutes or of a process gone from
    this host. ``partial``: exit 3 (a snapshot made, some files unreadable) is no failure."""
    for attempt in range(LOCK_TRIES):
        done = subprocess.run(restic_base(config) + list(args), input=input_bytes, capture_output=True)
        if done.returncode == 0 or b"already locked" not in done.stderr:
            break
        if attempt == 0:
            subprocess.run(restic_base(config) + ["unlock"], capture_output=True)
            continue
        time.sleep(LOCK_WAIT_S)
    if check and done.returncode != 0 and not (partial and done.returncode == 3):
        command = next((arg for arg in args if not arg.startswith("-")), args[0])
        raise Failed(f"restic {command}: {brief(done.stderr)}")
    return done


def unreadable(done):
    """What a backup that exited 3 could not read (for the report and the mail), else None."""
    if done.returncode != 3:
        return None
    return "some files could not be read: " + brief(done.stderr)


def ensure_repository(config, create):
    """The repository there. Made only when ``create`` (hastack backup, the deploy's first web
    host: one host, once), never by a timer, a drill or a restore: a backup disk that is not
    mounted, a mistyped name or two hosts at once would each make a repository of their own. A
    folder repository is made only on a filesystem other than the root one (the backup disk)."""
    repository = config["repository"]
    opened = restic(config, "--no-lock", "cat", "config", check=False)
    if opened.returncode == 0:
        return
    why = brief(opened.stderr)
    # restic 0.17+ exits 10 for "no repository there"; 0.14 says so in words, on lines of its own
    # (0.14 adds "Is there a repository" to any failure to read the config: not a sign)
    said = opened.stderr.decode(errors="replace")
    absent = opened.returncode == 10 or (
        opened.returncode == 1
        and re.search(r"unable to open config file: .*(no such file or directory|file does not exist)", said)
    )
    if not absent:
        raise Failed(f"cannot open the repository {repository}: {why}")
    if not create:
        raise Failed(f"no repository at {repository}: `hastack backup` makes it (a deploy does too)")
    if repository.startswith("/"):
        # the folder itself when it is there (a mount point), else its parent
        where = repository if os.path.isdir(repository) else os.path.dirname(repository.rstrip("/")) or "/"
        if not os.path.isdir(where) or os.stat(where).st_dev == os.stat("/").st_dev:
            raise Failed(
                f"{where} is not on a filesystem of its own (or missing): mount the backup disk "
                "there; hastack makes no repository on the root filesystem"
            )
    made = restic(config, "init", check=False)
    if made.returncode != 0:
        raise Failed(f"no repository at {repository}, and restic cannot make one: {brief(made.stderr)}")


def brief(stderr):
    """restic's error in a line or two: its ssh's complaint and its Fatal line."""
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    picked = [line for line in lines if line.startswith(("subprocess ssh:", "Fatal:", "ssh:"))] or lines[-2:]
    return " / ".join(picked[:2])[:600]


def back_up(config, tag, host, *what, **options):
    """One snapshot of ``what`` in the series (tag, host), restic's progress kept out (--quiet:
    its summary line still comes): (restic's result, snapshot, files, bytes)."""
    done = restic(config, "backup", "--quiet", "--json", "--tag", tag, "--host", host, *what, **options)
    return (done, *summary(done))


def summary(done):
    """restic backup --json's summary line: (snapshot, files, bytes)."""
    for line in reversed(done.stdout.decode(errors="replace").splitlines()):
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("message_type") == "summary":
            return (
                message.get("snapshot_id"),
                message.get("total_files_processed"),
                message.get("total_bytes_processed"),
            )
    raise Failed("restic backup printed no summary")


def iso(text):
    """restic's time in the form every Python's fromisoformat reads: six fractional digits
    exactly (Python 3.10, Ubuntu 22.04's, takes no other count; Go drops trailing zeros), and
    +00:00 for Z."""
    return re.sub(r"\.(\d+)", lambda m: "." + (m[1] + "000000")[:6], text).replace("Z", "+00:00")


def when(text):
    """restic's time (nanoseconds, Z or an offset) as an aware datetime."""
    return datetime.datetime.fromisoformat(iso(text))


def snapshots(config, *filters):
    done = restic(config, "--no-lock", "snapshots", "--json", *filters)
    return sorted(json.loads(done.stdout or b"[]") or [], key=lambda snap: when(snap["time"]))


def mounted(path):
    return subprocess.run(["mountpoint", "-q", path]).returncode == 0


def backup_cluster(config, force):
    if not mounted(MOUNT):
        raise Failed(f"{MOUNT} is not mounted: nothing backed up (an empty folder is not the shop)")
    if not force:
        latest = snapshots(config, "--tag", "cluster")
        if latest:
            # timezone.utc: the hosts' Python may be 3.10 (Ubuntu 22.04)
            age = datetime.datetime.now(datetime.timezone.utc) - when(latest[-1]["time"])  # noqa: UP017
            if age < datetime.timedelta(hours=config["fresh_hours"]):
                minutes = int(age.total_seconds() // 60)
                return {
                    "ok": True,
                    "snapshot": latest[-1]["short_id"],
                    "note": f"skipped: the newest snapshot of {MOUNT} is {minutes} min old",
                }
        busy = peer_at_work(config)
        if busy:
            return {"ok": True, "note": f"skipped: {busy} is backing up {MOUNT} now"}
    done, snapshot, files, size = back_up(config, "cluster", config["cluster"], MOUNT, partial=True)
    forget(config, "cluster", config["cluster"])
    return {"ok": True, "snapshot": snapshot, "files": files, "bytes": size, "warning": unreadable(done)}


def peer_at_work(config):
    """Another web host whose backup holds a lock on the repository now (a lock younger than the
    unit's 6 hours): its /cluster snapshot is on its way, so this host's timer skips."""
    listed = restic(config, "--no-lock", "list", "locks", check=False)
    now = datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017
    for lock_id in listed.stdout.decode(errors="replace").split():
        shown = restic(config, "--no-lock", "cat", "lock", lock_id, check=False)
        try:
            lock = json.loads(shown.stdout or b"{}")
            taken = when(lock["time"])
        except (ValueError, KeyError):
            continue
        other = lock.get("hostname", "")
        peer = other != config["host"] and other in config.get("peers", [])
        if peer and now - taken < datetime.timedelta(hours=6):
            return other
    return None


def forget(config, tag, host):
    """The retention of one series (tag, host), applied by the host that adds to it: each series
    keeps its own days, weeks and months, whichever host's disk or server holds it."""
    keep = config["keep"]
    restic(
        config,
        "forget",
        "--prune",
        "--tag",
        tag,
        "--host",
        host,
        "--keep-daily",
        str(keep["daily"]),
        "--keep-weekly",
        str(keep["weekly"]),
        "--keep-monthly",
        str(keep["monthly"]),
    )


def dump_tool(*names):
    for name in names:
        if shutil.which(name):
            return name
    raise Failed(f"none of {', '.join(names)} is installed")


def cacti_dump(config):
    return os.path.join(config["dump_dir"], f"cacti-{config['host']}.sql")


def backup_cacti(config):
    os.makedirs(config["dump_dir"], mode=0o700, exist_ok=True)
    target = cacti_dump(config)
    partial = target + ".partial"
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        done = subprocess.run(
            [dump_tool("mariadb-dump", "mysqldump"), "--single-transaction", "--routines", CACTI_DB],
            stdout=handle,
            stderr=subprocess.PIPE,
        )
    if done.returncode != 0:
        os.unlink(partial)
        raise Failed("mariadb-dump: " + done.stderr.decode(errors="replace").strip()[-500:])
    os.replace(partial, target)
    _, snapshot, files, size = back_up(config, "cacti", config["host"], target)
    forget(config, "cacti", config["host"])
    return {"ok": True, "snapshot": snapshot, "files": files, "bytes": size}


def backup_stdin(config, name, expected):
    data = sys.stdin.buffer.read()
    if hashlib.sha256(data).hexdigest() != expected:
        raise Failed(f"{name} arrived damaged or cut short ({len(data)} bytes): nothing kept")
    _, snapshot, files, size = back_up(
        config, "secrets", "controller", "--stdin", "--stdin-filename", name, input_bytes=data
    )
    back = restic(config, "dump", snapshot, "/" + name)
    if hashlib.sha256(back.stdout).hexdigest() != expected:
        restic(config, "forget", snapshot)
        raise Failed(f"{name} read back from snapshot {snapshot} differs: the snapshot was removed")
    forget(config, "secrets", "controller")
    return {
        "ok": True,
        "snapshot": snapshot,
        "files": files,
        "bytes": size,
        "note": "ok, read back: same checksum",
    }


def digest(path):
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def check_repository(config):
    """restic check: the repository's structure (not every pack's data: that reads it all)."""
    restic(config, "check")


def drill_cluster(config):
    """The newest /cluster snapshot restored into scratch, each file compared with the live one:
    missing (gone from the live content), different (same or older time, other bytes: a backup
    that would restore wrong), changed since (the live file is newer than the snapshot)."""
    latest = snapshots(config, "--tag", "cluster")
    if not latest:
        raise Failed("no snapshot of /cluster yet: run hastack backup first")
    snap = latest[-1]
    check_repository(config)
    taken = when(snap["time"]).timestamp()
    # what the restore writes: the snapshot's own size (restic stats' restore-size), not the
    # used space of the filesystem under /cluster, which holds more than the shop where the
    # bricks share a disk with anything else
    stats = restic(config, "--no-lock", "stats", "--json", snap["id"])
    try:
        sizes = json.loads(stats.stdout)
        # each file takes a block at least on the scratch filesystem (many small files: a shop)
        needed = int(sizes["total_size"]) + 4096 * int(sizes.get("total_file_count") or 0)
    except (ValueError, KeyError, TypeError):
        raise Failed(
            f"restic stats said no size for snapshot {snap['short_id']}: {stats.stdout[:200]!r}"
        ) from None
    scratch_root = "/var/tmp"
    room = os.statvfs(scratch_root)
    free = room.f_bavail * room.f_frsize
    if needed > 0.8 * free:
        raise Failed(
            f"{scratch_root} has {free / 2**20:.1f} MiB free, snapshot {snap['short_id']} restores "
            f"{needed / 2**20:.1f} MiB: free room there for the drill (it needs a fifth to spare)"
        )
    scratch = tempfile.mkdtemp(prefix="hastack-restore-drill-", dir=scratch_root)
    try:
        restic(config, "restore", snap["id"], "--target", scratch)
        restored = os.path.join(scratch, MOUNT.lstrip("/"))
        counts = {"files": 0, "missing": 0, "different": 0, "changed_since": 0}
        examples = {"missing": [], "different": []}
        for folder, _, names in os.walk(restored):
            for name in names:
                path = os.path.join(folder, name)
                if os.path.islink(path):
                    continue
                relative = os.path.relpath(path, restored)
                counts["files"] += 1
                current = os.path.join(MOUNT, relative)
                if not os.path.exists(current):
                    counts["missing"] += 1
                    examples["missing"].append(relative)
                elif digest(current) != digest(path):
                    if os.stat(current).st_mtime > taken:
                        counts["changed_since"] += 1
                    else:
                        counts["different"] += 1
                        examples["different"].append(relative)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    note = (
        f"repository checked; snapshot {snap['short_id']} of {snap['time'][:19]}Z: "
        f"{counts['files']} files restored; "
        f"{counts['missing']} missing, {counts['different']} different from the live {MOUNT}, "
        f"{counts['changed_since']} changed since"
    )
    if counts["missing"] or counts["different"]:
        shown = ", ".join((examples["missing"] + examples["different"])[:5])
        note += f" (for example {shown}; a file deleted since the backup shows as missing)"
    return {
        "ok": counts["different"] == 0 and counts["missing"] == 0,
        "snapshot": snap["short_id"],
        **counts,
        "note": note,
    }


def mariadb(sql, database=None):
    command = [dump_tool("mariadb", "mysql"), "--batch", "--skip-column-names"]
    done = subprocess.run(command + ([database] if database else []) + ["-e", sql], capture_output=True)
    if done.returncode != 0:
        raise Failed("mariadb: " + done.stderr.decode(errors="replace").strip()[-500:])
    return done.stdout.decode().strip()


def drill_cacti(config):
    """The newest Cacti dump loaded into a scratch schema; its devices counted against the live
    database's; the schema dropped."""
    target = cacti_dump(config)
    latest = snapshots(config, "--tag", "cacti", "--host", config["host"])
    if not latest:
        raise Failed(f"no snapshot of {config['host']}'s Cacti yet: run hastack backup first")
    snap = latest[-1]
    dumped = restic(config, "dump", snap["id"], target)
    mariadb(f"DROP DATABASE IF EXISTS {SCRATCH_SCHEMA}; CREATE DATABASE {SCRATCH_SCHEMA}")
    try:
        loaded = subprocess.run(
            [dump_tool("mariadb", "mysql"), SCRATCH_SCHEMA], input=dumped.stdout, capture_output=True
        )
        if loaded.returncode != 0:
            raise Failed("loading the dump: " + loaded.stderr.decode(errors="replace").strip()[-500:])
        restored = int(mariadb("SELECT COUNT(*) FROM host", SCRATCH_SCHEMA))
        live = int(mariadb("SELECT COUNT(*) FROM host", CACTI_DB))
    finally:
        mariadb(f"DROP DATABASE IF EXISTS {SCRATCH_SCHEMA}")
    return {
        "ok": restored > 0 and restored == live,
        "snapshot": snap["short_id"],
        "devices": restored,
        "live_devices": live,
        "note": f"snapshot {snap['short_id']} loaded into a scratch schema: {restored} devices "
        f"(live: {live})",
    }


def restore_path(config, relative):
    relative = relative.strip("/")
    if not relative or ".." in relative.split("/") or re.search(r"[*?\[\\]", relative):
        raise Failed(f"{relative!r}: give a path inside {MOUNT} (no pattern), like images/2026")
    if not mounted(MOUNT):
        raise Failed(f"{MOUNT} is not mounted: nothing restored")
    latest = snapshots(config, "--tag", "cluster")
    if not latest:
        raise Failed("no snapshot of /cluster yet")
    snap = latest[-1]
    listed = restic(config, "--no-lock", "ls", "--json", snap["id"], f"{MOUNT}/{relative}")
    entries = [line for line in listed.stdout.splitlines() if b'"struct_type":"node"' in line]
    if not entries:
        raise Failed(f"snapshot {snap['short_id']} holds no {MOUNT}/{relative}: nothing restored")
    restic(config, "restore", snap["id"], "--target", "/", "--include", f"{MOUNT}/{relative}")
    return {
        "ok": True,
        "snapshot": snap["short_id"],
        "note": f"{MOUNT}/{relative} restored from {snap['short_id']} ({len(entries)} entries; "
        "files added since the snapshot stay)",
    }


def mail(config, text, what="backup FAILED"):
    if not shutil.which("sendmail") and not os.path.exists("/usr/sbin/sendmail"):
        return
    message = (
        f"Subject: hastack {config['cluster']}: {what} on {config['host']}\n"
        f"To: root\n\n{text}\n\nThe unit's log: journalctl -u hastack-backup.service\n"
    )
    subprocess.run(["/usr/sbin/sendmail", "-t"], input=message.encode(), check=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--init", action="store_true", help="make the repository when there is none")
    parser.add_argument("--stdin")
    parser.add_argument("--sha256")
    parser.add_argument("--drill", action="store_true")
    parser.add_argument("--restore-path")
    parser.add_argument("--timer", action="store_true", help="run by the timer: a failure is mailed")
    args = parser.parse_args()
    config = load()
    global MOUNT
    MOUNT = config.get("mount") or MOUNT
    os.environ["TMPDIR"] = "/var/tmp"
    reports = []
    with open(LOCK, "w") as lock:
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise Failed("another hastack-backup runs on this host: try again when it ends") from None
            ensure_repository(config, create=args.init)
            if args.stdin:
                reports.append(backup_stdin(config, args.stdin, args.sha256))
            elif args.drill:
                for job in config["jobs"]:
                    reports.append(drill_cluster(config) if job == "cluster" else drill_cacti(config))
            elif args.restore_path is not None:
                reports.append(restore_path(config, args.restore_path))
            elif not (args.init and not args.force):
                for job in config["jobs"]:
                    reports.append(
                        backup_cluster(config, args.force) if job == "cluster" else backup_cacti(config)
                    )
            else:
                reports.append({"ok": True, "note": f"repository ready: {config['repository']}"})
        except Exception as error:  # noqa: BLE001 - any failure is reported, and mailed from the timer
            text = str(error) if isinstance(error, Failed) else f"{type(error).__name__}: {error}"
            reports.append({"ok": False, "error": text})
            if args.timer:
                mail(config, text)
    warnings = [report["warning"] for report in reports if report.get("warning")]
    if warnings and args.timer:
        mail(config, "; ".join(warnings), "backup incomplete")
    for report in reports:
        print(json.dumps(report))
    return 0 if reports and all(report["ok"] for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
