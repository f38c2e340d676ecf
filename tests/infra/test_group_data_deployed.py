"""group_data/, as pyinfra users expect it (docs/real-servers.md, "Group data"): web_port set in
group_data/web.py, in the folder pyinfra runs from, changes what NGINX listens on, where HAProxy
sends requests, and what the checks (``hastack verify``'s) expect; a bad value there is refused
naming the file before any host is touched. The lab goes back to its own port at the end."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hastack import lab
from hastack.defaults import ROOT
from hastack.deploying import run_deploy
from hastack.health import backend_problems
from hastack.maintenance import STAT

pytestmark = [pytest.mark.lab]


def checks(folder: Path) -> subprocess.CompletedProcess:
    """The checks of ``hastack verify`` that read web_port (NGINX's, and HAProxy's servers), run
    from ``folder`` (its group_data/)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-m",
            "not lab",
            "-p",
            "no:cacheprovider",
            str(ROOT / "hastack/checks/test_web.py"),
            f"{ROOT}/hastack/checks/test_proxy.py::test_haproxy_follows_the_sites_settings",
        ],
        cwd=folder,
        env={**os.environ, "HASTACK_SITE": str(lab.SITE_FILE)},
        text=True,
        capture_output=True,
    )


def listening(connect, name: str) -> set[int]:
    out = connect(name).check_output("ss -Hltn")
    return {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines()}


def test_web_port_in_group_data_changes_nginx_haproxy_and_the_checks(
    site, deployed, lab_mode, connect, tmp_path
):
    if not lab_mode:
        pytest.fail("this test redeploys the lab, so it runs against the lab only (unset HASTACK_SITE)")
    webs = [host.name for host in site.hosts_in("web")]
    before = site.setting("web_port", site.hosts[webs[0]])
    port = before + 1
    (tmp_path / "group_data").mkdir()
    (tmp_path / "group_data" / "web.py").write_text(f"# the shop's NGINX port\nweb_port = {port}\n")
    try:
        run = run_deploy(lab.SITE_FILE, cwd=tmp_path, log=lab.LAB_DIR / "group-data.log")
        assert run.returncode == 0, run.report(3000)
        proxy = connect(site.hosts_in("proxy")[0].name)
        # The backend's server lines only (the file holds the stats password too).
        haproxy = "\n".join(
            line
            for line in proxy.file("/etc/haproxy/haproxy.cfg").content_string.splitlines()
            if " server " in line
        )
        assert (
            {name: port in listening(connect, name) for name in webs},
            {name: before in listening(connect, name) for name in webs},
            all(f"{site.hosts[name].addresses['back']}:{port}" in haproxy for name in webs),
        ) == ({name: True for name in webs}, {name: False for name in webs}, True), haproxy
        # HAProxy itself sends to the new port (its saved server states do not pin the old one)
        deadline = time.monotonic() + 60
        while (down := backend_problems(proxy.check_output(STAT), webs)) and time.monotonic() < deadline:
            time.sleep(2)
        assert down == {}, down
        # The checks read the same group data: they hold from this folder, and fail from one
        # without it (they expect the site's own port there).
        here, elsewhere = checks(tmp_path), checks(ROOT)
        assert (here.returncode, elsewhere.returncode) == (0, 1), (
            here.stdout[-3000:] + elsewhere.stdout[-1500:]
        )

        # A bad value there: refused naming the file and the key, before any host is touched.
        (tmp_path / "group_data" / "web.py").write_text("web_port = 0\n")
        bad = run_deploy(lab.SITE_FILE, cwd=tmp_path, log=lab.LAB_DIR / "group-data-bad.log")
        assert (bad.returncode, "group_data/web.py: web_port" in bad.output, "Connected" in bad.output) == (
            2,
            True,
            False,
        ), bad.report(2000)
    finally:
        back = run_deploy(lab.SITE_FILE, log=lab.LAB_DIR / "group-data-back.log")
    assert back.returncode == 0, back.report(3000)
    assert {name: before in listening(connect, name) for name in webs} == {name: True for name in webs}
