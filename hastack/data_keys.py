"""Defaults of every hastack data key, each with its description: the one place both are written.

The comment above each key is its reference; `python -m hastack.keydoc --write` turns this file
into docs/data-keys.md (a test fails when that file is stale). Override a key for the whole site
under `data:` in the site file, or for one host under `hosts.<name>.data:`. The site model gives
each host its effective values (own, else the site's, else these), to the deploys through the
inventory and to ``hastack verify`` alike.
"""

# --- base: every host ---------------------------------------------------------
# Apply a changed netplan file at once, one host at a time, kept only if a new SSH login follows
# (see `netplan_confirm_seconds` and "Using it on real servers"). `false`: the file is put in
# place for the next boot and nothing is applied. The lab sets it `false`: Docker owns the lab's
# addresses.
netplan_apply = True
# hastack's netplan file (mode 0600): the host's only one. The host's other files in
# `/etc/netplan` (an installer's `00-installer-config.yaml`, cloud-init's `50-cloud-init.yaml`)
# are put aside, kept, in `/var/lib/hastack/netplan/aside/`. The whole set that will be live (this
# file, plus `/run/netplan` and `/lib/netplan`) is validated with `netplan generate` in a scratch
# root before anything changes.
netplan_file = "/etc/netplan/60-hastack.yaml"
# After `netplan apply`, how long the host waits for a new SSH login from the machine running
# pyinfra (to the host's `ssh_host` or address, with the site's key and known hosts). Without one,
# the host puts its previous netplan files back and applies them when this timer fires, and the
# run fails naming the host; the hosts after it are not changed.
netplan_confirm_seconds = 60
# The default route: `{network: gateway}`, e.g. `{front: 192.0.2.1}`, under `data:` or for one
# host. netplan gets `routes: [{to: default, via: ...}]` on the interface of that network; a
# network the host is not on is ignored, and at most one of a host's networks may have one.
# Empty: no static default route (a `hosts.<name>.dhcp` interface may bring one). A host whose
# other netplan files (going aside) give it a default route, by a gateway or by DHCP, is refused
# before any change unless the site gives one too: it would lose its way to the package mirror.
netplan_gateways = {}
# DNS servers (addresses), on the interface of the gateway's network (else
# the host's first). netplan hands them to systemd-resolved: a host where it does not run is
# refused with them (keep /etc/resolv.conf there, and these empty). Refused before any change
# too: a host whose files going aside give it DNS servers when the site gives none.
netplan_nameservers = []
# DNS search domains, with `netplan_nameservers` (on the same interface, the same condition).
netplan_search = []
# The MTU of a network's interface: `{network: bytes}`, e.g. `{back: 9000}`. Empty: the kernel's.
netplan_mtu = {}
# Static routes besides the default one: `{network: [{to: CIDR, via: router}]}`, e.g.
# `{back: [{to: 10.50.0.0/16, via: 192.168.32.1}]}` for a management network behind a router on
# the back network. netplan gets them on that network's interface; a network the host is not on
# is ignored. The router is a host address of that network (not a host of the site, nor the
# VIP); `to` is a network that is not the site's own, and not the default route
# (`netplan_gateways` gives that).
netplan_routes = {}
# NTP servers or pools chrony follows (`pool NAME iburst` each).
chrony_servers = ["2.debian.pool.ntp.org"]
# Let chronyd step and slew the system clock. The lab sets it `false` (`chronyd -x`): its hosts
# share this machine's kernel clock.
#
# What the base deploy does, besides those keys: sets the hostname; writes
# `/etc/hosts` with every cluster host (back address, else front; `<name>-front`
# for hosts on both networks; `<cluster>-vip`); writes chrony's configuration
# *before* installing chrony so that its first start already follows it; installs
# an sshd drop-in (`/etc/ssh/sshd_config.d/10-hastack.conf`: root by key only, no
# passwords), validated with `sshd -t` and followed by a reload, not a restart.
chrony_set_clock = True

