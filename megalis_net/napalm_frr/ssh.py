"""One SSH connection to a router, one exec channel per command (paramiko)."""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko
from napalm.base.exceptions import (
    CommandTimeoutException,
    ConnectAuthError,
    ConnectionClosedException,
    ConnectionException,
    ConnectTimeoutError,
)


@dataclass(frozen=True)
class Output:
    """What a command left: exit code, stdout and stderr."""

    code: int
    stdout: str
    stderr: str


class SshSession:
    """A persistent key-based SSH connection that runs shell commands."""

    def __init__(
        self,
        host: str,
        username: str,
        *,
        port: int = 22,
        key_file: str | None = None,
        password: str | None = None,
        timeout: float = 60,
        known_hosts: str | None = None,
    ) -> None:
        self.host = host
        self.username = username
        self.port = port
        self.key_file = key_file
        self.password = password or None
        self.timeout = timeout
        self.known_hosts = known_hosts
        self.client: paramiko.SSHClient | None = None

    def open(self) -> None:
        client = paramiko.SSHClient()
        if self.known_hosts:
            client.load_host_keys(self.known_hosts)
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
        else:
            # Lab routers get fresh host keys each time they are built.
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        where = f"{self.username}@{self.host}:{self.port}"
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                key_filename=self.key_file,
                timeout=self.timeout,
                banner_timeout=self.timeout,
                auth_timeout=self.timeout,
                allow_agent=False,
                look_for_keys=False,
            )
        except paramiko.AuthenticationException as error:
            raise ConnectAuthError(f"{where}: authentication failed ({error})") from error
        except TimeoutError as error:
            raise ConnectTimeoutError(f"{where}: timed out after {self.timeout:g} s") from error
        except (OSError, paramiko.SSHException) as error:
            raise ConnectionException(f"{where}: cannot connect ({error})") from error
        self.client = client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    @property
    def alive(self) -> bool:
        transport = self.client.get_transport() if self.client else None
        return bool(transport and transport.is_active())

    def run(self, command: str, stdin: str | None = None, timeout: float | None = None) -> Output:
        """Run ``command`` in the router's shell; stdin is sent whole, then closed."""
        transport = self.client.get_transport() if self.client else None
        if transport is None or not transport.is_active():
            raise ConnectionClosedException(f"{self.host}: the SSH connection is closed")
        limit = timeout or self.timeout
        channel = transport.open_session(timeout=self.timeout)
        try:
            channel.exec_command(command)
            if stdin is not None:
                channel.sendall(stdin.encode())
            channel.shutdown_write()
            return self._collect(channel, command, time.monotonic() + limit)
        finally:
            channel.close()

    def _collect(self, channel: paramiko.Channel, command: str, deadline: float) -> Output:
        # Both streams are drained as they come: a command that fills stderr
        # (frr-reload logs there) would otherwise stall on the channel window.
        out, err = bytearray(), bytearray()
        while True:
            busy = False
            if channel.recv_ready():
                out += channel.recv(65536)
                busy = True
            if channel.recv_stderr_ready():
                err += channel.recv_stderr(65536)
                busy = True
            if not busy and channel.exit_status_ready() and channel.eof_received:
                break
            if time.monotonic() > deadline:
                raise CommandTimeoutException(f"{self.host}: {command!r} timed out")
            if not busy:
                channel.status_event.wait(0.005)
        # the last data may have come with the exit status, after the checks above
        while channel.recv_ready():
            out += channel.recv(65536)
        while channel.recv_stderr_ready():
            err += channel.recv_stderr(65536)
        code = channel.recv_exit_status()
        return Output(code, out.decode(errors="replace"), err.decode(errors="replace"))

    def put(self, text: str, path: str) -> None:
        """Write ``text`` to ``path`` on the router (through the shell: no SFTP needed)."""
        quoted = shlex.quote(path)
        parent = shlex.quote(str(Path(path).parent))
        result = self.run(
            f"mkdir -p {parent} && cat > {quoted}.tmp && mv {quoted}.tmp {quoted}", text
        )
        if result.code != 0:
            raise ConnectionException(f"{self.host}: cannot write {path}: {result.stderr.strip()}")
