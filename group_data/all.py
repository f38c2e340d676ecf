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
