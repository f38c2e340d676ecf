"""What Corosync's token costs and survives: the rules the timer table (docs/measurements.md,
`hastack timers`) gave. Imports the standard library only: the site's rules and the drills
read it."""

import re

# The stall a default token must survive: a VM's snapshot or live migration stuns it for about
# that long.
STALL_GOAL_MS = 1000


def predicted_gap_s(token_ms: int) -> float:
    """The longest gap the active proxy's death may leave with this token: the token, then
    consensus (1.2 x token) before the new membership, then 2 s for the quorum device's vote,
    Pacemaker and the VIP's start (the timer table in docs/measurements.md: every gap measured
    there is under it; 8.28 s at 3000, the nearest). Not the DC's death under load: 5.50 s at
    1500 in a CI run (hastack.drill.gap_goal_s allows the DC a second more)."""
    return 2.2 * token_ms / 1000 + 2.0


def stall_tolerance_ms(token_ms: int) -> int:
    """The longest stall of Corosync on one proxy that changes no membership, for this token
    (the timer table in docs/measurements.md: 2/3 of the token is at or under every stall
    measured to pass: 0.25 s at 400, 0.75 s at 1000, 1 s at 1500, 1.5 s at 2000)."""
    return token_ms * 2 // 3


# The longest wait at corosync's start: `pcs cluster start` gives up on a node after 60 s.
START_DELAY_MAX_S = 60
# systemd's default start timeout, which the wait comes on top of (the drop-in's TimeoutStartSec).
SYSTEMD_START_TIMEOUT_S = 90


def corosync_start_delay_s(setting: int, stonith: bool, token_ms: int) -> int:
    """Seconds corosync waits at its start (data_keys.corosync_start_delay_s): the site's, else
    (-1) with STONITH on twice the time until the cluster hears that a fencing is done (the
    membership formed again without the fenced instance: token and consensus, 2.2 x token),
    rounded up and at most START_DELAY_MAX_S; with it off, 0."""
    if setting >= 0:
        return setting
    return min(START_DELAY_MAX_S, -(-2 * 22 * token_ms // 10000)) if stonith else 0


SYSTEMD_UNITS = {
    "us": 0.000001,
    "ms": 0.001,
    "s": 1,
    "min": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    "M": 2629800,
    "y": 31557600,
}


def systemd_span_s(text: str) -> float:
    """A time span as `systemctl show` prints it ("1min 37s", "500ms", "infinity") in seconds."""
    if text.strip() == "infinity":
        return float("inf")
    if text.strip() == "0":
        return 0.0
    parts = [re.fullmatch(r"(\d+(?:\.\d+)?)(us|ms|s|min|h|d|w|M|y)", word) for word in text.split()]
    if not parts or None in parts:
        raise ValueError(f"not a systemd time span: {text!r}")
    return sum(float(part[1]) * SYSTEMD_UNITS[part[2]] for part in parts)


def start_sleeps(shown: str) -> list[str]:
    """The seconds of each `/bin/sleep` among a unit's ExecStartPre commands, from `systemctl
    show -p ExecStartPre` (no line at all without any; one line a command)."""
    return re.findall(r"argv\[\]=/bin/sleep (\S+) ", shown)


HAPROXY_UNITS = {"us": 0.000001, "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def haproxy_time_s(value: str) -> float:
    """An HAProxy time ("1s", "500ms", "2000": milliseconds when it has no unit) in seconds."""
    digits = value.rstrip("usmhd")
    return int(digits) * HAPROXY_UNITS.get(value[len(digits) :] or "ms", 0.001)


def backend_settle_s(interval: str, rise: int, fall: int) -> float:
    """How long HAProxy may take to mark a web host up or down after it changed: its checks
    (every ``interval``) need ``rise`` good ones or ``fall`` bad ones in a row, and one may be
    under way."""
    return (max(rise, fall) + 1) * haproxy_time_s(interval)


# GlusterFS's ping timeout (the timer table in docs/measurements.md, `hastack timers ping`):
# the longest whose silent web host left the shop without service no longer than the `proxy`
# drill's goal (5 s): 4.6, 4.9 and 3.2 s at 3, 10.4 s at 5. A freeze of a brick about as long
# as the timeout is ridden out (2-4 s at 3, 2 s at 2); 2 is the shortest the table holds.
PING_GAP_RULE_S = 3
PING_SHORTEST_MEASURED_S = 2
