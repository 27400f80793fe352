"""Benchmarks: scripts that print figures; they never fail on time."""
