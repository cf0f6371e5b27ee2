"""The worker: the front end that reads the outbox and runs the periodic jobs."""
