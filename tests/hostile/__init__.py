"""Hostile tests: faults and attacks against the running system (issue 10)."""