# --- storage: web hosts ---------------------------------------------------------
# The filesystem that holds the brick (the RAID-1 mount). The brick is
# `<gluster_brick_root>/brick`, never the mount point itself, so an unmounted disk leaves an empty
# mount point rather than an empty brick. The lab sets `/srv/gluster`, a Docker volume of its own
# on each web host.
gluster_brick_root = "/raid1"
# Where every web host mounts the volume (named after `cluster`), through `/etc/fstab` with
# `_netdev`, `x-systemd.requires=glusterd.service` and `backup-volfile-servers=<the other web
# hosts>`, so it mounts at boot while either peer is down.
gluster_mount_point = "/cluster"
# `network.ping-timeout`: seconds a client waits on a brick that went silent (a power loss, a
# hung host: no reset) before it carries on with the others. While it waits, the surviving web
# host's reads and writes on the volume wait too, its `/healthz` (a file on the volume) stops
# answering, and HAProxy takes it out as well: the shop is down for everyone. A brick that is
# only frozen for less than this is ridden out; one frozen longer is dropped and healed after it
# returns (with the arbiter's quorum no write is lost). Measured (`hastack timers ping`,
# docs/measurements.md): a silent web host cost 2.1-2.9 s without service at 2, 3.2-4.9 s at
# 3, 10.4 s at 5, 18.6 s at 10 and 47 s at GlusterFS's default of 42. **The rule:** the longest
# timeout whose silent web host costs no more time without service than a proxy's death may (5
# s), hence 3. A site whose volume holds many open files and locks (reconnecting is costly then),
# or whose back network has blips of over 3 s (every client then drops every brick, and writes
# fail until they reconnect), may take longer, and accept that much longer outage.
gluster_ping_timeout = 3
# Client quorum (`cluster.quorum-type`). What each choice risks:
#
# - with an arbiter (`gluster_arbiter`, by default with two web hosts) and `auto` (the
#   default): writes go on with any one web host away, and a split brain cannot form: two of
#   three bricks must agree. This is the recommended setting; three or more web hosts keep
#   quorum the same way without an arbiter;
# - two bricks, `none` (the seed's): the surviving web host stays
#   writable when its peer is away (availability), but if the two are cut off
#   from each other and both write the same file, that file splits its brain
#   (reported, or healed by `gluster_favorite_child_policy` with a copy lost); `hastack check`
#   warns about it;
# - two bricks (`gluster_arbiter: ""`), `auto`: no split-brain, but writes stop whenever the
#   first brick (web1) is away: the shop loses uploads when web1 dies; `hastack check` warns.
gluster_quorum_type = "auto"
# `cluster.favorite-child-policy`: how a split-brain file is healed without a person. `none`
# (the default): it is not; the file stays unreadable until a person picks a copy (`gluster
# volume heal <cluster> info split-brain` lists them; `hastack verify` fails while any is
# listed), so no copy is ever discarded silently. `mtime` (the earlier default) keeps the newest
# copy and discards the other, with whatever was written to it.
#
# Also set on the volume: `auth.allow` = the back addresses of the web hosts and the arbiter,
# `cluster.self-heal-daemon on`, `cluster.heal-timeout 60` (the daemon looks for copies to heal
# every minute, not every 10). The pool is probed and the volume created, started and tuned from
# the first web host; an existing volume is never re-created, and one whose bricks differ from the
# site is refused with a message instead.
gluster_favorite_child_policy = "none"
# A third host that keeps an arbiter brick (file names and metadata only, no file data), so that
# two web hosts keep quorum with one of them away and a split brain cannot form. `auto` (the
# default): with exactly two web hosts, the first proxy of the site file (with a back address);
# with three or more web hosts, none (their copies keep quorum themselves: see "Scale-out"). Or a
# proxy's name; or `""`: no arbiter (`hastack check` warns: split brain, or writes stop with web1
# away). The arbiter must be on the back network, and its brick needs a filesystem of its own at
# `gluster_arbiter_brick_root`: the run is refused before any change where it sits on the root
# filesystem (GlusterFS refuses it there). Set under the site's `data:`. An existing replica-2
# volume gets the arbiter added (`add-brick ... arbiter 1`), never re-created; taking it out of
# the site removes its brick. In the lab the default picks `proxy1` (glusterd mounts the volume
# through FUSE on the arbiter when it joins a replica set: the host needs `/dev/fuse`).
gluster_arbiter = "auto"
# The filesystem that holds the arbiter's brick (`brick` below it). As for the web hosts,
# GlusterFS refuses a brick on the root filesystem and hastack never forces it (the run is refused
# before any change): make it a small partition, LV or disk of its own (a bind mount of a folder of
# the root filesystem is still the root filesystem). The lab sets `/srv/gluster`, a Docker volume.
gluster_arbiter_brick_root = "/srv/gluster-arbiter"

# --- disks: web hosts ---------------------------------------------------------------
# Build the RAID-1 from the host's two `disks`. The lab sets it `false` (its containers have no md
# driver); the RAID layer is verified in a qemu VM instead (`tests/vm`).
raid_enabled = True
# Wipe disks that carry a partition table, a filesystem or another array's superblock. Without it
# such a disk stops the run before any operation, with a message that names the disk, e.g. `disk
# /dev/sdc on host web1 carries a ext4 filesystem (UUID ...): hastack will not build a RAID over
# it. If its data is not needed, wipe it (wipefs -a /dev/sdc) or set raid_force: true in
# hosts.web1.data`. Set it for one host, once: under the site's `data:` or in `group_data/` it is refused
# (a web host that joins later would inherit it and wipe its disks).
raid_force = False
# The array's device. `/etc/mdadm/mdadm.conf` gets an `ARRAY /dev/md0 metadata=1.2 UUID=...` line
# and the initramfs is rebuilt with it, so the array comes back as `/dev/md0` after a reboot (the
# seed's array came back as `/dev/md127`, which its fstab then had to name).
raid_device = "/dev/md0"
# Where the array's ext4 filesystem is mounted, by UUID from `/etc/fstab`
# (`nofail,x-systemd.device-timeout=90s`: a host whose array starts late, degraded, still boots;
# Debian's `mdadm-last-resort` timer runs a degraded array after 30 s). glusterd starts only once
# it is mounted, and not if it cannot be (a drop-in, `RequiresMountsFor`): started before, it
# gives up on the brick there until someone runs `volume start force`. So a host whose array
# cannot be mounted has no glusterd, hence no `/cluster` (its mount requires glusterd) and no
# NGINX (`hastack-web.service` keeps trying the mount): HAProxy takes it out, and the other web
# hosts serve the volume.
#
# How it behaves: an array that exists is never re-created; one that exists on the disks but is
# not running is assembled (`--run`); the array is made with a write-intent bitmap, so a disk that
# drops out and comes back is re-added with a short resync instead of a full one; the array and
# filesystem UUIDs are derived from the cluster and host names, so `mdadm.conf` and `fstab` can be
# written before they exist, and a second run computes the same ones.
raid_mount_point = "/raid1"

