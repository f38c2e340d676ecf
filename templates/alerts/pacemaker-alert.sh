#!/bin/sh
# hastack's Pacemaker alert agent (installed by hastack, templates/alerts/pacemaker-alert.sh):
# Pacemaker runs it, as hacluster, on the node of a resource event (a node or fencing
# event: on every node but the one it is about), with the event in
# CRM_alert_* variables; it mails the alert's recipient (root: nullmailer's adminaddr sends it
# to the site's alert_mail_to). Nodes leaving or joining, fencing, and resource operations
# (a failed monitor, a start, a stop: the VIP moving); a monitor that finds all well is not mailed.
cluster="$(sed -n 's/.*"cluster": "\([^"]*\)".*/\1/p' /etc/hastack/alert-check.json 2>/dev/null)"
node="${CRM_alert_node:-?}"
me="$(crm_node -n 2>/dev/null || hostname)"
case "$CRM_alert_kind" in
node | fencing)
    # every node is told; the node the event is about says nothing (one mail from the others)
    [ "$node" = "$me" ] && exit 0 ;;
esac
# `hastack maintenance HOST on` writes HOST in QUIET (hastack.alerts.QUIET_DIR) until `off`, for at
# most alert_quiet_hours: a node in it leaving or joining, and the operations that succeed while
# a node is in it (the VIP's planned moves) are not mailed; a failed operation and fencing are.
# Both from the check's settings (one JSON line): without them, nothing is quiet.
settings=/etc/hastack/alert-check.json
QUIET="$(sed -n 's/.*"quiet_dir": "\([^"]*\)".*/\1/p' "$settings" 2>/dev/null)"
hours="$(sed -n 's/.*"quiet_hours": \([0-9]*\).*/\1/p' "$settings" 2>/dev/null)"
quiet() {
    [ -n "$QUIET" ] && [ -n "$hours" ] &&
        [ -n "$(find "$QUIET" -maxdepth 1 -type f -name "$1" -mmin "-$((hours * 60))" 2>/dev/null)" ]
}
case "$CRM_alert_kind" in
node)
    quiet "$node" && exit 0
    what="node $node is $CRM_alert_desc" ;;
fencing)
    what="fencing of $node: $CRM_alert_desc (rc $CRM_alert_rc, task $CRM_alert_task)" ;;
resource)
    # a monitor or a probe that finds the resource as expected says nothing new (Pacemaker
    # reports the first result of each recurring monitor, after every start)
    if [ "$CRM_alert_task" = monitor ] && [ "$CRM_alert_rc" = "$CRM_alert_target_rc" ]; then
        exit 0
    fi
    # a recurring monitor that Pacemaker cancels (its resource stopping) is no failure
    [ "$CRM_alert_desc" = Cancelled ] && exit 0
    if [ "$CRM_alert_rc" = "$CRM_alert_target_rc" ]; then
        # while a node of this cluster is in maintenance (not a web host: not Pacemaker's)
        for member in $(crm_node -l 2>/dev/null | awk '{print $2}'); do
            quiet "$member" && exit 0
        done
        result="done"
    else
        result="FAILED: $CRM_alert_desc (rc $CRM_alert_rc, expected $CRM_alert_target_rc)"
    fi
    what="resource $CRM_alert_rsc: $CRM_alert_task on $node $result" ;;
*)
    exit 0 ;;
esac
what="$(printf '%s' "$what" | tr '\r\n' '  ')"
/usr/sbin/sendmail -t -i <<MAIL
To: ${CRM_alert_recipient:-root}
Subject: [hastack $cluster] $(hostname): Pacemaker: $what

Pacemaker on $(hostname) (cluster $cluster) at ${CRM_alert_timestamp:-$(date)}:

$what

(kind $CRM_alert_kind, node $node${CRM_alert_rsc:+, resource $CRM_alert_rsc}${CRM_alert_task:+, task $CRM_alert_task})
\`hastack status\` shows the whole cluster; \`pcs status --full\` the cluster's view.
MAIL
