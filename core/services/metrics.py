"""What the core counts. The default counts nothing; ``core.adapters.metrics`` exports it."""

from __future__ import annotations


class Metrics:
    def codes_sent(self) -> None:
        """A code left through the SMS sender."""

    def codes_failed(self) -> None:
        """The SMS sender refused or failed."""

    def logged_in(self, *, created: bool) -> None:
        """A successful login; ``created`` on the first one of a phone."""

    def login_failed(self) -> None:
        """A login refused for a wrong, expired or used code, or a lock."""

    def activated(self) -> None:
        """An invite code was activated."""