# --- web: web hosts -------------------------------------------------------------
# The NGINX image (the seed ran the official one). It is pulled only when the host does not have
# it; pin a tag. The lab sets an image it builds from Debian packages
# (`hastack-lab-nginx:<hash>`).
web_image = "nginx:1.27"
# A `docker save` archive on the machine running pyinfra, uploaded and loaded (`docker load`) when
# `web_image` is not on the host: for hosts that reach no registry. Empty: `docker pull` instead.
# The lab sets `.lab/nginx-image-<release>.tar`.
web_image_archive = ""
# The compose project (`docker-compose.yml`, from `templates/web/docker-compose.yml.j2`) and the
# NGINX configuration (`conf/nginx.conf`, from `templates/web/nginx.conf.j2`). The folder `conf/`
# is bind-mounted, not the file, so a new configuration renamed into place is what NGINX reloads.
web_compose_dir = "/opt/hastack/web"
# The folder on the GlusterFS volume that NGINX serves, read-only (see `web_sample_page`).
web_content_dir = "/cluster/www"
# Place hastack's sample page (`index.html`) into `web_content_dir` when the folder is empty
# (never over content), and have `hastack verify` check that the shop serves it. Set `false`
# once your own content is published: verify then checks NGINX's `/healthz`, which answers from
# hastack's own file on the volume (`<gluster_mount_point>/.hastack/healthz`) whatever the
# content, and no page of the shop's.
web_sample_page = True
# The port NGINX listens on (host networking: no NAT in front of it).
web_port = 80
# Seconds NGINX keeps an idle client connection open.
web_keepalive_timeout = 65
# Size of a container's json-file log before it rotates.
docker_log_max_size = "10m"
# Rotated log files kept per container.
#
# How it behaves: `/etc/docker/daemon.json` (log rotation, `live-restore`) is written before
# Docker is installed, and a later change reloads the daemon. NGINX runs under a unit of its own,
# `hastack-web.service`: at boot it mounts the GlusterFS volume, trying again every 5 s until the
# volume answers (the boot does not wait for it), then starts the compose project (and makes the
# container again if it does not see the volume, as after a power cut); Docker itself does not
# wait for the volume. The container
# has `restart: unless-stopped`: Docker brings a crashed NGINX back. `/healthz` answers 200 only
# while hastack's file on the volume can be read (503 otherwise, so HAProxy drops the host),
# whatever content is published. The access log records
# `$http_x_request_id`. A new `nginx.conf` is validated with `nginx -t` in the image before it
# replaces the live one, then NGINX is reloaded (no connection dropped); a new compose file
# restarts the unit (the container made again) one web host at a time (`_serial`), each waiting
# until its `/healthz` answers before the next starts.
docker_log_max_files = 3

# --- proxy: proxy hosts ---------------------------------------------------------
# The stats page, bound to the proxy's back address only.
haproxy_stats_port = 8404
# The stats page's user; its password is the secret `haproxy_stats_password`.
haproxy_stats_user = "admin"
# Interval of the health checks of the web hosts (`option httpchk GET /healthz`, expecting 200).
haproxy_check_interval = "1s"
# Failed checks in a row that take a web host out.
haproxy_check_fall = 2
# Passed checks in a row that put it back.
haproxy_check_rise = 2
# Connection attempts per request; with `option redispatch 1` each retry goes to another web host,
# so a dead web host costs no request.
haproxy_retries = 3
# Connecting to a web host. A dead host sends no reset: a request sent to it waits this long
# before it is retried on another, so it must fit inside the customer's patience (it was `2s`: a 1
# s client gave up first). The trade-off: a web host slower than this to accept a connection (its
# kernel's job, under a millisecond on a LAN; a lost SYN, retransmitted after 1 s) counts as
# failed for that request, which is retried on another host, and leaves the rotation until
# `haproxy_check_rise` checks pass. Measured (`hastack timers connect`, docs/measurements.md):
# 500ms failed no request with a web host killed, 0 and 9 in two stalls; 1s and 2s failed 31
# and 54 in the stall, 200ms 4. **The rule:** the fewest failed requests in both (a few either
# way are the noise of single runs); then the longer value.
haproxy_timeout_connect = "500ms"
# Connection errors in a row (a refused or unanswered connection, seen on live traffic:
# `observe layer4`) that take a web host out of the rotation at once, before its health checks
# say so (`on-error mark-down`). Each failed request is retried on another web host, so what the
# limit trades is latency against a cascade: 1 takes a dead host out on the first error, but
# also a healthy one that lost one SYN in a burst; with two web hosts, both may then be out
# (503 for everyone). See "HAProxy's error limit" in docs/measurements.md for the figures.
haproxy_error_limit = 1
# Client inactivity.
haproxy_timeout_client = "30s"
# Web host inactivity.
#
# How it behaves: the frontend binds `VIP:80` and `VIP:https_port` (below), sets `X-Request-ID` on
# every request (`unique-id-header`, logged as `rid=` by HAProxy and NGINX) and balances
# round-robin over every web host's back address. A web host that refuses or leaves unanswered one
# connection is out at once (`observe layer4 error-limit 1 on-error mark-down`), not after
# `haproxy_check_fall` checks; requests are retried on another host after a connection failure or
# a connection closed without an answer (`retry-on conn-failure empty-response`, GET and HEAD
# only: nothing that may change state is sent twice). `haproxy.cfg` is validated with `haproxy -c`
# before it replaces the live one, and a change reloads HAProxy where it runs (`systemctl
# try-reload-or-restart`): no restart, no VIP move. systemd does not start HAProxy at boot;
# Pacemaker does, with the VIP.
haproxy_timeout_server = "30s"

