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
import random
import re
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from email.message import EmailMessage
from email.utils import formatdate

CONFIG = "/etc/hastack/alert-check.json"
# Filesystems on disks: their fullness is checked (not tmpfs, overlays, network mounts).
DISK_FILESYSTEMS = {"ext2", "ext3", "ext4", "xfs", "btrfs"}


def run(command: list[str], timeout: float = 60) -> tuple[int, str, str]:
    """(exit code, stdout, stderr); 127 when the program is missing, 124 on a timeout."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as error:
        return 127, "", str(error)
    except (OSError, subprocess.TimeoutExpired) as error:
        return 124, "", str(error)
    return done.returncode, done.stdout, done.stderr


def gluster(args: list[str], timeout: float = 60, tries: int = 4) -> tuple[int, str, str]:
    """A gluster command, tried again after a pause when it fails: glusterd takes a cluster-wide
    lock for each one, and a peer's (another host's check, `hastack status`, a deploy) makes it
    fail with "Another transaction is in progress"."""
    for attempt in range(tries):
        code, out, err = run(["gluster", *args], timeout)
        if code in (0, 127):
            return code, out, err
        if attempt + 1 < tries:
            time.sleep(2 + random.random() * 4)
    return code, out, err


def volume_bricks(info_xml: str) -> list[str]:
    """``gluster --xml volume info VOL``: its bricks (host:path) in the volume's order."""
    bricks = ET.fromstring(info_xml).iter("brick")
    return [name.strip() for name in ((b.findtext("name") or b.text or "") for b in bricks) if name.strip()]


def connected_hosts(pool_xml: str, me: str) -> set[str]:
    """``gluster --xml pool list``: this host, and the peers whose glusterd it is connected to."""
    found = {me}
    for peer in ET.fromstring(pool_xml).iter("peer"):
        name = peer.findtext("hostname")
        if peer.findtext("connected") == "1" and name and name != "localhost":
            found.add(name)
    return found


def bricks_answering(summary: str) -> set[str]:
    """``gluster volume heal VOL info summary``: the bricks it reached ("Status: Connected")."""
    answering = set()
    for block in re.split(r"^Brick ", summary, flags=re.MULTILINE)[1:]:
        brick = block.split("\n", 1)[0].strip()
        if re.search(r"^Status:\s*Connected\s*$", block, flags=re.MULTILINE):
            answering.add(brick)
    return answering


def heal_counts(summary: str) -> dict[str, tuple[str, str]]:
    """``gluster volume heal VOL info summary``: each brick's (entries pending heal, entries in
    split-brain); "-" where the brick did not answer. Entries "possibly healing" (writes under
    way) are not counted as pending: a busy volume always has some."""
    counts = {}
    for block in re.split(r"^Brick ", summary, flags=re.MULTILINE)[1:]:
        brick = block.split("\n", 1)[0].strip()
        pending = re.search(r"Number of entries in heal pending:\s*(\S+)", block)
        split = re.search(r"Number of entries in split-brain:\s*(\S+)", block)
        counts[brick] = (pending.group(1) if pending else "-", split.group(1) if split else "-")
    return counts


def reporter(bricks: list[str], up: set[str]) -> str | None:
    """The host that reports for the volume: the first in the volume's order whose glusterd is
    connected (every host computes the same from the same view, so one mail, not three)."""
    return next((brick.split(":", 1)[0] for brick in bricks if brick.split(":", 1)[0] in up), None)


# The problems that only the volume's reporter finds: kept as they are while the volume cannot
# be read, so a failed gluster command mails no false RECOVERED.
VOLUME_KEYS = ("brick ", "split-brain", "heal stuck")


