"""The driver's helper that runs ON the FRR router (Python standard library only).

The driver copies this file to the router's state directory when it
connects and runs it there with ``python3`` (frr-pythontools needs Python
already). Doing commit, rollback and commit-confirm on the router itself
keeps each of them in one place under one lock, and lets the commit-confirm
timer outlive the SSH session that armed it.

Commands (one line of JSON on stdout, or exit code + message on stderr)::

    onrouter.py commit replace|merge CANDIDATE [--revert-in SECONDS]
    onrouter.py confirm | rollback | pending
    onrouter.py revert-after SECONDS      # the detached commit-confirm timer
    onrouter.py sync-aliases [--config FILE|-]

FRR keeps interface descriptions to itself, where a router's SNMP agent
reports them as ifAlias (IF-MIB): after every change, the descriptions are
written to the kernel's interface aliases (``/sys/class/net/*/ifalias``),
which snmpd reports, so verification can match interfaces by description
as it does on any router.

Files in the state directory: ``rollback.conf`` (the running config saved
before the last commit), ``pending.json`` (the timer's PID and deadline
while a commit waits for confirmation), ``lock``, ``revert.log``.

Replace takes its diff from ``frr-reload.py --test`` and applies it in
``vtysh -f`` batches: the deletions first (frr-reload's own ``--reload``
sends each deleted line as its own vtysh call: minutes for thousands of
sites), the route-maps, then the additions; the running config's text must
then equal the candidate. Only if it does not does ``frr-reload.py
--reload`` run, with its own retries (see ``Router.replace``).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RELOAD = "/usr/lib/frr/frr-reload.py"
BANNER = ("Building configuration...", "Current configuration:")
EMPTY_INTERFACE = re.compile(r"^interface \S+\nexit\n!\n", re.MULTILINE)
ROUTE_MAP = re.compile(
    r"^route-map (\S+) (?:permit|deny) (\d+)\n(?:(?!exit\n).*\n)*?exit\n!\n", re.MULTILINE
)

# "no" commands FRR 8.4 only takes without their argument (frr-reload.py
# finds that out word by word, a vtysh call per word and per line).
ARGUMENTLESS_NO = ("no description",)
MAX_DELETION_ROUNDS = 6

# Exit codes the driver maps to NAPALM exceptions.
OK, REJECTED, FAILED_RESTORED, FAILED_NOT_RESTORED, PENDING, NOTHING = 0, 3, 4, 5, 6, 7


def policy_blocks(config: str) -> str:
    """The prefix-lists and route-maps of ``config``, as vtysh input.

    FRR 8.4 never originates a VPN ``network ... route-map NAME`` configured
    before NAME exists, and does not look again once it does; FRR prints
    route-maps after ``router bgp``, so a config loaded in that order (a cold
    start, or frr-reload's additions) loses those routes. Defining the
    policies first avoids it.

    >>> print(policy_blocks("router bgp 1\\nexit\\nip prefix-list P seq 5 permit 0.0.0.0/0\\n"
    ...                     "route-map M permit 10\\n set local-preference 200\\nexit\\n!\\nend\\n"), end="")
    ip prefix-list P seq 5 permit 0.0.0.0/0
    route-map M permit 10
     set local-preference 200
    exit
    """
    out: list[str] = []
    inside = False
    for line in config.splitlines():
        if line.startswith("route-map "):
            inside = True
        if inside or line.startswith("ip prefix-list "):
            out.append(line)
        if inside and line == "exit":
            inside = False
    return "".join(f"{line}\n" for line in out)


class RouterError(Exception):
    """A failure to report to the driver with its exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def candidate_form(config: str) -> str:
    """The config as a candidate file holds it: without vtysh's banner, and
    without empty interface blocks (FRR keeps one, at the end of its
    interfaces, for an interface whose every line was removed; it configures
    nothing, and frr-reload.py ignores it too).

    Examples:
        >>> candidate_form("Building configuration...\\n\\nCurrent configuration:\\n!\\n"
        ...                "frr version 8.4.4\\nfrr defaults traditional\\n!\\n"
        ...                "interface eth1\\nexit\\n!\\nend\\n")
        'frr defaults traditional\\n!\\nend\\n'
    """
    lines = config.splitlines()
    while lines and (
        lines[0] in BANNER or lines[0].startswith("frr version") or lines[0] in ("", "!")
    ):
        lines.pop(0)
    text = "".join(f"{line}\n" for line in lines)
    return _route_maps_by_name(EMPTY_INTERFACE.sub("", text))


def _route_maps_by_name(text: str) -> str:
    """Each run of route-map blocks sorted by name and sequence. FRR prints
    route-maps in the order they were created, so a route-map added after
    others (a community's first site) would stand as a diff that no reload
    removes; their order means nothing.

    Examples:
        >>> _route_maps_by_name("x\\nroute-map B permit 10\\nexit\\n!\\n"
        ...                     "route-map A deny 5\\n match x\\nexit\\n!\\nend\\n")
        'x\\nroute-map A deny 5\\n match x\\nexit\\n!\\nroute-map B permit 10\\nexit\\n!\\nend\\n'
    """
    pieces: list[str] = []
    run: list[re.Match[str]] = []
    position = 0

    def flush() -> None:
        ordered = sorted(run, key=lambda m: (m.group(1), int(m.group(2))))
        pieces.extend(m.group(0) for m in ordered)
        run.clear()

    for match in ROUTE_MAP.finditer(text):
        if run and match.start() != run[-1].end():
            flush()
        if not run:
            pieces.append(text[position : match.start()])
        run.append(match)
        position = match.end()
    if run:
        flush()
    pieces.append(text[position:])
    return "".join(pieces)


@dataclass(frozen=True)
class ReloadDiff:
    """What ``frr-reload.py --test`` says a reload would do, as vtysh input lines."""

    deletions: tuple[str, ...]
    additions: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.deletions and not self.additions


def parse_reload_test(output: str) -> ReloadDiff:
    """Split ``frr-reload.py --test`` output into its two sections.

    Static routes frr-reload removes with ``no ip route`` among the additions.

    Examples:
        >>> parse_reload_test("\\nLines To Delete\\n===============\\nrouter bgp 1\\n"
        ...                   " no neighbor 10.0.0.1 shutdown\\n\\nLines To Add\\n"
        ...                   "============\\nno ip route 192.0.2.0/28 10.0.0.1\\n")
        ReloadDiff(deletions=('router bgp 1', ' no neighbor 10.0.0.1 shutdown'), additions=('no ip route 192.0.2.0/28 10.0.0.1',))
    """
    sections: dict[str, list[str]] = {"Lines To Delete": [], "Lines To Add": []}
    current: list[str] | None = None
    for line in output.splitlines():
        if line in sections:
            current = sections[line]
        elif current is not None and line.strip() and not set(line) <= {"="}:
            current.append(line)
    return ReloadDiff(tuple(sections["Lines To Delete"]), tuple(sections["Lines To Add"]))


def merge_additions(diff: ReloadDiff, candidate: str) -> tuple[str, ...]:
    """The lines a merge of ``candidate`` adds: frr-reload's additions without the
    ``no ip route`` lines it lists there for the running static routes the
    (partial) candidate lacks, which a merge keeps.

    Examples:
        >>> merge_additions(ReloadDiff((), ("no ip route 10.0.0.0/8 blackhole",
        ...   "ip route 192.0.2.0/28 blackhole")), "ip route 192.0.2.0/28 blackhole\\n")
        ('ip route 192.0.2.0/28 blackhole',)
    """
    lines = set(candidate.splitlines())
    return tuple(line for line in diff.additions if not line.startswith("no ") or line in lines)


def deletion_entries(lines: tuple[str, ...]) -> list[list[str]]:
    """frr-reload's deletions, one entry per command: its context lines, then the ``no``
    command (known argument-less ``no`` forms already shortened).

    Examples:
        >>> deletion_entries(("interface eth1", " no description to Brest",
        ...                   "router bgp 1", " address-family ipv4 vpn", "  no network 10.0.0.0/8"))
        [['interface eth1', ' no description'], ['router bgp 1', ' address-family ipv4 vpn', '  no network 10.0.0.0/8']]
    """
    entries: list[list[str]] = []
    for line in lines:
        if not line.startswith(" ") or not entries:
            entries.append([])
        entries[-1].append(line)
    for entry in entries:
        command = entry[-1].lstrip()
        for bare in ARGUMENTLESS_NO:
            if command.startswith(f"{bare} "):
                entry[-1] = entry[-1][: len(entry[-1]) - len(command)] + bare
    return entries


def shorten(entry: list[str]) -> list[str] | None:
    """The entry with its command's last word dropped; None when nothing is left to drop.

    Examples:
        >>> shorten(["router bgp 1", " no network 10.0.0.0/8 route-map X"])
        ['router bgp 1', ' no network 10.0.0.0/8 route-map']
        >>> shorten(["no router"]) is None
        True
    """
    words = entry[-1].split(" ")
    if len([word for word in words if word]) <= 2:
        return None
    return [*entry[:-1], " ".join(words[:-1])]


def refused_lines(output: str) -> list[int]:
    """Line numbers (from 1) that ``vtysh -f`` reports as refused.

    Examples:
        >>> refused_lines("line 2: % Unknown command[17]:  no description x\\nline 9: % x\\n")
        [2, 9]
    """
    return [int(number) for number in re.findall(r"^line (\d+):", output, re.MULTILINE)]


def descriptions(config: str) -> dict[str, str]:
    """Interface name -> description, from a config in FRR's form.

    Examples:
        >>> descriptions("interface bb0\\n description ring a\\nexit\\n!\\ninterface lo\\nexit\\n")
        {'bb0': 'ring a', 'lo': ''}
    """
    found: dict[str, str] = {}
    interface = None
    for line in config.splitlines():
        if line.startswith("interface "):
            interface = line.split()[1]
            found[interface] = ""
        elif interface is not None and line.startswith(" description "):
            found[interface] = line[len(" description ") :]
        elif not line.startswith(" "):
            interface = None
    return found


def sync_aliases(config: str, sys_net: Path = Path("/sys/class/net")) -> int:
    """Kernel interface aliases := the config's descriptions; how many were written.

    An interface the config does not describe (or no longer mentions: a site
    removed) has no description, so its alias is cleared. Interfaces
    configured but absent from the kernel are skipped (FRR accepts them).
    """
    wanted = descriptions(config)
    written = 0
    for entry in sorted(sys_net.iterdir()):
        alias = entry / "ifalias"
        description = wanted.get(entry.name, "")
        try:
            if alias.read_text().rstrip("\n") != description:
                alias.write_text(description + "\n")
                written += 1
        except OSError:  # gone meanwhile, or an alias the kernel does not keep
            continue
    return written


def run(*command: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def vtysh_error(result: subprocess.CompletedProcess[str]) -> str:
    """vtysh's own error lines, on one line."""
    text = (result.stdout + result.stderr).strip().splitlines()
    return (
        "; ".join(line.strip() for line in text if line.strip()) or f"exit code {result.returncode}"
    )


class Router:
    """The state directory and the operations on this router's FRR."""

    def __init__(self, state: Path, vtysh: str = "vtysh", reload: str = RELOAD) -> None:
        self.state = state
        self.vtysh = vtysh
        self.reload = reload
        # frr-reload.py runs vtysh from --bindir.
        self.bindir = os.path.dirname(shutil.which(vtysh) or "/usr/bin/vtysh")
        self.rollback_file = state / "rollback.conf"
        self.pending_file = state / "pending.json"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One configuration change at a time on this router (commits and the timer)."""
        with open(self.state / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def write_atomic(self, path: Path, text: str) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)

    def running_config(self) -> str:
        result = run(self.vtysh, "-c", "show running-config")
        if result.returncode != 0:
            raise RouterError(FAILED_NOT_RESTORED, f"show running-config: {vtysh_error(result)}")
        return candidate_form(result.stdout)

    def reload_diff(self, candidate: Path) -> ReloadDiff:
        result = self.run_reload("--test", candidate=candidate)
        if result.returncode != 0:
            raise RouterError(FAILED_NOT_RESTORED, f"frr-reload.py --test: {result.stderr.strip()}")
        return parse_reload_test(result.stdout)

    def run_reload(self, *mode: str, candidate: Path) -> subprocess.CompletedProcess[str]:
        return run(sys.executable, self.reload, "--bindir", self.bindir, *mode, str(candidate))

    def check_syntax(self, candidate: Path) -> None:
        result = run(self.vtysh, "-C", "-f", str(candidate))
        if result.returncode != 0:
            raise RouterError(REJECTED, f"FRR rejects the candidate: {vtysh_error(result)}")

    def replace(self, candidate: Path) -> bool:
        """Make the running config ``candidate`` and save it (frr.conf); False when it already was.

        frr-reload.py computes the diff once; its deletions and additions are
        then applied as vtysh batches, and the result checked by comparing
        the running config's text with the candidate (cheap: a reload parses
        both configs, ~0.5 s of CPU each time at a few thousand lines, which
        adds up when every router of the network commits at once on few
        cores). Only when the text differs does frr-reload.py --reload take
        over, with its own retries, and its --test have the last word.
        """
        diff = self.reload_diff(candidate)
        if diff.empty:
            return False
        self.delete(deletion_entries(diff.deletions))
        self.define_policies(candidate)
        self.batch("additions.conf", diff.additions)
        if self.running_config() == candidate_form(candidate.read_text()):
            self.write_memory()
            return True
        # --overwrite: frr-reload.py ends with "write memory" (it does anyway, even on failure).
        result = self.run_reload("--reload", "--overwrite", candidate=candidate)
        if result.returncode != 0:
            raise RouterError(
                FAILED_NOT_RESTORED,
                f"frr-reload.py --reload failed: {result.stderr.strip()[-500:]}",
            )
        left = self.reload_diff(candidate)
        if not left.empty:
            remaining = "; ".join((*left.deletions, *left.additions)[:5])
            raise RouterError(
                FAILED_NOT_RESTORED, f"the running config does not match after reload: {remaining}"
            )
        return True

    def batch(self, name: str, lines: tuple[str, ...]) -> None:
        """Lines in one vtysh call; what FRR refuses shows in the check that follows."""
        if not lines:
            return
        path = self.state / name
        path.write_text("".join(f"{line}\n" for line in lines))
        run(self.vtysh, "-f", str(path))

    def define_policies(self, candidate: Path) -> None:
        """The candidate's route-maps before the rest (see ``policy_blocks``)."""
        self.batch("policies.conf", tuple(policy_blocks(candidate.read_text()).splitlines()))

    def delete(self, entries: list[list[str]]) -> None:
        """Apply deletions in rounds of one ``vtysh -f`` each.

        frr-reload.py retries a ``no`` command FRR refuses with its last word
        dropped, one vtysh call per try; here each round retries every
        refused command that way at once. What is still refused is left to
        the ``--reload`` that follows, which re-adds anything a shortened
        command removed beyond the candidate (its second pass).
        """
        batch = self.state / "deletions.conf"
        for _ in range(MAX_DELETION_ROUNDS):
            if not entries:
                return
            lines = [line for entry in entries for line in entry]
            owner = [
                (i, j == len(entry) - 1)
                for i, entry in enumerate(entries)
                for j in range(len(entry))
            ]
            batch.write_text("\n".join(lines) + "\n")
            result = run(self.vtysh, "-f", str(batch))
            numbers = refused_lines(result.stdout + result.stderr)
            refused = {owner[n - 1][0] for n in numbers if 0 < n <= len(owner) and owner[n - 1][1]}
            entries = [short for i in sorted(refused) if (short := shorten(entries[i])) is not None]

    def merge(self, candidate: Path) -> bool:
        if not merge_additions(self.reload_diff(candidate), candidate.read_text()):
            return False
        result = run(self.vtysh, "-f", str(candidate))
        if result.returncode != 0:
            raise RouterError(FAILED_NOT_RESTORED, f"vtysh -f: {vtysh_error(result)}")
        self.write_memory()
        return True

    def write_memory(self) -> None:
        result = run(self.vtysh, "-c", "write memory")
        if result.returncode != 0:
            raise RouterError(FAILED_NOT_RESTORED, f"write memory: {vtysh_error(result)}")

    def restore(self, error: RouterError) -> RouterError:
        """Put back the config saved before the commit; the error to report."""
        try:
            self.replace(self.rollback_file)
        except RouterError as again:
            return RouterError(FAILED_NOT_RESTORED, f"{error}; restoring failed too: {again}")
        return RouterError(FAILED_RESTORED, f"{error} (previous config restored)")

    def pending(self) -> dict[str, float] | None:
        """The armed timer, if its process still runs."""
        try:
            pending: dict[str, float] = json.loads(self.pending_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return pending if is_timer(int(pending["pid"])) else None

    def commit(self, mode: str, candidate: Path, revert_in: int | None) -> dict[str, bool]:
        with self.locked():
            if self.pending():
                raise RouterError(PENDING, "a commit is waiting for confirmation")
            self.check_syntax(candidate)
            before = self.running_config()
            self.write_atomic(self.rollback_file, before)
            try:
                changed = self.replace(candidate) if mode == "replace" else self.merge(candidate)
            except RouterError as error:
                raise self.restore(error) from error
            if changed:
                sync_aliases(self.running_config())
            if changed and revert_in is not None:
                self.arm(revert_in)
            return {"changed": changed, "pending": changed and revert_in is not None}

    def arm(self, seconds: int) -> None:
        # A new session and no inherited descriptors: the timer outlives the
        # SSH session, which sshd ends as soon as this command returns.
        command = [sys.executable, __file__, "--state", str(self.state), "--vtysh", self.vtysh]
        command += ["--frr-reload", self.reload, "revert-after", str(seconds)]
        timer = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.write_atomic(
            self.pending_file, json.dumps({"pid": timer.pid, "deadline": time.time() + seconds})
        )

    def confirm(self) -> dict[str, bool]:
        with self.locked():
            pending = self.pending()
            if pending is None:
                raise RouterError(NOTHING, "no commit is waiting for confirmation")
            self.pending_file.unlink()
            os.kill(int(pending["pid"]), signal.SIGTERM)
            return {"confirmed": True}

    def rollback(self) -> dict[str, bool]:
        with self.locked():
            if not self.rollback_file.exists():
                raise RouterError(NOTHING, "no commit to roll back")
            pending = self.pending()
            if pending is not None:
                self.pending_file.unlink()
                os.kill(int(pending["pid"]), signal.SIGTERM)
            changed = self.replace(self.rollback_file)
            sync_aliases(self.running_config())
            return {"changed": changed}

    def revert_after(self, seconds: int) -> None:
        time.sleep(seconds)
        with self.locked():
            pending = self.pending()
            if pending is None or int(pending["pid"]) != os.getpid():
                return  # confirmed meanwhile
            try:
                self.replace(self.rollback_file)
                sync_aliases(self.running_config())
                outcome = "reverted"
            except RouterError as error:
                outcome = f"revert failed: {error}"
            self.pending_file.unlink()
            with open(self.state / "revert.log", "a") as log:
                log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} {outcome}\n")


def is_timer(pid: int) -> bool:
    """Whether ``pid`` is one of our commit-confirm timers (not a reused PID)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"revert-after" in cmdline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--vtysh", default="vtysh")
    parser.add_argument("--frr-reload", default=RELOAD)
    commands = parser.add_subparsers(dest="command", required=True)
    commit = commands.add_parser("commit")
    commit.add_argument("mode", choices=("replace", "merge"))
    commit.add_argument("candidate", type=Path)
    commit.add_argument("--revert-in", type=int)
    for name in ("confirm", "rollback", "pending"):
        commands.add_parser(name)
    commands.add_parser("revert-after").add_argument("seconds", type=int)
    commands.add_parser("sync-aliases").add_argument("--config", type=Path)
    args = parser.parse_args(argv)

    router = Router(args.state, args.vtysh, args.frr_reload)
    try:
        if args.command == "commit":
            result: object = router.commit(args.mode, args.candidate, args.revert_in)
        elif args.command == "confirm":
            result = router.confirm()
        elif args.command == "rollback":
            result = router.rollback()
        elif args.command == "pending":
            result = router.pending()
        elif args.command == "sync-aliases":
            if args.config is None:
                config = router.running_config()
            else:
                config = sys.stdin.read() if str(args.config) == "-" else args.config.read_text()
            result = {"written": sync_aliases(config)}
        else:
            router.revert_after(args.seconds)
            return OK
    except RouterError as error:
        print(error, file=sys.stderr)
        return error.code
    print(json.dumps(result))
    return OK


if __name__ == "__main__":
    sys.exit(main())