# --- HTTPS: proxy hosts (the VIP's listener) ------------------------------------
# The shop's HTTPS listener on the VIP; port 80 answers 301 to it.
https_port = 443
# The site's own certificate file on the machine running pyinfra: the leaf first, then its
# intermediates. Empty: hastack issues the VIP's certificate from a site CA of its own (see
# "HTTPS" above).
tls_certificate = ""
# The key of `tls_certificate` (unencrypted PEM), on the machine running pyinfra; given with
# `tls_certificate` or not at all.
tls_key = ""
# Extra DNS names of the certificate hastack issues (it always carries `<cluster>-vip` and the
# VIP's address). Unused with `tls_certificate`.
tls_names = []
# The directory URL of an ACME server (RFC 8555), such as Let's Encrypt's
# `https://acme-v02.api.letsencrypt.org/directory`. Empty: off. Set, each proxy obtains a
# certificate for `tls_names` from it and renews it (uacme, from the OS's packages), instead of
# the site CA's. The names must point at the VIP: the server validates them over HTTP (HTTP-01)
# through the VIP, and HAProxy answers every challenge itself from the account's key thumbprint,
# so whichever proxy holds the VIP answers for both.
#
# How it behaves: the account key is made once on the machine running pyinfra (kept with the
# secrets, 0600) and put on both proxies. Until a proxy's first certificate is issued, HAProxy
# serves the site CA's. A timer tries a renewal twice a day; uacme renews within 30 days of
# expiry (or in the server's renewal window, ARI, on Debian 13), and the new certificate reaches
# HAProxy through its runtime API (no reload). A failed
# renewal leaves the old certificate served, and is noted in `/var/lib/hastack/acme.state`.
tls_acme_directory = ""
# The ACME account's contact, required with `tls_acme_directory`: the CA writes there before a
# certificate expires unrenewed.
tls_acme_email = ""
# A CA certificate file (PEM) on the machine running pyinfra that issued the ACME server's own
# HTTPS certificate, for a private ACME server (such as the lab's pebble); added to the proxies'
# trust store (`/usr/local/share/ca-certificates`). Empty: the system's trust store alone.
tls_acme_ca_bundle = ""
# `Strict-Transport-Security: max-age` of every HTTPS answer, in seconds: browsers keep to HTTPS
# that long. -1 (the default) chooses by the certificate: two years (63072000, as Mozilla
# advises) with `tls_certificate`, 0 with hastack's site CA. Browsers ignore HSTS over a
# certificate they do not trust (RFC 6797, 8.1), so with the site CA it pins only the clients
# given the CA; if it is made again (its secrets lost) or taken from them, they cannot get past
# the error for as long as max-age says. 0 also tells browsers to forget an earlier max-age.
# `hastack check` warns when more than a day is set with the site CA.
#
# These keys describe the one listener of the VIP: the proxies must agree on them (set them under
# the site's `data:`), or the site is refused.
tls_hsts_max_age = -1

