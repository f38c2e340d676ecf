# Defaults of every hastack data key: the one place they are written.
# Override any key for the whole site under `data:` in the site file, or for one
# host under `hosts.<name>.data:`. Each key is documented in README.md.

# --- base: every host ---------------------------------------------------------
# Apply the netplan file with `netplan apply` when it changes. The lab sets this
# false: Docker owns the lab's addresses.
netplan_apply = True
# Where the rendered netplan file goes.
netplan_file = "/etc/netplan/60-hastack.yaml"
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
