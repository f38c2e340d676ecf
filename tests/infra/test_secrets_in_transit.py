"""Secrets in transit: the hacluster and SNMP passwords never appear on a command line, where
`ps` shows them to every local user. Every command line on both proxies is recorded while the
deploy sets the hacluster password, authenticates pcsd and makes the SNMPv3 user anew."""

import os
import time

import pytest

from hastack import lab, secrets
from hastack.components.host_os import upload_dir
from hastack.components.pacemaker import HACLUSTER_MARK
from hastack.deploying import run_deploy
from hastack.site import dump_site, load_site

pytestmark = pytest.mark.lab

# Records every distinct command line on the host, every 2 ms, until its flag file goes.
SNOOP = """
import os, sys, time
seen, flag = set(), sys.argv[1]
while os.path.exists(flag):
    for pid in os.listdir("/proc"):
        try:
            seen.add(open("/proc/%s/cmdline" % pid, "rb").read().replace(b"\\0", b" ").strip())
        except (OSError, ValueError):
            pass
    time.sleep(0.002)
open(sys.argv[2], "wb").write(b"\\n".join(sorted(seen)))
open(sys.argv[2] + ".done", "w").close()
"""
FLAG, OUT = "/run/hastack-test-snoop", "/root/hastack-test-cmdlines"
SECRETS = ["hacluster_password", "snmp_auth_password", "snmp_priv_password"]
STEPS = ["pcs host auth", "chpasswd", "snmp-user"]


def test_passwords_are_on_no_command_line(deployed, lab_mode, connect, site):
    if not lab_mode:
        pytest.fail("this test redeploys, so it runs against the lab only (unset HASTACK_SITE)")
    proxies = [proxy.name for proxy in site.hosts_in("proxy")]
    for name in proxies:
        remote = connect(name)
        remote.check_output(f"rm -f {OUT} {OUT}.done; touch {FLAG}")
        remote.check_output(f"cat > /root/hastack-test-snoop.py << 'EOF'\n{SNOOP}\nEOF")
        remote.check_output(
            f"nohup setsid python3 /root/hastack-test-snoop.py {FLAG} {OUT} > /dev/null 2>&1 < /dev/null &"
        )
        # Forget pcsd's authentication, the hacluster password's digest and the SNMP user's
        # stamp: the deploy sets the password, authenticates and makes the SNMPv3 user again.
        remote.check_output(
            f"rm -f /var/lib/pcsd/known-hosts {HACLUSTER_MARK} /var/lib/hastack/snmp-user.sha256"
        )
    run = run_deploy(lab.SITE_FILE, "deploys/proxy.py", log=lab.LAB_DIR / "secrets-in-transit.log")
    seen = {}
    for name in proxies:
        remote = connect(name)
        remote.check_output(f"rm -f {FLAG}")
        for _ in range(50):
            if remote.file(f"{OUT}.done").exists:
                break
            time.sleep(0.2)
        seen[name] = remote.file(OUT).content.decode(errors="replace").splitlines()
        remote.check_output(f"rm -f {OUT} {OUT}.done /root/hastack-test-snoop.py")
    kept = [secrets.password(site.cluster, name) for name in SECRETS]
    # What the snoop must have seen run, or it proves nothing.
    done = {name: [any(step in line for line in lines) for step in STEPS] for name, lines in seen.items()}
    # Counted, never shown: a failure must not print a secret.
    exposed = {name: sum(secret in line for line in lines for secret in kept) for name, lines in seen.items()}
    assert run.returncode == 0, run.report(2000)
    assert (done, exposed) == ({name: [True] * len(STEPS) for name in proxies}, {name: 0 for name in proxies})


# Records every file below /tmp, /var/tmp and /etc/haproxy (two levels) with its mode, owner and
# folder's mode,
# every 2 ms, until its flag file goes.
WATCH = """
import os, stat, sys, time
seen, flag = set(), sys.argv[1]
while os.path.exists(flag):
    for top in ("/tmp", "/var/tmp", "/etc/haproxy"):
        for root, dirs, files in os.walk(top):
            if root.count("/") > 3:
                continue
            for name in files:
                path = os.path.join(root, name)
                try:
                    own, parent = os.lstat(path), os.lstat(root)
                except OSError:
                    continue
                seen.add("%s %o %d %o %d" % (path, stat.S_IMODE(own.st_mode), own.st_uid,
                                             stat.S_IMODE(parent.st_mode), parent.st_uid))
    time.sleep(0.002)
open(sys.argv[2], "w").write("\\n".join(sorted(seen)))
open(sys.argv[2] + ".done", "w").close()
"""


def test_a_sudo_users_uploads_are_readable_by_no_one_else(deployed, lab_mode, connect, site):
    """A deploy as the lab's sudo user puts HAProxy's certificate and key, and its configuration
    with the stats password, again on proxy2: every file on its way is in the user's private
    folder (0700), none in /tmp, and the configuration's candidate beside it is never readable
    by others, as a watcher on proxy2 sees them (the key goes through a command's stdin)."""
    if not lab_mode:
        pytest.fail("this test redeploys, so it runs against the lab only (unset HASTACK_SITE)")
    document = load_site(lab.SITE_FILE).document()
    document["ssh"]["user"] = lab.SUDO_USER
    site_file = lab.LAB_DIR / "site-sudo-uploads.yaml"
    site_file.write_text(dump_site(document))
    proxy2 = connect("proxy2")
    pem = f"/etc/haproxy/certs/{site.cluster}.pem"
    proxy2.check_output(f"cat > /root/hastack-test-watch.py << 'EOF'\n{WATCH}\nEOF")
    proxy2.check_output(f"rm -f {OUT} {OUT}.done; touch {FLAG}")
    proxy2.check_output(
        f"nohup setsid python3 /root/hastack-test-watch.py {FLAG} {OUT} > /dev/null 2>&1 < /dev/null &"
    )
    # what the deploy must put there again: the certificate with its key, and haproxy.cfg
    proxy2.check_output(f"rm -f {pem} && echo '# hastack test' >> /etc/haproxy/haproxy.cfg")
    run = run_deploy(site_file, "deploys/proxy.py", "--limit", "proxy2", log=lab.LAB_DIR / "sudo-uploads.log")
    proxy2.check_output(f"rm -f {FLAG}")
    for _ in range(50):
        if proxy2.file(f"{OUT}.done").exists:
            break
        time.sleep(0.2)
    seen = [line.split() for line in proxy2.file(OUT).content_string.splitlines()]
    proxy2.check_output(f"rm -f {OUT} {OUT}.done /root/hastack-test-watch.py")
    uid = proxy2.check_output(f"id -u {lab.SUDO_USER}")
    folder = upload_dir(lab.SUDO_USER)
    uploads = [entry for entry in seen if os.path.basename(entry[0]).startswith("pyinfra-")]
    private = [e for e in uploads if os.path.dirname(e[0]) == folder and e[3:] == ["700", uid]]
    # haproxy.cfg's candidate, made 0600 before the content goes in: never readable by others
    candidates = [entry for entry in seen if entry[0].endswith(".hastack-new")]
    open_to_others = [entry for entry in candidates if int(entry[1], 8) & 0o004]
    assert (
        run.returncode,
        proxy2.file(pem).exists,
        len(uploads) > 0,
        uploads == private,
        len(candidates) > 0,
        open_to_others,
    ) == (0, True, True, True, True, []), (
        f"{run.report(1500)}\nuploads seen: {uploads}\ncandidates: {candidates}"
    )