# --- HA: Corosync and Pacemaker, proxy hosts --------------------------------------
# Totem token timeout: how long a silent proxy is waited for before the other takes over
# (then consensus, 1.2 x token, before the new membership; then Pacemaker starts the VIP).
# Chosen from the timer table (`hastack timers`, docs/measurements.md) by this rule: the lowest
# token that survives a 1 s stall of Corosync (a VM's snapshot or live migration) and 5 % loss
# on its links with no membership change; then as fast as that allows. 1500 survives a 1 s
# stall (1000: 0.75 s; 400: 0.25 s) and 5 % loss, and the active proxy's death leaves about
# 4 s without service (1000: 2 s; 400: 1.5 s). The stall it survives is about 2/3 of the token
# (`hastack check` warns below 1 s), the gap at most 2.2 x token + 2 s and 5 s (the `proxy`
# drill's goal), a second more when the proxy that dies is Pacemaker's DC (the survivor elects
# itself first; after a failover the survivor is both). knet's links follow it: both carry
# every packet, a ping every token/4 ms (never under knet's 200 ms timer), a link down after a
# whole token without an answer.
# **Trade-off:** a lower token fails over faster but takes a short stall for a death (with
# STONITH on, the stalled proxy is fenced). A site with fencing that accepts a shorter
# tolerance may set 1000 (2 s gap, 0.75 s stall); the lab uses the default.
corosync_token_ms = 1500
# The host that runs the quorum device's server (corosync-qnetd, TCP 5403), a third vote for the
# two proxies: a host of the site that is not a proxy (the lab: `client`). Each proxy runs
# corosync-qdevice (model `net`, algorithm `ffsplit`, one vote), the cluster drops `two_node`,
# and Pacemaker's `no-quorum-policy` is `stop`: when the proxies lose each other, qnetd gives
# its vote to one side only, and the other side gives up the VIP. Of two equal sides, the one
# that holds the VIP wins (a heuristic, `/usr/local/sbin/hastack-holds-vip`), so the VIP does not
# move on a cut. The qnetd host's firewall opens 5403 to the proxies only; it listens on its
# address on a network it shares with the proxies (back, else front). Its TLS certificates
# (a CA of their own, the server's, the cluster's) are made on the machine running pyinfra and
# kept with the other secrets (`qnetd_*` in the secrets folder); no pcsd runs on the qnetd host.
# **Risk** with `""` (no quorum device): two proxies that lose each other both take the VIP
# (split brain): `hastack check` warns. **Trade-off** with one: with the qnetd host down as
# well as a proxy, the last proxy has no quorum and stops the shop.
quorum_device_host = ""
# Fencing. The seed disabled it and so does this
# default, which suits the lab. **Risk:** without fencing, a proxy that only
# *seems* dead (hung, or cut off from the other) may keep the VIP while the other
# takes it too: two hosts answer on one address until one of them is stopped.
# On real servers describe fence devices and enable it.
pacemaker_stonith_enabled = False
# Fence devices, each `{name: ..., agent: fence_ipmilan, options: {...}}`, created with `pcs
# stonith create` when `pacemaker_stonith_enabled` is true.
pacemaker_fence_devices = []
# Secret files the fence devices read (a BMC password, an SSH key, a TLS client key), named
# as files in the site's secrets folder (`.secrets/<cluster>/`, mode 0600, put there by you).
# Each reaches every proxy as `/etc/hastack/fence/<name>` (mode 0600 in a 0700 folder, root);
# a name dropped from the list is removed there. A device refers to it by that path, for
# example `password_script: "cat /etc/hastack/fence/bmc-password"` or `identity_file:
# /etc/hastack/fence/fence_kvm`: no secret is ever on pcs's command line. A name whose file is
# missing or open to others is refused before any change.
pacemaker_fence_secrets = []
# Seconds Pacemaker waits before it fences the proxy that holds the VIP, when the proxies
# lose each other with STONITH on and no quorum device (`priority-fencing-delay`; the VIP has
# priority 10, so the proxy that holds it is the one waited for). Both sides then have quorum
# (`two_node`) and would shoot each other at once; with the delay the holder shoots first and
# keeps the VIP. It must exceed the time the fence device takes to cut power (IPMI: a few
# seconds). **Trade-off:** when the VIP holder really dies, the other waits this long before
# it fences it and takes the VIP: the failover gap grows by it. With a quorum device
# (`quorum_device_host`) only the side with quorum may fence, so no delay applies (0 is set).
pacemaker_fencing_delay_s = 10
# Seconds corosync waits at each start before it joins the cluster (a systemd drop-in,
# `ExecStartPre=/bin/sleep`, its start timeout raised by as much). The cluster hears that a
# fencing is done only once its membership has formed again without the fenced instance (token
# and consensus after the cut, 2.2 x token). A fenced proxy up and joined before that hears of
# its own fencing: Pacemaker there stops and stays down ("We were allegedly just fenced"), and
# the cluster runs on one proxy until someone starts it again. A VM, or a lab container, boots
# that fast (CI saw it on 2026-12-07). -1 (the default): with STONITH on, twice that time,
# rounded up, at most 60 (7 s at the default token); with it off, 0 (no drop-in). A value from
# 0 to 60 applies as given, STONITH on or off (60: `pcs cluster start` waits no longer). A fence
# agent whose power-on returns before the machine is off and on again may need more than the
# default. **Trade-off:** every start of corosync (a reboot, a restart by hand, a deploy's
# restart) waits this long more before the proxy rejoins.
corosync_start_delay_s = -1
# Resources stay where they run: the VIP does not move back when a failed proxy returns.
pacemaker_resource_stickiness = 100
# Failures of a resource on a node before Pacemaker moves it
# away. With 1, a HAProxy that dies takes the VIP to the other proxy, whose HAProxy
# (a clone, always running) already listens: under a second, where a restart in
# place takes about 2 s. With 1, HAProxy's monitor also fails with `on-fail=standby`:
# every resource leaves that proxy in the transition that sees the failure (the DC
# otherwise restarts HAProxy in place first, and the VIP waits 2 s for its stop), until
# the failure expires or `pcs resource cleanup haproxy`. 0 (the seed's value) never
# moves a resource for failures.
# **Trade-off:** until `pacemaker_failure_timeout` passes, the proxy whose HAProxy
# failed runs none, so a second failure on the other proxy then stops the shop.
pacemaker_migration_threshold = 1
# How long a failure counts: then the node may run the resource again (its HAProxy is started
# again, about 10-15 s after it died; the VIP stays where it is). Short, because until then the
# other proxy is alone: the drills found that a proxy dying within the window (60 s then) left no
# HAProxy anywhere.
pacemaker_failure_timeout = "10s"
# The seed's value. Monitor interval of the VIP.
pacemaker_monitor_interval = "1s"
# Monitor interval of HAProxy (the seed's was `1s`). A dead HAProxy is seen within it and the VIP
# then moves in about 0.3 s: with 1 s the drill measured up to 1.2 s without service, over the 1 s
# goal. A systemd unit's monitor is one D-Bus query.
#
# How it behaves: `/etc/corosync/corosync.conf` is rendered from
# `templates/proxy/corosync.conf.j2` (knet, `aes256`/`sha256` crypto, the front network as link 0
# and the back network as link 1, `two_node: 1`), validated with `corosync -t`, and a later change
# is reloaded with `corosync-cfgtool -R`. This departs from `pcs cluster setup` on purpose: a
# rendered file is declarative, reviewable and idempotent, and it keeps the authkey that hastack
# generated; `pcs` is used for everything in the CIB. Debian's pacemaker package starts a one-node
# cluster named `debian` on install: it is stopped and its CIB removed before the real cluster
# starts; a cluster with any other name than the site's stops the run before anything is touched
# (hastack never destroys a configured cluster). The first proxy then sets, each only where it
# differs from the live CIB (read with `cibadmin --query`): `stonith-enabled`,
# `resource-stickiness`, an `ocf:heartbeat:IPaddr2` VIP (address and prefix from the site, no
# `nic=`: it picks the interface by subnet) and a `systemd:haproxy` resource cloned on both
# proxies (`haproxy-clone`: the standby's HAProxy already listens on the VIP's port,
# `ip_nonlocal_bind`, when the VIP arrives), monitored every second (the VIP) and every 500 ms
# (HAProxy), with the migration threshold and failure timeout, and the VIP colocated with the
# clone (it runs only where HAProxy runs; a HAProxy restarted in place does not move it). A
# cluster made by an earlier hastack (HAProxy one primitive, colocated with the VIP and ordered
# after it) has those two constraints deleted and HAProxy cloned by the next deploy. pcsd is
# authenticated between the proxies with the `hacluster` password.
pacemaker_haproxy_monitor_interval = "500ms"

