"""Defaults of every hastack data key: the one place they are written.

Override any key for the whole site under `data:` in the site file, or for one
host under `hosts.<name>.data:`. Each key is documented in README.md. The site
model gives each host its effective values (own, else the site's, else these),
to the deploys through the inventory and to ``hastack verify`` alike.
"""

# --- base: every host ---------------------------------------------------------
# Apply the netplan file with `netplan apply` when it changes. The lab sets this
# false: Docker owns the lab's addresses.
netplan_apply = True
# Where the rendered netplan file goes.
netplan_file = "/etc/netplan/60-hastack.yaml"
# Seconds a host waits, after `netplan apply`, for a new SSH login from the machine
# running pyinfra; without one it puts its previous netplan files back by itself.
netplan_confirm_seconds = 60
# NTP servers or pools chrony follows.
chrony_servers = ["2.debian.pool.ntp.org"]
# Let chrony step and slew the system clock. The lab sets this false: its hosts
# share the machine's kernel clock, which is not theirs to change.
chrony_set_clock = True

# --- storage: web hosts ---------------------------------------------------------
# Filesystem that holds the GlusterFS brick: the RAID-1 mount. The brick is the
# directory `brick` below it, never the mount point itself (an unmounted disk
# then leaves an empty mount point, not a brick that looks empty).
gluster_brick_root = "/raid1"
# Where every web host mounts the replica volume (named after the cluster).
gluster_mount_point = "/cluster"
# Seconds a client waits for a dead brick before it carries on with the other.
# GlusterFS's default of 42 stalls the surviving web host for that long.
gluster_ping_timeout = 5
# Client quorum. "none" keeps the surviving web host writable when its peer is
# away (availability), at the risk of split-brain after a network partition;
# "auto" refuses writes without the first brick (consistency).
gluster_quorum_type = "none"
# How a split-brain file is resolved without a person: the newest copy wins.
gluster_favorite_child_policy = "mtime"
# A third host (a proxy: it is on the back network) that keeps an arbiter
# brick: file names and metadata only. With it the volume keeps quorum with
# either web host away and cannot split its brain; set gluster_quorum_type to
# "auto" with it. Empty: two bricks only (replica 2).
gluster_arbiter = ""
# Filesystem that holds the arbiter's brick (`brick` below it); like the web
# bricks it must not be the root filesystem (a small volume or a bind mount).
gluster_arbiter_brick_root = "/srv/gluster-arbiter"

# --- disks: web hosts ---------------------------------------------------------------
# Build the RAID-1 from the host's two `disks`. The lab sets this false: its
# containers have no md driver; the RAID layer is verified in a VM instead.
raid_enabled = True
# Wipe disks that carry a partition table, a filesystem or another array's
# superblock. Without it such a disk is refused. Set it for one host only.
raid_force = False
# The array's device; mdadm.conf and the initramfs make it keep this name.
raid_device = "/dev/md0"
# Where the array's ext4 filesystem is mounted (by UUID, from /etc/fstab).
raid_mount_point = "/raid1"

# --- web: web hosts -------------------------------------------------------------
# The NGINX image the web hosts run (the seed ran the official one). It is
# pulled only when it is not already on the host.
web_image = "nginx:1.27"
# A `docker save` archive on the machine running pyinfra, loaded into a web
# host's Docker when web_image is not there (for hosts without a registry; the
# lab uses it). Empty: pull from the registry instead.
web_image_archive = ""
# Where the compose project and the NGINX configuration live on the web hosts.
web_compose_dir = "/opt/hastack/web"
# The folder on the GlusterFS volume that NGINX serves (read-only).
web_content_dir = "/cluster/www"
# Port NGINX listens on, on every address of the web host.
web_port = 80
# Seconds NGINX keeps an idle client connection open.
web_keepalive_timeout = 65
# Docker daemon: size and number of json-file log files per container.
docker_log_max_size = "10m"
docker_log_max_files = 3

# --- proxy: proxy hosts ---------------------------------------------------------
# HAProxy's stats page: port on the proxy's back address, and its user. The
# password is a generated secret (.secrets/<cluster>/haproxy_stats_password).
haproxy_stats_port = 8404
haproxy_stats_user = "admin"
# Health checks of the web hosts (on web `/healthz`): interval, and how many
# checks in a row take a host out of rotation (fall) or back in (rise).
haproxy_check_interval = "1s"
haproxy_check_fall = 2
haproxy_check_rise = 2
# Connection attempts per request before HAProxy gives up; each retry goes to
# another web host (redispatch).
haproxy_retries = 3
# Timeouts: connecting to a web host, and client / server inactivity. A dead web
# host answers nothing, so a request sent to it waits the whole connect timeout
# before it is retried on another: short enough to fit well inside a customer's
# patience (a browser's, a 1 s probe's). A web host that takes longer to accept a
# connection (its kernel does that, not NGINX) counts as failed for that request
# and leaves the rotation until its checks pass again: on a LAN, a connection
# takes well under a millisecond.
haproxy_timeout_connect = "500ms"
haproxy_timeout_client = "30s"
haproxy_timeout_server = "30s"

