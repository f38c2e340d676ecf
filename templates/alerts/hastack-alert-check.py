#!/usr/bin/python3
"""hastack's periodic check (installed by hastack, templates/alerts/hastack-alert-check.py).

Run by hastack-alert-check.timer. Reads its settings from /etc/hastack/alert-check.json, finds
what is wrong on this host (and, on the one GlusterFS host that reports for the volume, in the
volume), and mails root (nullmailer's adminaddr: the site's alert_mail_to) once when a problem
appears and once when it clears. What was mailed is kept in the state folder, so a mail that
could not be queued is tried again at the next run.

Standard library only: it runs on every host of the site.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from email.message import EmailMessage
from email.utils import formatdate

CONFIG = "/etc/hastack/alert-check.json"
# Filesystems on disks: their fullness is checked (not tmpfs, overlays, network mounts).
DISK_FILESYSTEMS = {"ext2", "ext3", "ext4", "xfs", "btrfs"}


def run(command: list[str], timeout: float = 60) -> tuple[int, str]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return 1, str(error)
    return done.returncode, done.stdout + done.stderr


def volume_bricks(info_xml: str) -> list[str]:
    """``gluster --xml volume info VOL``: its bricks (host:path) in the volume's order."""
    bricks = ET.fromstring(info_xml).iter("brick")
    return [name.strip() for name in ((b.findtext("name") or b.text or "") for b in bricks) if name.strip()]


def bricks_online(status_xml: str) -> set[str]:
    """``gluster --xml volume status VOL``: the bricks (host:path) whose process is online. A
    brick of a peer that is not connected is not listed at all."""
    return {
        f"{node.findtext('hostname')}:{node.findtext('path')}"
        for node in ET.fromstring(status_xml).iter("node")
        if node.findtext("status") == "1" and (node.findtext("path") or "").startswith("/")
    }


def heal_counts(summary: str) -> dict[str, tuple[str, str]]:
    """``gluster volume heal VOL info summary``: each brick's (entries, split-brain entries);
    "-" where the brick did not answer."""
    counts = {}
    for block in re.split(r"^Brick ", summary, flags=re.MULTILINE)[1:]:
        brick = block.split("\n", 1)[0].strip()
        total = re.search(r"Total Number of entries:\s*(\S+)", block)
        split = re.search(r"Number of entries in split-brain:\s*(\S+)", block)
        counts[brick] = (total.group(1) if total else "-", split.group(1) if split else "-")
    return counts


def reporter(bricks: list[str], online: set[str]) -> str | None:
    """The host that reports for the volume: the first in the volume's order whose brick is
    online (every host computes the same from the same view, so one mail, not three)."""
    return next((brick.split(":", 1)[0] for brick in bricks if brick in online), None)


def volume_problems(me: str, volume: str, state: dict, now: float, stuck_minutes: int) -> dict[str, str]:
    code, info = run(["gluster", "--xml", "volume", "info", volume])
    if code != 0:
        why = info.strip()[:200]
        return {"glusterd": f"glusterd on {me} does not answer (`gluster volume info {volume}`: {why})"}
    code, status = run(["gluster", "--xml", "volume", "status", volume])
    if code != 0:
        return {"glusterd": f"`gluster volume status {volume}` fails on {me}: {status.strip()[:200]}"}
    bricks, online = volume_bricks(info), bricks_online(status)
    if reporter(bricks, online) != me:
        return {}
    found = {
        f"brick {brick}": f"GlusterFS brick {brick} of volume {volume} is offline "
        f"(`gluster volume status {volume}`; `hastack maintenance {brick.split(':')[0]} off` brings it back, "
        f"or `gluster volume start {volume} force` once its host is up)"
        for brick in bricks
        if brick not in online
    }
    code, summary = run(["gluster", "volume", "heal", volume, "info", "summary"], timeout=120)
    counts = heal_counts(summary) if code == 0 else {}
    pending = sum(int(total) for total, _ in counts.values() if total.isdigit())
    split = sum(int(entries) for _, entries in counts.values() if entries.isdigit())
    if split:
        found["split-brain"] = (
            f"{split} split-brain entries on volume {volume}: no copy is chosen by itself "
            f"(`gluster volume heal {volume} info split-brain` lists them; pick a copy with "
            f"`gluster volume heal {volume} split-brain ...`)"
        )
    since = state.get("heal_pending_since")
    if pending:
        since = since or now
        if now - since >= stuck_minutes * 60:
            found["heal stuck"] = (
                f"{pending} heal entries pending on volume {volume} for {int((now - since) // 60)} min "
                f"(more than {stuck_minutes}): `gluster volume heal {volume} info` names them"
            )
    else:
        since = None
    state["heal_pending_since"] = since
    return found


