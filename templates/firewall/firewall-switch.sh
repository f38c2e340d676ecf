#!/bin/sh
# Managed by hastack (templates/firewall/firewall-switch.sh): puts hastack's nftables table live
# with a way back. Only the table `inet hastack` is ever touched: Docker's tables and any other
# stay as they are (no `flush ruleset`).
#
#   firewall-switch.sh apply CANDIDATE SECONDS  load CANDIDATE (checked with nft -c first), and
#                                              arm a timer that puts the previous table back
#                                              (or none) after SECONDS unless `confirm` runs
#   firewall-switch.sh confirm                 (from a new SSH login) keep it, and load it at
#                                              boot; exits 3 while the apply has not finished,
#                                              4 if it failed, 5 once the timer has put the
#                                              previous table back (no confirmation came)
#   firewall-switch.sh rollback                the previous table back (the last confirmed
#                                              file), or no table if none was
#   firewall-switch.sh off                     no hastack table, now or at boot
set -u
STATE=/var/lib/hastack/firewall
BOOT=/etc/hastack/firewall.nft
TIMER=hastack-firewall-rollback

log() { echo "$(date -Is) $*" >> "$STATE/switch.log"; }

case "${1:-}" in
apply)
    candidate=$2
    systemctl stop "$TIMER.timer" 2>/dev/null
    systemctl reset-failed "$TIMER.service" "$TIMER.timer" 2>/dev/null
    rm -f "$STATE/pending" "$STATE/applied" "$STATE/failed" "$STATE/rolled-back"
    nft -c -f "$candidate" || { touch "$STATE/failed"; log "nft -c refused $candidate"; exit 1; }
    cp "$candidate" "$STATE/applying.nft"
    touch "$STATE/pending"
    # Armed before anything changes: if the new rules cut this host off, the timer still runs.
    systemd-run --quiet --unit="$TIMER" --on-active="$3" sh "$0" rollback || { rm -f "$STATE/pending"; exit 1; }
    if nft -f "$candidate"; then
        touch "$STATE/applied"
        log "applied $candidate; rolls back in $3 s unless confirmed"
    else
        log "nft -f $candidate failed"
        touch "$STATE/failed"
        systemctl stop "$TIMER.timer" 2>/dev/null
        sh "$0" rollback
        exit 1
    fi
    ;;
confirm)
    [ -e "$STATE/failed" ] && exit 4
    [ -e "$STATE/rolled-back" ] && exit 5
    [ -e "$STATE/applied" ] || exit 3
    systemctl stop "$TIMER.timer" 2>/dev/null
    mkdir -p "$(dirname "$BOOT")"
    install -m 600 "$STATE/applying.nft" "$BOOT"
    nft list table inet hastack | sha256sum | cut -d' ' -f1 > "$STATE/listed.sha256"
    rm -f "$STATE/pending" "$STATE/applied"
    log "confirmed by a new SSH login"
    ;;
rollback)
    [ -e "$STATE/pending" ] || exit 0
    # The previous table is the last confirmed file (loaded at boot too), or none.
    if [ -e "$BOOT" ]; then
        nft -f "$BOOT"
    else
        nft delete table inet hastack 2>/dev/null
    fi
    rm -f "$STATE/pending" "$STATE/applied"
    touch "$STATE/rolled-back"
    log "rolled back to the previous table"
    ;;
off)
    nft delete table inet hastack 2>/dev/null
    rm -f "$BOOT" "$STATE/listed.sha256"
    log "off: no hastack table"
    ;;
*)
    echo "usage: $0 apply CANDIDATE SECONDS | confirm | rollback | off" >&2
    exit 2
    ;;
esac
