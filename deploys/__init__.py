"""What one runs with pyinfra: all.py, one file per role, base_only.py and raid_only.py.

The components they run live in the package, hastack/components/.
"""
