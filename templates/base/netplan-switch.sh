#!/bin/sh
# Managed by hastack (templates/base/netplan-switch.sh): puts hastack's netplan file live and
# the host's other netplan files (an installer's, cloud-init's) aside, kept, with a way back.
#
#   netplan-switch.sh note                 note what works now (see below), before an apply
#   netplan-switch.sh install LIVE          the candidate becomes LIVE, the others go aside;
#                                          nothing is applied (it takes effect at the next boot)
#   netplan-switch.sh apply LIVE SECONDS    the same, then `netplan apply`, and a timer that puts
#                                          the previous files back and applies them after SECONDS
#                                          unless `confirm` runs first
#   netplan-switch.sh confirm              (from a new SSH login) keep the new files; exits 3
#                                          while the apply has not finished, 4 if it failed,
#                                          6 (saying why) while the host's own checks fail
#
# The host's own checks: what worked before the apply must work after it. A default route (if
# the host had one), and the package mirror (apt's first http(s) source, fetched the way apt
# fetches it, by apt-helper: the name resolved, the route out, a proxy apt uses) if it answered.
#   netplan-switch.sh rollback             put the previous files back and apply them
set -u
STATE=/var/lib/hastack/netplan
CANDIDATE=$STATE/candidate.yaml
TIMER=hastack-netplan-rollback
# An apply and a rollback never run netplan at once: on a slow host the timer can fire while
# `netplan apply` still runs, and the one that finished last would win. The rollback waits.
LOCK=$STATE/lock

log() { echo "$(date -Is) $*" >> "$STATE/switch.log"; }

HELPER=/usr/lib/apt/apt-helper
mirror_url() {
    [ -x "$HELPER" ] && apt-get update --print-uris 2>/dev/null | awk -F"'" '/^.https?:/ {print $2; exit}'
}
# A URL as it may be shown: without a user:password@ part.
shown() { echo "$1" | sed 's#//[^/@]*@#//#'; }
# Fetched as apt fetches it (its proxy, its name resolution), once, 5 s per connection; over
# IPv4 only when the check is of the IPv4 route (IPv6 would hide a wrong IPv4 gateway).
answers() {
    got=$(mktemp) || return 1
    timeout 20 "$HELPER" -o Acquire::Retries=0 -o Acquire::http::Timeout=5 -o Acquire::https::Timeout=5 \
        -o Acquire::ForceIPv4="$2" download-file "$1" "$got" </dev/null >/dev/null 2>&1
    rc=$?; rm -f "$got"; return $rc
}
# What works now, to be asked again after the apply ($STATE/expect). Run before `apply`, apart
# from its unit, so that it takes nothing from the confirmation's time.
note_reach() {
    mkdir -p "$STATE" || exit 1
    : > "$STATE/expect"
    v4=false
    if [ -n "$(ip -4 route show default 2>/dev/null)" ]; then echo route >> "$STATE/expect"; v4=true; fi
    url=$(mirror_url)
    if [ -n "$url" ]; then
        if answers "$url" "$v4"; then echo "mirror $v4 $url" >> "$STATE/expect"
        else log "the package mirror ($(shown "$url")) did not answer before the change: not asked after it"; fi
    fi
}
# Exit 6, saying what (to the login that asked, and in the log), when something that worked
# before the apply does not now.
unreached() { log "not confirmed yet: $1"; echo "$1"; exit 6; }
check_reach() {
    [ -e "$STATE/expect" ] || return 0
    while read -r what v4 url; do
        case $what in
        route)
            [ -n "$(ip -4 route show default 2>/dev/null)" ] ||
                unreached "the host has no IPv4 default route any more" ;;
        mirror)
            answers "$url" "$v4" ||
                unreached "the package mirror ($(shown "$url")) no longer answers (a name, a route, a proxy?)" ;;
        esac
    done < "$STATE/expect"
}

put_live() {
    live=$1
    rm -rf "$STATE/previous" && mkdir -p "$STATE/previous" "$STATE/aside" || exit 1
    for file in /etc/netplan/*.yaml; do
        [ -e "$file" ] || continue
        cp -p "$file" "$STATE/previous/" || exit 1
        if [ "$file" != "$live" ]; then
            mv "$file" "$STATE/aside/$(basename "$file").$(date +%Y%m%d%H%M%S)" || exit 1
            log "put aside $file"
        fi
    done
    install -m 600 "$CANDIDATE" "$live" || exit 1
    log "installed $live"
}

case "${1:-}" in
note)
    note_reach
    ;;
install)
    put_live "$2"
    ;;
apply)
    # Under the lock from the start: a rollback still running (of an earlier apply) ends first.
    exec 9>"$LOCK"
    flock 9
    systemctl stop "$TIMER.timer" 2>/dev/null
    systemctl reset-failed "$TIMER.service" "$TIMER.timer" 2>/dev/null
    rm -f "$STATE/pending" "$STATE/applied" "$STATE/failed"
    put_live "$2"
    touch "$STATE/pending"
    # Armed before anything changes: if the apply cuts this host off, the timer still runs.
    systemd-run --quiet --unit="$TIMER" --on-active="$3" sh "$0" rollback ||
        { flock -u 9; sh "$0" rollback; exit 1; }
    if netplan apply 9>&-; then
        touch "$STATE/applied"
        log "applied; rolls back in $3 s unless confirmed"
    else
        log "netplan apply failed"
        touch "$STATE/failed"
        systemctl stop "$TIMER.timer" 2>/dev/null
        flock -u 9
        sh "$0" rollback
        exit 1
    fi
    ;;
confirm)
    [ -e "$STATE/failed" ] && exit 4
    # Not while an apply or a rollback runs: it has not finished (3).
    exec 9>"$LOCK"
    flock -n 9 || exit 3
    [ -e "$STATE/applied" ] || exit 3
    check_reach
    systemctl stop "$TIMER.timer" 2>/dev/null
    rm -f "$STATE/pending" "$STATE/applied"
    log "confirmed by a new SSH login$([ -s "$STATE/expect" ] && echo ", with $(cut -d' ' -f1 "$STATE/expect" | tr '\n' ' ' | sed 's/ $//') as before")"
    ;;
rollback)
    exec 9>"$LOCK"
    flock -w 120 9 || log "an apply still runs after 120 s: rolling back beside it"
    [ -e "$STATE/pending" ] || exit 0
    rm -f "$STATE/applied"
    rm -f /etc/netplan/*.yaml
    cp -p "$STATE/previous/"*.yaml /etc/netplan/ 2>/dev/null
    netplan apply 9>&-
    log "rolled back to the previous files"
    rm -f "$STATE/pending"
    ;;
*)
    echo "usage: $0 note | install LIVE | apply LIVE SECONDS | confirm | rollback" >&2
    exit 2
    ;;
esac
