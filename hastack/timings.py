"""What Corosync's token costs and survives: the rules the timer table (docs/measurements.md,
`hastack timers`) gave. No imports: the site's rules and the drills read it."""

# The stall a default token must survive: a VM's snapshot or live migration stuns it for about
# that long.
STALL_GOAL_MS = 1000


def predicted_gap_s(token_ms: int) -> float:
    """The longest gap the active proxy's death may leave with this token: the token, then
    consensus (1.2 x token) before the new membership, then Pacemaker and the VIP's start,
    with a second to spare (the timer table in docs/measurements.md)."""
    return 2.2 * token_ms / 1000 + 1.0


def stall_tolerance_ms(token_ms: int) -> int:
    """The longest stall of Corosync on one proxy that changes no membership, for this token
    (measured: docs/measurements.md, "Corosync's token")."""
    return token_ms // 2
