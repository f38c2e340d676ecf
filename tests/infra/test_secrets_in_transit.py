"""Secrets in transit: the hacluster and SNMP passwords never appear on a command line, where
`ps` shows them to every local user. Every command line on both proxies is recorded while the
deploy sets the hacluster password, authenticates pcsd and makes the SNMPv3 user anew."""

import time

import pytest

from hastack import lab, secrets
from hastack.deploying import run_deploy

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
        # Forget pcsd's authentication and the SNMP user's stamp: the deploy sets the
        # password, authenticates and makes the SNMPv3 user again.
        remote.check_output("rm -f /var/lib/pcsd/known-hosts /var/lib/hastack/snmp-user.sha256")
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