def volume_problems(me: str, volume: str, state: dict, now: float, stuck_minutes: int) -> dict[str, str]:
    """The volume's problems, on its reporter only. Read with commands that take no cluster-wide
    lock (volume info, pool list, heal info): `volume status` would, and collide with the other
    hosts' checks and with hastack's own commands (maintenance, status) every few minutes."""
    known = state.get("problems", {})
    kept = {key: entry["text"] for key, entry in known.items() if key.startswith(VOLUME_KEYS)}
    code, info, err = gluster(["--xml", "volume", "info", volume])
    if code == 127 or (code != 0 and "does not exist" in info + err):
        # GlusterFS not installed yet, or the volume not made yet (a first deploy under way)
        state["gluster_failures"] = 0
        return {}
    if code == 0:
        code, pool, err = gluster(["--xml", "pool", "list"])
    if code != 0:
        # Two runs in a row before glusterd is said not to answer: a restart is not news.
        failures = state.get("gluster_failures", 0) + 1
        state["gluster_failures"] = failures
        why = (err or "no answer").strip().splitlines()[-1][:200] if (err or "").strip() else "no answer"
        if failures >= 2:
            kept["glusterd"] = f"glusterd on {me} does not answer for volume {volume} ({why})"
        elif "glusterd" in known:
            kept["glusterd"] = known["glusterd"]["text"]
        return kept
    state["gluster_failures"] = 0
    bricks = volume_bricks(info)
    if reporter(bricks, connected_hosts(pool, me)) != me:
        # another host reports for the volume; if this one reports again later, its heal
        # clock starts then
        state["heal_pending_since"] = None
        return {}
    code, summary, _ = gluster(["volume", "heal", volume, "info", "summary"], timeout=120)
    if code != 0 or not summary.strip():
        # not read this time: what was mailed about the volume stands
        return kept
    answering = bricks_answering(summary)
    found = {
        f"brick {brick}": f"GlusterFS brick {brick} of volume {volume} is offline "
        f"(`gluster volume status {volume}`; `hastack maintenance {brick.split(':')[0]} off` brings it back, "
        f"or `gluster volume start {volume} force` once its host is up)"
        for brick in bricks
        if brick not in answering
    }
    counts = heal_counts(summary)
    pending = sum(int(entries) for entries, _ in counts.values() if entries.isdigit())
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
    code, end, err = run(["openssl", "x509", "-noout", "-enddate", "-in", path])
    if code != 0:
        return {"certificate": f"the shop's certificate {path} cannot be read: {(err or end).strip()[:200]}"}
    code, _, _ = run(["openssl", "x509", "-noout", "-checkend", str(warn_days * 86400), "-in", path])
    if code == 0:
        return {}
    return {
        "certificate": f"the shop's certificate {path} ends within {warn_days} days "
        f"({end.strip()}): a deploy of the proxies renews the site CA's; renew a supplied one"
    }


def acme_problems(path: str) -> dict[str, str]:
    """The last run of hastack-acme, where the site uses ACME: "failed TIME WHY" is a problem
    (the old certificate is still served; renewals are tried twice a day)."""
    if not path or not os.path.exists(path):
        return {}
    with open(path) as handle:
        words = handle.read().split(" ", 2)
    if words[0] != "failed":
        return {}
    why = words[2].strip() if len(words) > 2 else "?"
    return {
        "certificate renewal": f"the renewal of the shop's certificate from the ACME server failed at "
        f"{words[1] if len(words) > 1 else '?'}: {why[:300]} (journalctl -u hastack-acme; "
        "`hastack-acme` tries again now)"
    }


