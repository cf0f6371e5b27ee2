"""Benchmarks of the referral service against a bare ASGI ceiling: ``make bench``."""