# --- HTTPS: proxy hosts (the VIP's listener) ------------------------------------
# Port of the shop's HTTPS listener on the VIP (HAProxy terminates TLS there; port
# 80 answers 301 to it).
https_port = 443
# The site's own certificate file (leaf first, then its intermediates) and its key,
# on the machine running pyinfra; checked before any host is touched, uploaded 0600.
# Empty: hastack issues the VIP's certificate from a site CA of its own
# (.secrets/<cluster>/tls_ca.pem, the file clients trust).
tls_certificate = ""
tls_key = ""
# Extra DNS names of the certificate hastack issues (it always has <cluster>-vip and
# the VIP's address).
tls_names = []
# Strict-Transport-Security max-age (seconds) on every HTTPS answer: browsers keep
# to HTTPS for this long. Two years, as Mozilla's profiles advise.
tls_hsts_max_age = 63072000

# --- HA: Corosync and Pacemaker, proxy hosts --------------------------------------
# Totem token timeout (ms): how long a silent node is waited for before the
# other takes over (then Corosync's consensus, 1.2 x token, before the new
# membership; then Pacemaker, up to 1 s more). With 400 the VIP answers from the
# other proxy within 2 s of a proxy's death (1000: about 3 s). The price: a proxy
# that cannot send for 0.4 s (a stalled VM, a saturated link) is taken for dead.
# `hastack soak`: no VIP move under the seed's heaviest load with 400, but one
# membership change in 20 minutes (300: within 90 s); raise it where STONITH is on.
corosync_token_ms = 400
# Fencing. The seed disabled it, and so does this default: without fencing a
# node that only *seems* dead (hung, cut off) may keep the VIP too, and two
# nodes answer on one address. Describe fence devices and enable it on real
# hardware.
pacemaker_stonith_enabled = False
# Fence devices, each {"name": ..., "agent": "fence_ipmilan", "options": {...}},
# created with `pcs stonith create` when pacemaker_stonith_enabled is true.
pacemaker_fence_devices = []
# How strongly resources stay where they run: the VIP does not move back when
# a failed node returns.
pacemaker_resource_stickiness = 100
# Failures of a resource on a node before it is moved away. 1: a HAProxy that
# dies takes the VIP to the other proxy, whose HAProxy (a clone) already listens,
# instead of waiting for a restart in place (about 2 s). 0 (the seed's value)
# never moves a resource for failures.
pacemaker_migration_threshold = 1
# How long a failure counts: after it the node may run the resource again (the
# failed HAProxy is started again there; the VIP stays where it is). Until then
# that proxy runs no HAProxy: a short window, as the other proxy is alone.
pacemaker_failure_timeout = "10s"
# Monitor interval of the VIP resource (the seed: every second).
pacemaker_monitor_interval = "1s"
# Monitor interval of HAProxy (a systemd unit: a cheap D-Bus query). A dead HAProxy
# is seen within it, then the VIP moves (about 0.3 s): 500ms keeps that under 1 s.
pacemaker_haproxy_monitor_interval = "500ms"

# --- monitoring: every host ---------------------------------------------------------
# SNMP and Ganglia (gmond, gmetad). Off for small sites; switching it on later
# works.
monitoring_enabled = True
# Loopback port of the monitoring web server (Apache with PHP) on the web hosts
# (Ganglia's pages, behind NGINX) and the proxies (Cacti, behind HAProxy).
monitoring_web_port = 8080
# SNMPv3 user (authPriv: SHA-256 and AES); its passwords are generated secrets
# (.secrets/<cluster>/snmp_auth_password, snmp_priv_password). No community.
snmp_user = "hastack"
snmp_location = "hastack cluster"
snmp_contact = "root@localhost"
# How long Cacti waits for each device's SNMP answer (ms), in its availability check
# and its polls, and how often it asks again before it takes the device for down
# (and polls nothing of it until the next run). Answers came within 30 ms (49 of 50) with every
# CPU saturated (`hastack snmp-bench --busy`): 500 ms, Cacti's own, leaves room for
# a slower link; the retries cover a lost datagram. Retries: 1 to 5.
cacti_snmp_timeout_ms = 500
cacti_snmp_retries = 2
# Port of gmond's unicast metrics and of its XML (polled by gmetad).
ganglia_port = 8649
# Seconds between gmetad's polls of the collectors.
ganglia_poll_seconds = 15
# Where the OS has no Ganglia packages (Debian 13, Ubuntu 24.04), gmond and
# gmetad run in Docker from this image: Debian 12's packages, built by
# `hastack ganglia-image` (the lab builds it too). Empty: such a host is refused.
ganglia_image = ""
# A `docker save` archive of ganglia_image on the machine running pyinfra,
# loaded where the image is missing. Empty: pull ganglia_image instead.
ganglia_image_archive = ""

# --- firewall: every host ----------------------------------------------------------
# nftables on every host: inbound dropped but for what the design needs (hastack/firewall.py).
firewall_enabled = True
# Networks (CIDR) SSH is open from. Empty: both site networks.
admin_networks = []
# Seconds a host waits, after loading a new firewall table, for a new SSH login from the
# machine running pyinfra; without one it puts its previous table back by itself.
firewall_confirm_seconds = 60

# --- every host -------------------------------------------------------------------
# Seconds a deploy waits for apt, held by a freshly booted host's own jobs
# (apt-daily, unattended-upgrades, cloud-init), before it fails naming the host.
apt_wait_seconds = 900