def relay_problems(me: str, relay: str) -> dict[str, str]:
    """On a proxy that passes the web hosts' mail on: HAProxy has an address for the relay (it
    resolves the name when it starts; unresolved then, the web hosts' mail queues)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as admin:
            admin.settimeout(10)
            admin.connect("/run/haproxy/admin.sock")
            admin.sendall(b"show servers state alert-relay\n")
            answer = b"".join(iter(lambda: admin.recv(65536), b"")).decode(errors="replace")
    except OSError:
        return {}  # HAProxy not running here (standby): the other proxy passes the mail on
    for line in answer.splitlines():
        fields = line.split()
        if (
            len(fields) > 4
            and fields[1] == "alert-relay"
            and fields[3] == "relay"
            and fields[4] in ("0.0.0.0", "-")
        ):
            return {
                "relay address": f"HAProxy on {me} has no address for the alert relay {relay}: the web "
                "hosts' alert mail waits in their queues; `systemctl reload haproxy` once its name resolves"
            }
    return {}


def quiet_hosts(
    directory: str, hours: float, now: float, me: str, cluster: list[str]
) -> tuple[set[str], dict[str, str]]:
    """(the hosts in `hastack maintenance` for less than ``hours``, a problem for each host in
    it for longer that this host speaks for): `maintenance HOST on` writes HOST's name in
    ``directory`` on every cluster host, `off` removes it. An overdue host is mailed by the
    first other host of ``cluster`` (one mail, and one that comes when the host itself died
    during its maintenance); by itself when it has no other."""
    quiet, overdue = set(), {}
    try:
        names = os.listdir(directory)
    except OSError:
        return quiet, overdue
    for name in names:
        try:
            since = os.stat(os.path.join(directory, name)).st_mtime
        except OSError:
            continue
        speaker = next((other for other in cluster if other != name), name)
        if now - since < hours * 3600:
            quiet.add(name)
        elif speaker == me:
            stamp = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(since))
            overdue[f"maintenance {name}"] = (
                f"{name} has been in maintenance since {stamp}, "
                f"more than {hours:g} h (alert_quiet_hours): its problems are mailed again; "
                f"`hastack maintenance {name} off` ends it"
            )
    return quiet, overdue


# The volume's own problems: about no one host, so one in maintenance does not hide them (but
# "heal stuck", which a brick host away causes by design, is held while any host is quiet).
VOLUME_WIDE = ("split-brain", "probe the volume", "maintenance ")


def owner(key: str, me: str) -> str | None:
    """The host a problem is about: a brick's host, none for the volume's own, else this one."""
    if key.startswith("brick "):
        return key[len("brick ") :].split(":", 1)[0]
    if key.startswith(VOLUME_WIDE):
        return None
    if key == "heal stuck":
        return "*"
    return me


def hush(found: dict[str, str], known: dict, quiet: set[str], me: str) -> dict[str, str]:
    """The problems about hosts in maintenance stay as they were mailed: none new (a planned
    brick away), none cleared (no false RECOVERED for one mailed before the maintenance)."""

    def hushed(key: str) -> bool:
        about = owner(key, me)
        return about in quiet or (about == "*" and bool(quiet))

    kept = {key: text for key, text in found.items() if not hushed(key)}
    kept.update({key: entry["text"] for key, entry in known.items() if hushed(key)})
    return kept


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


def read_mounts() -> str:
    with open("/proc/self/mounts") as handle:
        return handle.read()


def probe_all(config: dict, state: dict, now: float) -> dict[str, str]:
    """Every probe's problems. A probe that fails is itself a problem, and the volume's
    problems mailed before stand while the volume cannot be read (no false RECOVERED)."""
    me = config["host"]
    probes = {
        "the volume": lambda: (
            volume_problems(me, config["volume"], state, now, config["heal_stuck_minutes"])
            if config.get("volume")
            else {}
        ),
        "the disks": lambda: disk_problems(config["disk_percent"], read_mounts()),
        "the certificate": lambda: certificate_problems(config.get("certificate") or "", config["warn_days"]),
        "the certificate's renewal": lambda: acme_problems(config.get("acme_state") or ""),
        "the relay": lambda: relay_problems(me, config["relay"]) if config.get("relay_via_haproxy") else {},
    }
    found: dict[str, str] = {}
    for what, probe in probes.items():
        try:
            found.update(probe())
        except Exception as error:  # noqa: BLE001 (one probe's failure is reported, the others run)
            found[f"probe {what}"] = f"hastack's check could not read {what} on {me}: {error!r}"
            if what == "the volume":
                known = state.get("problems", {})
                found.update(
                    {key: entry["text"] for key, entry in known.items() if key.startswith(VOLUME_KEYS)}
                )
    return found


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
    found = probe_all(config, state, now)
    quiet, overdue = quiet_hosts(
        config.get("quiet_dir") or "",
        # settings without it (written before alert_quiet_hours): nothing is quiet
        config.get("quiet_hours") or 0,
        now,
        config["host"],
        config.get("cluster_hosts") or [],
    )
    found = hush({**overdue, **found}, state.get("problems", {}), quiet, config["host"])
    if quiet:
        # a host away piles heal entries up by design: their clock starts when it is back
        state["heal_pending_since"] = None
    for name in sorted(quiet):
        print(f"quiet: {name} is in maintenance (`hastack maintenance {name} off` ends it)")
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
