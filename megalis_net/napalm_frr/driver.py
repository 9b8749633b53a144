"""NAPALM driver for FRR 8.4 over SSH: vtysh on the router, frr-reload.py for replace.

The router side of commit, rollback and commit-confirm is ``onrouter.py``,
copied to the router's state directory on ``open()``.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from shlex import quote
from typing import Any

from napalm.base import NetworkDriver
from napalm.base.exceptions import (
    CommandErrorException,
    CommitConfirmException,
    CommitError,
    MergeConfigException,
    ReplaceConfigException,
)
from napalm.base.helpers import sanitize_config

from megalis_net.napalm_frr import getters
from megalis_net.napalm_frr.onrouter import (
    NOTHING,
    REJECTED,
    candidate_form,
    merge_additions,
    parse_reload_test,
)
from megalis_net.napalm_frr.ssh import Output, SshSession

ONROUTER = Path(__file__).with_name("onrouter.py")
# The router has been up as long as its zebra (the lab's routers share one kernel).
ZEBRA_PID = "/var/run/frr/zebra.pid"

# Secrets FRR can hold in its config (passwords of BGP, IS-IS, OSPF, the vty).
SANITIZE_FILTERS = {
    r"^(\s*neighbor \S+ password) \S+$": r"\1 <removed>",
    r"^(\s*(?:isis|area|domain) password (?:clear|md5)) \S+(.*)$": r"\1 <removed>\2",
    r"^(\s*ip ospf (?:authentication|message-digest)-key(?: \d+ md5)?) \S+$": r"\1 <removed>",
    r"^(\s*(?:enable )?password) \S+$": r"\1 <removed>",
    r"^(\s*key-string) \S+$": r"\1 <removed>",
}


@dataclass(frozen=True)
class Candidate:
    """A loaded candidate: replace or merge, and its text (banner stripped)."""

    mode: str
    text: str


class FrrDriver(NetworkDriver):  # type: ignore[misc]  # napalm ships no type stubs
    """FRR router reached over SSH (key-based), where plain ``vtysh`` acts on it.

    ``optional_args``: ``port`` (22), ``key_file`` (private key; the password
    may be empty), ``known_hosts`` (a file to check host keys against; without
    it unknown host keys are accepted, as lab routers get new ones each time),
    ``vtysh`` ("vtysh"), ``frr_reload`` ("/usr/lib/frr/frr-reload.py"),
    ``python`` ("python3", on the router), ``state_dir`` ("/etc/frr/napalm-frr",
    where the router keeps the candidate, the config saved for rollback and
    the commit-confirm timer), ``startup_config`` ("/etc/frr/frr.conf"),
    ``commit_timeout`` (600 s: a commit, rollback or confirm).
    """

    def __init__(
        self,
        hostname: str,
        username: str,
        password: str,
        timeout: int = 60,
        optional_args: dict[str, Any] | None = None,
    ) -> None:
        args = optional_args or {}
        self.hostname = hostname
        self.username = username
        self.password = password
        self.timeout = timeout
        self.vtysh = str(args.get("vtysh", "vtysh"))
        self.frr_reload = str(args.get("frr_reload", "/usr/lib/frr/frr-reload.py"))
        self.python = str(args.get("python", "python3"))
        self.state_dir = str(args.get("state_dir", "/etc/frr/napalm-frr"))
        self.startup_config = str(args.get("startup_config", "/etc/frr/frr.conf"))
        self.commit_timeout = float(args.get("commit_timeout", 600))
        self.session = SshSession(
            hostname,
            username,
            port=int(args.get("port", 22)),
            key_file=args.get("key_file"),
            password=password,
            timeout=timeout,
            known_hosts=args.get("known_hosts"),
        )
        self.candidate: Candidate | None = None
        # A commit-confirm that changed nothing arms no timer: confirming it is a no-op.
        self.confirm_is_noop = False

    # Connection

    def open(self) -> None:
        self.session.open()
        self.session.put(ONROUTER.read_text(), self._state("onrouter.py"))

    def close(self) -> None:
        self.session.close()

    def is_alive(self) -> dict[str, bool]:
        return {"is_alive": self.session.alive}

    # Candidates

    def load_replace_candidate(
        self, filename: str | None = None, config: str | None = None
    ) -> None:
        self._load("replace", filename, config, ReplaceConfigException)

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self._load("merge", filename, config, MergeConfigException)

    def _load(
        self, mode: str, filename: str | None, config: str | None, error: type[Exception]
    ) -> None:
        """Send the candidate to the router and have FRR's parser check it (applies nothing)."""
        self.discard_config()
        if filename is not None:
            config = Path(filename).read_text(encoding="utf-8")
        if config is None:
            raise error(f"{self.hostname}: no candidate given (filename or config)")
        text = candidate_form(config)
        self.session.put(text, self._state("candidate.conf"))
        check = self._run(f"{self.vtysh} -C -f {quote(self._state('candidate.conf'))}")
        if check.code != 0:
            raise error(f"{self.hostname}: FRR rejects the candidate: {one_line(check)}")
        self.candidate = Candidate(mode, text)

    def compare_config(self) -> str:
        """Replace: unified diff running → candidate. Merge: the lines it would add (``+``)."""
        if self.candidate is None:
            return ""
        if self.candidate.mode == "merge":
            test = self._run(
                f"{self.python} {self.frr_reload} --test {quote(self._state('candidate.conf'))}"
            )
            self._check(test, "frr-reload.py --test")
            additions = merge_additions(parse_reload_test(test.stdout), self.candidate.text)
            return "".join(f"+{line}\n" for line in additions)
        running = self._running_config()
        diff = difflib.unified_diff(
            running.splitlines(keepends=True),
            self.candidate.text.splitlines(keepends=True),
            "running",
            "candidate",
        )
        return "".join(diff)

    def discard_config(self) -> None:
        self.candidate = None

    # Commit, confirm, rollback

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        """Apply the candidate; with ``revert_in`` the router reverts by itself unless confirmed.

        FRR keeps no commit history: ``message`` is not recorded.
        """
        if self.candidate is None:
            raise CommitError(f"{self.hostname}: no candidate loaded")
        mode = self.candidate.mode
        revert = f" --revert-in {int(revert_in)}" if revert_in is not None else ""
        result = self._onrouter(f"commit {mode} {quote(self._state('candidate.conf'))}{revert}")
        if result.code == REJECTED:
            rejected = ReplaceConfigException if mode == "replace" else MergeConfigException
            raise rejected(f"{self.hostname}: {result.stderr.strip()}")
        self._check(result, "commit", CommitError)
        outcome = json.loads(result.stdout)
        self.confirm_is_noop = revert_in is not None and not outcome["changed"]
        self.candidate = None

    def confirm_commit(self) -> None:
        if self.confirm_is_noop:
            self.confirm_is_noop = False
            return
        result = self._onrouter("confirm")
        if result.code == NOTHING:
            raise CommitConfirmException(f"{self.hostname}: {result.stderr.strip()}")
        self._check(result, "confirm", CommitConfirmException)

    def has_pending_commit(self) -> bool:
        result = self._onrouter("pending")
        self._check(result, "pending")
        return json.loads(result.stdout) is not None

    def rollback(self) -> None:
        """Back to the running config saved before the last commit (cancels a pending one)."""
        self.confirm_is_noop = False
        self._check(self._onrouter("rollback"), "rollback", CommitError)

    # Getters

    def get_facts(self) -> dict[str, Any]:
        version = self._vtysh("show version")
        clock = self._run(f"cat /proc/uptime /proc/$(cat {ZEBRA_PID})/stat; getconf CLK_TCK")
        self._check(clock, "zebra's uptime")
        uptime = getters.process_uptime(clock.stdout)
        return getters.facts(version, uptime, self._interfaces_json())

    def get_interfaces(self) -> dict[str, dict[str, Any]]:
        return getters.interfaces(self._interfaces_json())

    def get_interfaces_ip(self) -> dict[str, dict[str, Any]]:
        return getters.interfaces_ip(self._interfaces_json())

    def get_bgp_neighbors(self) -> dict[str, dict[str, Any]]:
        summary = json.loads(self._vtysh("show bgp vrf all summary json") or "{}")
        neighbors = json.loads(self._vtysh("show bgp vrf all neighbors json") or "{}")
        return getters.bgp_neighbors(summary, neighbors)

    def get_config(
        self,
        retrieve: str = "all",
        full: bool = False,
        sanitized: bool = False,
        format: str = "text",
    ) -> dict[str, str]:
        """Running (banner stripped), startup (frr.conf) and the loaded candidate.

        FRR has no "show running-config all": ``full`` changes nothing.
        """
        configs = {"running": "", "startup": "", "candidate": ""}
        if retrieve in ("all", "running"):
            configs["running"] = self._running_config()
        if retrieve in ("all", "startup"):
            startup = self._run(f"cat {quote(self.startup_config)}")
            self._check(startup, f"read {self.startup_config}")
            configs["startup"] = startup.stdout
        if retrieve in ("all", "candidate") and self.candidate is not None:
            configs["candidate"] = self.candidate.text
        if sanitized:
            configs = {
                name: sanitize_config(text, SANITIZE_FILTERS) for name, text in configs.items()
            }
        return configs

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        """vtysh's output of each command (``... json`` commands print JSON text)."""
        if encoding != "text":
            raise NotImplementedError(f"{self.hostname}: encoding {encoding!r}: only text")
        return {command: self._vtysh(command) for command in commands}

    # Helpers

    def _state(self, name: str) -> str:
        return f"{self.state_dir}/{name}"

    def _run(self, command: str, timeout: float | None = None) -> Output:
        return self.session.run(command, timeout=timeout)

    def _onrouter(self, command: str) -> Output:
        script = quote(self._state("onrouter.py"))
        return self._run(
            f"{self.python} {script} --state {quote(self.state_dir)} --vtysh {self.vtysh}"
            f" --frr-reload {self.frr_reload} {command}",
            timeout=self.commit_timeout,
        )

    def _check(
        self, result: Output, what: str, error: type[Exception] = CommandErrorException
    ) -> None:
        if result.code != 0:
            raise error(f"{self.hostname}: {what} failed: {one_line(result)}")

    def _vtysh(self, command: str) -> str:
        result = self._run(f"{self.vtysh} -c {quote(command)}")
        self._check(result, command)
        return result.stdout

    def _running_config(self) -> str:
        return candidate_form(self._vtysh("show running-config"))

    def _interfaces_json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self._vtysh("show interface json"))
        return parsed


def one_line(result: Output) -> str:
    """A command's messages on one line (vtysh reports errors on stdout)."""
    lines = (result.stderr + result.stdout).strip().splitlines()
    return "; ".join(line.strip() for line in lines if line.strip()) or f"exit code {result.code}"
