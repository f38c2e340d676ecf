"""cloud-init, as a cloud image leaves it, does not take the hostname or /etc/hosts back from
hastack: on the lab's client with Debian's cloud-init and an image's settings (set the hostname
from its data, manage /etc/hosts), its modules run after a deploy change neither; with hastack's
identity file taken away, the same modules do (so the test can fail), and the deploy mends it."""

import pytest

from hastack import lab
from hastack.components.base import CLOUD_INIT_DIR, CLOUD_INIT_IDENTITY_FILE
from hastack.deploying import run_deploy
from tests.harness import lab_only_fixture

pytestmark = pytest.mark.lab

lab_only = lab_only_fixture("this test installs cloud-init on the lab's client and runs its modules")

# What a cloud image's own settings say (a file that sorts before hastack's, after Debian's
# 90_dpkg.cfg): no datasource to look for (DataSourceNone), a hostname of the image's, and
# /etc/hosts managed by cloud-init.
IMAGE_CFG = f"{CLOUD_INIT_DIR}/95-image.cfg"
IMAGE_SETTINGS = (
    "datasource_list: [None]\n"
    "preserve_hostname: false\n"
    "hostname: image-name\n"
    "fqdn: image-name.invalid\n"
    "manage_etc_hosts: true\n"
)
IDENTITY_CFG = CLOUD_INIT_IDENTITY_FILE
MODULES = ("set_hostname", "update_hostname", "update_etc_hosts")


def run_modules(client) -> None:
    """Each module once, as at a boot; each must run (a broken run would keep the names too)."""
    for module in MODULES:
        client.check_output(f"cloud-init single --name {module} --frequency always")


def identity(client) -> tuple[str, str]:
    return client.check_output("hostname"), client.check_output("sha256sum /etc/hosts | cut -c1-64")


def client_deploy(log: str):
    return run_deploy(lab.SITE_FILE, "deploys/client.py", "--limit", "client", log=lab.LAB_DIR / log)


def test_cloud_init_leaves_the_hostname_and_hosts_to_hastack(lab_only, deployed, connect):
    client = connect("client")
    try:
        client.check_output(
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cloud-init"
        )
        # The image's settings; cloud-init's own boot is not asked for (the modules are run by hand).
        client.check_output(f"printf '%s' '{IMAGE_SETTINGS}' > {IMAGE_CFG}")
        client.check_output("touch /etc/cloud/cloud-init.disabled")
        deploy = client_deploy("cloud-init.log")
        before = identity(client)
        run_modules(client)
        kept = identity(client)
        # Without hastack's file, the same modules take the hostname and /etc/hosts.
        client.check_output(f"rm {IDENTITY_CFG}")
        run_modules(client)
        taken = identity(client)
        mended = client_deploy("cloud-init-mended.log")
        run_modules(client)
        after = identity(client)
    finally:
        client.run(f"rm -f {IMAGE_CFG} /etc/cloud/cloud-init.disabled")
        client.run("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q cloud-init")
        client.run("DEBIAN_FRONTEND=noninteractive apt-get autoremove --purge -y -q")
        client.run(f"rm -rf {CLOUD_INIT_DIR} /var/lib/cloud")
        restored = client_deploy("cloud-init-restored.log")
    assert (
        deploy.returncode,
        before[0],
        kept,
        taken[0],
        taken[1] != before[1],
        mended.returncode,
        after,
        restored.returncode,
        connect("client").check_output("hostname"),
    ) == (0, "client", before, "image-name", True, 0, before, 0, "client"), deploy.report(
        1500
    ) + mended.report(1500)
