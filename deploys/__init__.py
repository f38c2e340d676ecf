"""What one runs with pyinfra: all.py, one file per role, and base_only.py, raid_only.py and
storage_only.py (layers alone, for the VM tests).

The components they run live in the package, hastack/components/.
"""
