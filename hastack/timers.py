"""``hastack timers``: what each Corosync token costs and what it survives, measured on the lab.

For each token the proxies are deployed with it (a site file derived from the lab's), then:
the longest stall of Corosync on the VIP holder that forms no new membership (stalls of
growing length, stopping at the first that does), the gap when the active proxy dies (the
``proxy`` drill, open-loop), and the memberships formed under 5 % loss on Corosync's links
with ab's load. The lab's own site is deployed again at the end. Long: about 3 minutes a
token plus the loss's length.
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


@dataclass
class Row:
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


def table(rows: list[Row]) -> str:
    return "\n".join(
        [
            "| token (ms) | knet ping / timeout (ms) | longest stall survived (s) "
            "| gap when the active proxy dies (s) | requests failed | memberships at 5 % loss |",
            "|---|---|---|---|---|---|",
            *[row.line() for row in rows],
        ]
    )


def measure(tokens: list[int], loss_seconds: float, say=print) -> list[Row]:
    rows = []
    try:
        for token in tokens:
            say(f"[timers] token {token} ms: deploying the proxies with it")
            derived = lab.derived_site(lab.LAB_DIR / f"site-token-{token}.yaml", corosync_token_ms=token)
            deployed = run_deploy(derived, "deploys/proxy.py", log=lab.LAB_DIR / f"timers-{token}.log")
            if deployed.returncode != 0:
                raise RuntimeError(f"the proxies did not deploy with token {token}: see timers-{token}.log")
            drills = Drills(load_site(derived), seconds=30)
            try:
                drills.healthy()
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
            finally:
                drills.close()
            rows.append(Row(token, survived, gap.outage_s, gap.failed, loss.memberships or 0, loss_seconds))
            say(rows[-1].line())
    finally:
        say("[timers] deploying the lab's own site again")
        run_deploy(lab.SITE_FILE, "deploys/proxy.py", log=lab.LAB_DIR / "timers-restore.log")
    return rows