# --- monitoring: every host ---------------------------------------------------------
# Deploy the monitoring layer. Off for small sites: then nothing of it is installed and neither
# NGINX nor HAProxy route `/ganglia/` or `/cacti/`. Switching it on later deploys it then (tested:
# a fresh lab is first deployed with it off); switching it off removes nothing.
monitoring_enabled = True
# The loopback port of the Apache (with PHP) that serves the monitoring pages: Ganglia's on the
# web hosts, Cacti on the proxies. Apache never listens elsewhere (its `ports.conf` is written
# before the package is installed, so it never takes port 80).
monitoring_web_port = 8080
# IPv4 networks (CIDR) that may open `/cacti/` and `/ganglia/` through the VIP; any other address
# gets 403 (the shop itself is not affected). The proxies' own addresses always may:
# `hastack verify` reads the pages from a proxy, and a person without a listed network reaches
# them through an SSH tunnel to a proxy (docs/https-and-firewall.md). Empty: no one else, the safe
# choice, since these are the admins' pages, not the customers'. Same for both proxies.
admin_web_networks = []
# The SNMPv3 user (authPriv: SHA-256 and AES). Its passwords are the secrets `snmp_auth_password`
# and `snmp_priv_password`; there is no community at all, so v1/v2c requests (`public`) get
# nothing. snmpd listens on the host's back address (the client: its front address).
snmp_user = "hastack"
# sysLocation (and Ganglia's host location).
snmp_location = "hastack cluster"
# sysContact.
snmp_contact = "root@localhost"
# Cacti's own default. How long Cacti waits for a device's SNMP answer, in milliseconds: in its
# availability check (a device that does not answer is taken for down and nothing of it is polled
# in that run) and in each poll. Raise it for devices behind a slow link. With every CPU of the
# lab saturated, the answer came within a 30 ms timeout (on the first try or its one retry) in
# 49 of 50 checks: docs/monitoring.md (`hastack snmp-bench`). From 100 to 10000.
cacti_snmp_timeout_ms = 500
# From 1 to 5 (Cacti's availability check makes any other number 2). How often Cacti asks a device
# again after a timeout, in its availability check and its polls. A device that is really down
# costs a poll at most (1 + retries) x timeout.
cacti_snmp_retries = 2
# Cacti's poller interval: 5 (Cacti's own default) or 1 minute. It is also the step of the RRDs the
# graphs are drawn from (Cacti's "5 Minute Collection" or "1 Minute Collection" profile of data
# sources), so the timer, Cacti's settings and every RRD follow it. Changing it on a running site
# recreates the RRDs with the new step: **the graphs' history is lost** (the deploy warns, with
# how many; Cacti's poller makes them again on its next run). 1 minute costs each proxy
# five times the polls and the disk writes; the lab uses it so that its checks see two polls in
# about two minutes. A site whose devices could all time out must fit them in one run:
# (1 + cacti_snmp_retries) x cacti_snmp_timeout_ms x hosts at most (interval - 20 s).
cacti_poll_minutes = 5
# gmond's port. Every gmond sends its metrics by unicast (multicast crosses neither the lab's
# networks nor most real ones) to the collectors, which are the proxies: they reach every network,
# the client's included. gmetad on each web host polls the collectors' XML.
ganglia_port = 8649
# Seconds between gmetad's polls.
ganglia_poll_seconds = 15
# Where the host's OS has no Ganglia packages (Debian 13): the image gmond and
# gmetad run from, made by `hastack ganglia-image` (Debian 12's packages). Empty: such hosts are
# refused before any change (set it, or `monitoring_enabled: false`). Ignored on other releases.
ganglia_image = ""
# A `docker save` archive of `ganglia_image` on the machine running pyinfra, uploaded and loaded
# where the image is missing. Empty: pull `ganglia_image` from a registry.
#
# **gmond's metric modules** (cpu, disk, load, memory, network, processes,
# system) are named in `gmond.conf` by their absolute paths: gmond looks for a
# bare file name in a folder compiled into it, which Debian's build leaves as
# the literal `${prefix}/lib/x86_64-linux-gnu/ganglia`, so every module failed to
# load and gmond sent heartbeats without a single metric. The folder is
# Debian's multiarch library folder of the host's architecture
# (`hastack/platforms.py`, the one place OS knowledge lives). gmond collects
# every metric Ganglia's reports draw (Debian's default set without gexec: cpu,
# load, processes, memory and swap, network, disk), so no report frame is empty.
#
# **Ganglia's pages.** Each web host runs gmetad, which polls the collectors and
# keeps every host's history, and Debian's `ganglia-webfrontend` in Apache on
# loopback; NGINX passes `/ganglia/` (and the `/javascript/` libraries the pages
# load) to it, so `https://VIP/ganglia/` goes HAProxy -> either web host -> its
# own gmetad. Both web hosts hold the same data: either one dying loses nothing.
# Neither release's package runs on its PHP as shipped; hastack makes it run
# with `/etc/ganglia-webfrontend/conf.php` (the package reads it first: it
# supplies PHP 8's removed `each()` and a bare constant), Apache's user owning
# its Dwoo template folders (Debian 13 leaves them to root: every page failed),
# and patches in `templates/monitoring/`, chosen per release by the OS map:
# Debian 12's 3.7.5 on PHP 8.2 gets `ganglia-web-3.7.5-php8.patch` (five
# one-line changes), `ganglia-web-stacked.patch` (the cluster page's stacked
# graph: `stacked.php` HTML-escaped the quotes of its whole rrdtool command, so
# rrdtool refused it; the request's cluster, metric and time zone are checked
# instead), `ganglia-web-links.patch` (four linked pages that died on PHP 8) and
# `ganglia-web-3.7.5-switch.patch` (a warning on every page); Debian 13's 3.7.6
# on PHP 8.4 needs only `ganglia-web-3.7.6-php8.patch` and the links patch.
# Each patch is applied with `patch` on its own, and again after a package
# upgrade; if an upgrade changes those files so that a patch neither applies nor
# is applied, the deploy stops and says so. gmond resends its constant metrics
# (totals, CPU count, boot time) every minute instead of every 20: a collector
# that restarted drew no memory report for anyone else until then.
#
# **Cacti** runs on each proxy, with its own MariaDB (Debian's package, its
# database made by dbconfig-common over the local socket): the proxies are the
# hosts that reach every host's SNMP agent, the client's included. Each polls
# every host of the cluster over SNMPv3 (Cacti's "Net-SNMP Device" template:
# load, memory, processes, ...; plus the 64-bit traffic graph of each Ethernet
# interface that is up; no community) every `cacti_poll_minutes` (Cacti's own poller
# interval), run by a systemd timer the deploy installs and enables,
# `hastack-cacti-poller.timer` (`systemctl list-timers`; each run's output in
# `journalctl -u hastack-cacti-poller`). The package's cron entry
# (`/etc/cron.d/cacti`) is removed: a minimal host has no cron, and where cron
# exists, two schedulers would run the poller twice. dpkg keeps a removed
# configuration file removed on upgrades. The SNMP passwords reach
# Cacti's database on standard input, never on a command line. HAProxy sends `/cacti/` to the Cacti on the
# proxy that holds the VIP. There is no shared or replicated database: both
# proxies poll all the time, so each has the whole history, and when the active
# proxy dies the VIP moves to the other, whose Cacti answers with its own
# history; the user logs in again (sessions are per proxy). A proxy that was
# down has a gap in its graphs for that time. The admin user `admin` logs in
# with the secret `cacti_admin_password`; `guest` stays disabled. hastack owns
# the admin password and one device per host (named as the host; a device
# removed from the site stays in Cacti with its history); graphs, trees and
# users made in Cacti's pages are left alone.
ganglia_image_archive = ""

