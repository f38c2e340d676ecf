"""``hastack timers``: what each timer costs and what it survives, measured on the lab.

``token`` (the default): for each Corosync token the proxies are deployed with it (a site file
derived from the lab's), then: the longest stall of Corosync on the VIP holder that forms no
new membership (stalls of growing length, stopping at the first that does), the gap when the
active proxy dies (the ``proxy`` drill, open-loop), and the memberships formed under 5 % loss
on Corosync's links with ab's load. About 3 minutes a token plus the loss's length.

``connect``: for each HAProxy connect timeout, the proxies deployed with it, the ``web`` drill
(a web host killed: what a timeout that is too long costs) and the ``web-stall`` drill (SYNs
dropped for 2 s in a burst: what one that is too short risks).

``ping``: for each GlusterFS ping timeout, the web hosts deployed with it, the longest freeze
of a web host's GlusterFS that its peer's client rides out (no "has not responded", so no
reconnection and no heal), and a web host gone silent under the stream (the seconds without
service, and how long the survivor's first write waited).

The lab's own site is deployed again at the end of each.
"""

from __future__ import annotations

from dataclasses import dataclass

from hastack import lab
from hastack.deploying import run_deploy
from hastack.drill import Drills
from hastack.network import knet_link_timers
from hastack.site import load_site

TOKENS_MS = (400, 1000, 2000, 3000)
STALL_STEPS_S = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0)
CONNECT_TIMEOUTS = ("200ms", "500ms", "1s", "2s")
PING_TIMEOUTS_S = (2, 5, 10, 42)
# A web host's GlusterFS frozen this long, in turn, stopping at the first its peer gives up.
BRICK_STALL_STEPS_S = (1, 2, 4, 8, 16)


@dataclass
class Row:
    COLUMNS = (
        "token (ms)",
        "knet ping / timeout (ms)",
        "longest stall survived (s)",
        "gap when the active proxy dies (s)",
        "requests failed",
        "memberships at 5 % loss",
    )

    token_ms: int
    survived_s: float
    gap_s: float
    failed: int
    memberships: int
    loss_seconds: float

    def line(self) -> str:
        ping, timeout = knet_link_timers(self.token_ms)
        return (
            f"| {self.token_ms} | {ping} / {timeout} | {self.survived_s:g} | {self.gap_s:.2f} "
            f"| {self.failed} | {self.memberships} in {self.loss_seconds:.0f} s |"
        )


def _markdown(columns: tuple[str, ...], rows) -> str:
    """A Markdown table: these columns, then each row's line()."""
    return "\n".join(
        [f"| {' | '.join(columns)} |", "|" + "---|" * len(columns), *[row.line() for row in rows]]
    )


def table(rows: list[Row]) -> str:
    return _markdown(Row.COLUMNS, rows)


def _sweep(entry: str, key: str, values: list, probe, say) -> list:
    """For each value: ``entry`` deployed with ``key`` set to it (a site derived from the
    lab's), then ``probe(drills, value)``, the row; the lab's own site deployed again at the end."""
    rows = []
    try:
        for value in values:
            say(f"[timers] {key} {value}: deploying {entry} with it")
            label = f"{key}-{value}"
            derived = lab.derived_site(lab.LAB_DIR / f"site-{label}.yaml", **{key: value})
            deployed = run_deploy(derived, entry, log=lab.LAB_DIR / f"timers-{label}.log")
            if deployed.returncode != 0:
                raise RuntimeError(f"{entry} did not deploy with {key} {value}: see timers-{label}.log")
            drills = Drills(load_site(derived), seconds=30)
            try:
                drills.healthy()
                rows.append(probe(drills, value))
            finally:
                drills.close()
            say(rows[-1].line())
    finally:
        say("[timers] deploying the lab's own site again")
        run_deploy(lab.SITE_FILE, entry, log=lab.LAB_DIR / "timers-restore.log")
    return rows


