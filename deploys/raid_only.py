"""The RAID layer alone, on the web hosts: pyinfra inventory.py deploys/raid_only.py --limit web1

Used by the RAID VM test and the RAID drill in the lab, whose VM is a web host
with disks and nothing else.
"""

from hastack.components.raid import deploy_raid

deploy_raid()
