"""Local fakes of external services and ports, for tests and benchmarks."""