def measure(tokens: list[int], loss_seconds: float, say=print) -> list[Row]:
    def probe(drills: Drills, token: int) -> Row:
        survived = 0.0
        for step in STALL_STEPS_S:
            if not drills.stall_survived(step):
                break
            survived = step
        say(f"[timers] token {token} ms: survives a stall of {survived:g} s; the active proxy dies")
        gap = drills.proxy_dies()
        drills.seconds, drills.losses = loss_seconds, (5,)
        say(f"[timers] token {token} ms: 5 % loss for {loss_seconds:.0f} s")
        loss = drills.loss()[0]
        return Row(token, survived, gap.outage_s, gap.failed, loss.memberships or 0, loss_seconds)

    return _sweep("deploys/proxy.py", "corosync_token_ms", tokens, probe, say)


@dataclass
class ConnectRow:
    COLUMNS = (
        "`haproxy_timeout_connect`",
        "web host killed: failed",
        "seconds without service",
        "SYNs dropped 2 s in a burst: marked down",
        "the stream's failed",
        "5xx",
    )

    timeout: str
    web_failed: int
    web_sent: int
    web_gap_s: float
    stall_marked_down: list[str]
    stall_failed: int
    stall_sent: int
    stall_five_xx: int

    def line(self) -> str:
        return (
            f"| {self.timeout} | {self.web_failed} of {self.web_sent} | {self.web_gap_s:.2f} "
            f"| {', '.join(self.stall_marked_down) or 'none'} | {self.stall_failed} of {self.stall_sent} "
            f"| {self.stall_five_xx} |"
        )


def connect_table(rows: list[ConnectRow]) -> str:
    return _markdown(ConnectRow.COLUMNS, rows)


@dataclass
class PingRow:
    COLUMNS = (
        "`gluster_ping_timeout` (s)",
        "longest freeze ridden out (s)",
        "longest write meanwhile (s)",
        "peer silent: the first write waited (s)",
        "seconds without service",
        "failed",
    )

    ping_s: int
    survived_s: float
    tried_s: float
    longest_write_s: float
    silent_gap_s: float
    silent_failed: int
    silent_sent: int
    first_write_s: float

    def line(self) -> str:
        survived = f"{self.survived_s:g}" if self.survived_s < self.tried_s else f"{self.tried_s:g} or more"
        return (
            f"| {self.ping_s} | {survived} | {self.longest_write_s:.1f} | {self.first_write_s:.1f} "
            f"| {self.silent_gap_s:.2f} | {self.silent_failed} of {self.silent_sent} |"
        )


def ping_table(rows: list[PingRow]) -> str:
    return _markdown(PingRow.COLUMNS, rows)


def measure_connect(timeouts: list[str], say=print) -> list[ConnectRow]:
    def probe(drills: Drills, timeout: str) -> ConnectRow:
        web, stall = drills.web_dies(), drills.web_stall()
        return ConnectRow(
            timeout,
            web.failed,
            web.sent,
            web.outage_s,
            stall.marked_down or [],
            stall.failed,
            stall.sent,
            stall.five_xx or 0,
        )

    return _sweep("deploys/proxy.py", "haproxy_timeout_connect", timeouts, probe, say)


def measure_ping(timeouts: list[int], say=print) -> list[PingRow]:
    def probe(drills: Drills, timeout: int) -> PingRow:
        survived, longest, tried = 0.0, 0.0, 0.0
        for step in BRICK_STALL_STEPS_S:
            tried = step
            ridden, write_s = drills.brick_stall(step)
            if not ridden:
                break
            survived, longest = step, write_s
        say(
            f"[timers] ping timeout {timeout} s: rides out a freeze of {survived:g} s; a web host goes silent"
        )
        silent, first_write = drills.web_silent(timeout + 15)
        return PingRow(
            timeout, survived, tried, longest, silent.outage_s, silent.failed, silent.sent, first_write
        )

    return _sweep("deploys/web.py", "gluster_ping_timeout", timeouts, probe, say)