def disk_problems(percent: int, mounts: str) -> dict[str, str]:
    found = {}
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3 or fields[2] not in DISK_FILESYSTEMS:
            continue
        where = fields[1].replace("\\040", " ")
        try:
            stat = os.statvfs(where)
        except OSError:
            continue
        used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
        usable = used + stat.f_bavail * stat.f_frsize
        if usable and -(-used * 100 // usable) > percent:
            found[f"disk {where}"] = (
                f"{where} is {-(-used * 100 // usable)} % full (more than {percent} %): "
                f"`du -xsh {where}/*` shows where"
            )
    return found


def certificate_problems(path: str, warn_days: int) -> dict[str, str]:
    if not path or not os.path.exists(path):
        return {}
    code, _ = run(["openssl", "x509", "-noout", "-checkend", str(warn_days * 86400), "-in", path])
    if code == 0:
        return {}
    _, end = run(["openssl", "x509", "-noout", "-enddate", "-in", path])
    return {
        "certificate": f"the shop's certificate {path} ends within {warn_days} days "
        f"({end.strip()}): a deploy of the proxies renews the site CA's; renew a supplied one"
    }


def transitions(state: dict, found: dict[str, str], now: float) -> tuple[dict, dict, dict]:
    """(new problems, cleared problems, the problems to keep): against what was mailed."""
    known = state.get("problems", {})
    new = {key: text for key, text in found.items() if key not in known}
    cleared = {key: entry["text"] for key, entry in known.items() if key not in found}
    keep = {key: known.get(key, {"text": text, "since": now}) for key, text in found.items()}
    return new, cleared, keep


def message(config: dict, new: dict, cleared: dict) -> EmailMessage:
    me, cluster = config["host"], config["cluster"]
    first = next(iter(new.values()), None) or next(iter(cleared.values()))
    word = "PROBLEM" if new else "RECOVERED"
    more = len(new) + len(cleared) - 1
    mail = EmailMessage()
    mail["Subject"] = f"[hastack {cluster}] {me}: {word}: {first[:150]}" + (
        f" (+{more} more)" if more else ""
    )
    mail["To"] = config["mail_to"]
    if config.get("mail_from"):
        mail["From"] = config["mail_from"]
    mail["Date"] = formatdate(localtime=True)
    lines = [f"hastack's check on {me} (cluster {cluster}) at {time.strftime('%Y-%m-%d %H:%M:%S %Z')}:", ""]
    lines += [f"PROBLEM: {text}" for text in new.values()]
    lines += [f"RECOVERED: {text}" for text in cleared.values()]
    lines += [
        "",
        f"`hastack status` shows the whole cluster; `systemctl status {config['unit']}` this check.",
    ]
    mail.set_content("\n".join(lines) + "\n")
    return mail


def send(mail: EmailMessage) -> bool:
    try:
        done = subprocess.run(
            ["/usr/sbin/sendmail", "-t", "-i"],
            input=mail.as_bytes(),
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        print(f"sendmail: {error}", file=sys.stderr)
        return False
    if done.returncode != 0:
        print(f"sendmail exited {done.returncode}: {done.stderr.decode(errors='replace')}", file=sys.stderr)
    return done.returncode == 0


def main() -> int:
    with open(CONFIG) as handle:
        config = json.load(handle)
    state_file = os.path.join(config["state_dir"], "state.json")
    try:
        with open(state_file) as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        state = {}
    now = time.time()
    found: dict[str, str] = {}
    if config.get("volume"):
        found.update(
            volume_problems(config["host"], config["volume"], state, now, config["heal_stuck_minutes"])
        )
    with open("/proc/self/mounts") as handle:
        found.update(disk_problems(config["disk_percent"], handle.read()))
    found.update(certificate_problems(config.get("certificate") or "", config["warn_days"]))
    new, cleared, keep = transitions(state, found, now)
    for key, text in found.items():
        print(f"{'new: ' if key in new else ''}{text}")
    for text in cleared.values():
        print(f"cleared: {text}")
    if (new or cleared) and not send(message(config, new, cleared)):
        # What was mailed stays as it was: the change is mailed at the next run.
        write_state(state_file, state)
        return 1
    state["problems"] = keep
    write_state(state_file, state)
    return 0


def write_state(path: str, state: dict) -> None:
    temporary = f"{path}.new"
    with open(temporary, "w") as handle:
        json.dump(state, handle, indent=1, sort_keys=True)
    os.replace(temporary, path)


if __name__ == "__main__":
    sys.exit(main())
