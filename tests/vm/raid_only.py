"""Entry point of the RAID VM test: the RAID layer alone (run with --limit web1)."""

from deploys.raid import deploy_raid

deploy_raid()
