"""Adapters the composition root picks: clocks, SMS senders, metrics."""
