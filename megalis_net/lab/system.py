"""The few system calls the lab makes: ip, tc, sysctl, and process checks."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from megalis_net.errors import MegalisError


class LabError(MegalisError):
    """A lab operation that failed: names the command and what it said."""


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root: it creates network namespaces (run it as root)")


def run(
    command: Sequence[str], stdin: str | None = None, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            list(command), input=stdin, capture_output=True, text=True, timeout=timeout
        )
    except FileNotFoundError as exc:
        raise LabError(f"{command[0]} not found: run scripts/install-system") from exc
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"{' '.join(command)}: no answer after {timeout:g} s") from exc
    if check and result.returncode != 0:
        said = (result.stderr or result.stdout).strip().splitlines()
        raise LabError(f"{' '.join(command)}: {said[0] if said else f'exit {result.returncode}'}")
    return result


def ip_batch(lines: Iterable[str], netns: str | None = None) -> None:
    """Many ``ip`` commands in one process (thousands of veths in ~2 s)."""
    batch = "\n".join(lines)
    if not batch:
        return
    where = ["-n", netns] if netns else []
    # -force: go on after an error, so that one report names every failed line
    result = run(["ip", *where, "-force", "-batch", "-"], stdin=batch + "\n", check=False)
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[0]
        raise LabError(f"ip {' '.join(where)} -batch: {first}")


def namespaces() -> set[str]:
    result = run(["ip", "-j", "netns", "list"], check=False)
    if result.returncode != 0 or not result.stdout.strip():
        return set()
    return {entry["name"] for entry in json.loads(result.stdout)}


def links(netns: str | None = None) -> dict[str, dict[str, Any]]:
    """Interfaces by name, with their addresses (``ip -j addr``)."""
    where = ["-n", netns] if netns else []
    result = run(["ip", *where, "-j", "addr", "show"])
    return {entry["ifname"]: entry for entry in json.loads(result.stdout or "[]")}


def addresses(link: dict[str, Any]) -> set[str]:
    return {
        f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if a["family"] == "inet"
    }


def sysctls(netns: str, settings: dict[str, str]) -> None:
    args = [f"{key}={value}" for key, value in settings.items()]
    run(["ip", "netns", "exec", netns, "sysctl", "-q", "-w", *args])


def pid_of(pid_file: Path) -> int | None:
    """The PID in ``pid_file`` if that process is alive (and not a zombie)."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def wait_for_pid(pid_file: Path, timeout: float = 5.0) -> int | None:
    """A daemon writes its PID file just after it forks: give it a moment."""
    deadline = time.monotonic() + timeout
    while (pid := pid_of(pid_file)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return pid


def stop_pid(pid: int, wait: float = 5.0) -> None:
    stop_pids([pid], wait)


def stop_pids(pids: Iterable[int], wait: float = 5.0) -> None:
    """SIGTERM to all at once, then SIGKILL to those still there after ``wait`` seconds."""
    left = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            left.append(pid)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + wait
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [pid for pid in left if _alive(pid)]
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
