"""Minimal hand-written apps: each bare framework doing the generated service's work."""