# --- alerts: every host ---------------------------------------------------------------
# Who is told when something breaks: mail addresses. Empty (the default): no alerts, and no mail
# transport is installed. Set, every host gets nullmailer (its queue retries a relay that is
# away) sending to `alert_relay`, and mails on: a Pacemaker node, resource or fencing event (a
# Pacemaker alert agent on the proxies); a degraded array (mdadm's monitor, `MAILADDR root`);
# and, from `hastack-alert-check.timer` every `alert_check_minutes`, a GlusterFS brick offline,
# heal entries stuck, a split-brain entry, a disk over `alert_disk_percent`, the shop's
# certificate within 30 days of its end (`hastack.tls.WARN_DAYS`); each again with RECOVERED once
# it clears. Mail to root on the hosts goes to these addresses (nullmailer's `adminaddr`). A host
# with another mail server (exim4, postfix) is refused, not changed: nullmailer would replace it.
alert_mail_to = []
# The mail relay (smarthost) that takes the alerts on: `host` or `host:port` (port 25 when not
# given), by name or address; it must accept mail from the proxies and any host on the front
# network without authentication (an internal relay). Hosts with a front address send to it
# directly. Web hosts, on the back network only, send to port 25 of the proxies' back addresses,
# where HAProxy passes the connection on to the relay (`listen alert-relay`, TCP): their mail
# leaves through either proxy, whichever answers. When the relay is a host of the site, its
# firewall opens the port to the hosts that send to it.
alert_relay = ""
# The sender of the alert mails (nullmailer's `allmailfrom`). Empty: `root@<host name>`, which a
# relay that checks senders may refuse; give an address of your domain then.
alert_mail_from = ""
# How often the periodic check runs (minutes).
alert_check_minutes = 5
# Heal entries pending for longer than this (minutes) are reported as stuck. A heal after a web
# host's return normally drains in seconds to minutes (`hastack maintenance` waits for it).
alert_heal_stuck_minutes = 30
# `hastack maintenance HOST on` keeps the alerts about HOST quiet until `off`: its brick offline,
# its problems on itself, Pacemaker's mail of it leaving and of the VIP's planned moves (a failed
# operation and fencing are still mailed). At most this many hours: after them, the check mails
# that HOST is still in maintenance, and its problems are mailed again. A rolling upgrade or a
# disk swap fits in a working day; a forgotten maintenance does not hide a failure for longer.
alert_quiet_hours = 12
# A mounted filesystem (ext2/3/4, XFS, Btrfs) fuller than this percentage is reported (the
# percentage `df` shows).
alert_disk_percent = 90

