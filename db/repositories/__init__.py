"""Repositories over one ``AsyncConnection`` inside a transaction opened by the unit of work."""
