"""`hastack drill raid` on the lab's site: a RAID-1 member fails under writes in the lab's
qemu VM (apart from the cluster: it needs no deployed lab, so it runs beside the Debian 12
run), is re-added and resyncs; every file written reads back the same."""

import subprocess
import sys
from pathlib import Path

from hastack import lab
from hastack.lab.layout import lab_hosts

HASTACK = str(Path(sys.executable).with_name("hastack"))


def test_raid_drill_in_the_vm_loses_no_data_and_resyncs(tmp_path):
    site = tmp_path / "lab-site.yaml"
    site.write_text(lab.site_text(lab.DEFAULT_RELEASE, lab_hosts()))
    result = subprocess.run(
        [HASTACK, "drill", str(site), "raid", "--seconds", "20"],
        cwd=lab.ROOT,
        text=True,
        capture_output=True,
        timeout=1800,
    )
    print(result.stdout[-4000:])
    assert (result.returncode, "| YES |" in result.stdout, "re-added (resynced)" in result.stdout) == (
        0,
        False,
        True,
    ), result.stderr[-2000:]