# --- backups: web hosts and proxies ----------------------------------------------------
# Where restic keeps the backups, encrypted: `sftp:USER@HOST:/PATH` (a user that is not root; when
# HOST is a host of the site, the deploy makes USER there, whose only way in is the site's backup
# key, for SFTP alone, and the folder, USER's, 0700) or a folder on a disk mounted on every host
# that backs up, the same for all (`/mnt/backup/shop`: an NFS export; the folder or, when it is
# not there yet, its parent must be on that mount, not the root filesystem). Empty (the
# default): no backups. Set, the web hosts back up `/cluster`'s content and the proxies a dump of
# their Cacti database, daily; `hastack backup` backs up now, and also the
# site's secrets and CA from the machine that runs it. The deploy makes the repository (on the
# first web host) when there is none; no timer does. The repository's password is generated
# with the other secrets (`restic_password`); keep a copy apart from the repository: without it
# nothing can be restored. Name a host outside the cluster: a copy on a proxy or a web host is
# lost with it. Web hosts reach only the back network: a host of the site must have a back
# address, an outside one must be reachable from there.
backup_repository = ""
# When the daily backup runs (HH:MM, the hosts' clock): the proxies' Cacti then, the web hosts 15
# minutes apart after them (the first that runs takes `/cluster`, the others see a snapshot younger
# than 20 hours and skip). A run missed while a host was off happens at its next boot.
backup_time = "02:30"
# Retention, per series (each proxy's Cacti, the site's `/cluster`, the controller's secrets),
# applied by the host that adds to it after its backup (`restic forget --prune`): the newest
# snapshot of each of this many days, ...
backup_keep_daily = 7
# ... weeks ...
backup_keep_weekly = 4
# ... and months.
backup_keep_monthly = 6

# --- firewall: every host ----------------------------------------------------------
# nftables on every host: inbound dropped but for the allow list `hastack/firewall.py` writes from
# the site (see "The firewall"). `false` removes hastack's table.
firewall_enabled = True
# Empty: both site networks. Networks (CIDR) SSH is open from; narrow it to your management
# network (see "The firewall").
admin_networks = []
# At least 10. Seconds a host waits, after loading a new firewall table, for a new SSH login from
# the machine running pyinfra; without one it puts its previous table back by itself.
firewall_confirm_seconds = 60

# --- every host -------------------------------------------------------------------
# What unattended-upgrades may do on the cluster's hosts, where it runs (Debian installs it with
# a desktop or on some cloud images; Ubuntu enables it by default). Left to itself it can restart
# Pacemaker, HAProxy or glusterd on both nodes in the same hour. `hold`: the cluster's packages
# (Pacemaker, Corosync and their libraries, pcs, the agents, HAProxy, GlusterFS, Docker) are held
# out of it (`Unattended-Upgrade::Package-Blacklist` in
# `/etc/apt/apt.conf.d/51hastack-unattended-upgrades`) and upgraded by `hastack upgrade`; the rest
# still gets its security updates by itself, with no automatic reboot. `disable`: it does nothing
# there (`APT::Periodic::Unattended-Upgrade "0"`), every upgrade is `hastack upgrade`'s. Empty
# (the default): no choice made, and a host where unattended-upgrades is enabled is refused
# before any host changes. Verify reads what apt makes of all its files (`apt-config dump`).
unattended_upgrades = ""
# The preflight refuses a host whose apt sources lack the suites and components its release's
# packages come from (`apt_components` in hastack/platforms.py: each release's main, Ubuntu's
# universe, jammy-updates for a web host), naming them; the run would otherwise stop halfway, at
# the first package apt cannot find. false: not checked (a mirror that publishes them under
# suites of its own names, like a dated snapshot).
apt_sources_checked = True
# How long the preflight waits for a host's own apt jobs (apt-daily, apt-daily-upgrade,
# cloud-init), and apt for its lock, before the run fails naming the host.
apt_wait_seconds = 900
