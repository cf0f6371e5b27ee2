"""Dispatcher and session middlewares."""
