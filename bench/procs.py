"""Processes the bench starts: each in its own session, stopped by process group, always."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proc:
    """A child started in a new session (its own process group), logging to a file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log: Path,
    ) -> None:
        self.name = name
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._out = log.open("ab")
        self.started = time.perf_counter()
        self.popen = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _RUNNING.add(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the whole group, then SIGKILL to what is left after ``timeout``."""
        try:
            if self.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(timeout)
            # Workers or helpers may outlive the leader: the group goes in any case.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(5)
        finally:
            self._out.close()
            _RUNNING.discard(self)

    def group_pids(self) -> list[int]:
        return group_pids(self.pid)

    def rss_bytes(self) -> int:
        return sum(rss_of(pid) for pid in self.group_pids())

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


_RUNNING: set[Proc] = set()


def stop_all() -> None:
    """Stop every process this bench started and has not stopped yet (newest first)."""
    for proc in sorted(_RUNNING, key=lambda p: p.started, reverse=True):
        with contextlib.suppress(Exception):
            proc.stop(timeout=10)


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def pg_backend_pids(database: str) -> list[int]:
    """PostgreSQL backends connected to ``database`` (their title names it)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            pids.append(int(entry))
    return pids


class CpuMeter:
    """CPU seconds used by a set of processes between ``start()`` and ``stop()``."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self._pids = pids
        self._start: dict[int, float] = {}
        self.seconds = 0.0

    def start(self) -> None:
        self._start = {pid: cpu_of(pid) for pid in self._pids()}

    def stop(self) -> float:
        now = {pid: cpu_of(pid) for pid in self._pids()}
        # Processes that appeared meanwhile count from zero; those gone are lost (rare).
        self.seconds = sum(v - self._start.get(pid, 0.0) for pid, v in now.items())
        return self.seconds


def rss_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class RssSampler:
    """Samples the summed RSS of a process group in a thread; ``peak`` is the highest seen."""

    def __init__(self, proc: Proc, interval: float = 0.25) -> None:
        self.proc = proc
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.rss_bytes())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.rss_bytes())


def http_get(port: int, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_post(
    port: int, path: str, body: bytes, headers: Mapping[str, str] | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(
            "POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})}
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_http_200(proc: Proc, port: int, path: str, timeout: float, poll: float = 0.01) -> float:
    """Seconds from the process start to the first 200 on ``path``; raises on death or timeout."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.tail()}")
        try:
            status, _ = http_get(port, path)
            if status == 200:
                return time.perf_counter() - proc.started
        except OSError:
            pass
        time.sleep(poll)
    raise RuntimeError(f"{proc.name}: no 200 on {path} within {timeout:.0f} s:\n{proc.tail()}")


def wait_port(proc: Proc, port: int, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.tail()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{proc.name}: port {port} not open within {timeout:.0f} s:\n{proc.tail()}")


@contextlib.contextmanager
def stopped_on_exit() -> Iterator[None]:
    """Every process started inside is stopped on the way out, also on error or Ctrl-C."""
    previous = signal.getsignal(signal.SIGTERM)

    def _term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    try:
        yield
    finally:
        stop_all()
        signal.signal(signal.SIGTERM, previous)
