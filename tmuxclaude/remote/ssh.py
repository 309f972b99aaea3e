"""ssh command lines for a remote, over one shared ControlMaster, and calls with a timeout.

One connection per remote: ``ControlMaster=auto`` with a control path of
tclaude's own (``<runtime dir>/ssh/<NAME>.<DIGEST>``) and ``ControlPersist``, so
that each call after the first costs a mux round trip (10-20 ms), not a handshake.
DIGEST is that of what selects the machine (the ssh alias and the ssh config
file): a remote whose ``ssh`` changed gets a new master, never the old one's
machine, and a master of the remote's former settings, when a call finds one, is
told to stop (it takes no new call and ends with its open sessions). A control
socket nobody listens on (a master killed hard) is removed before the call.
``BatchMode`` keeps ssh from prompting: a call fails rather than waits for a
password. What runs on the remote is always the remote's own
tclaude, its arguments shell-quoted (ssh joins them into one shell string).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shlex
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from .. import paths
from ..config import Config
from ..errors import TclaudeError
from ..names import printable
from .replies import MAX_REPLY

CONTROL_PERSIST = "600"  # seconds an idle master stays
STDERR_KEPT = 8192  # bytes: the end of a call's stderr, kept (the rest is read and dropped)
NOT_FOUND = 127  # the remote shell's "command not found"
SSH_FAILED = 255  # ssh's own failure (no connection, refused key, ...)
NAME_KEPT = 24  # characters of a remote's name in its control socket's name, at most
DIGEST_KEPT = 12  # hex digits of the connection's digest there
_DIGEST = re.compile(f"[0-9a-f]{{{DIGEST_KEPT}}}")


class RemoteError(TclaudeError):
    """A remote could not be reached or its tclaude could not run; ``state`` says which."""

    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.state = state


@dataclass(frozen=True)
class Remote:
    name: str
    ssh: str
    ssh_config: str | None = None
    tclaude: str | None = None
    timeout: float = 3.0

    @classmethod
    def named(cls, config: Config, name: str) -> Remote:
        """The configured remote ``name``; TclaudeError lists the known ones."""
        table = config.remotes.get(name)
        if table is None:
            known = ", ".join(sorted(config.remotes)) or "none"
            raise TclaudeError(
                f"no remote {name!r}; configured remotes: {known} (add one with tclaude remote add)"
            )
        ssh_config, tclaude = table.get("ssh_config"), table.get("tclaude")
        return cls(
            name,
            str(table["ssh"]),
            None if ssh_config is None else str(ssh_config),
            None if tclaude is None else str(tclaude),
            float(table.get("timeout", config.remote_timeout)),
        )


def configured(config: Config) -> list[Remote]:
    return [Remote.named(config, name) for name in sorted(config.remotes)]


def control_dir() -> str:
    return paths.ensure_private_dir(os.path.join(paths.runtime_dir(), "ssh"))


def _tag(name: str) -> str:
    """``name``, or a long one cut to 16 characters and a digest of it: the socket's path
    stays well under the 108 bytes of a unix socket's (ssh adds 17 while it binds)."""
    if len(name) <= NAME_KEPT:
        return name
    # "~" is in no remote's name: a long one's tag is never another remote's own name
    return name[:16] + "~" + _digest(name)[: NAME_KEPT - 17]


MAX_CONFIG_READ = 1 << 20  # bytes of an ssh config file that go into the digest


def config_file(remote: Remote) -> str:
    """The ssh config file ``remote``'s ssh reads: its ``ssh_config``, else ``~/.ssh/config``
    of the passwd home (ssh's own, whatever $HOME says)."""
    if remote.ssh_config:
        return os.path.abspath(os.path.expanduser(remote.ssh_config))
    import pwd

    return os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".ssh", "config")


def connection_digest(remote: Remote) -> str:
    """A digest of what selects ``remote``'s machine: its ssh alias, its ssh config file and
    what that file says (a changed HostName is another machine; a file it includes is not
    read)."""
    path = config_file(remote)
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_CONFIG_READ)
    except OSError:
        text = b""
    return _digest(f"{remote.ssh}\0{path}\0{text.hex()}")[:DIGEST_KEPT]


def _digest(text: str) -> str:
    import hashlib  # here: 4 ms of start-up (OpenSSL) that a local command does not need

    return hashlib.sha256(text.encode()).hexdigest()


def control_path(remote: Remote) -> str:
    return os.path.join(control_dir(), f"{_tag(remote.name)}.{connection_digest(remote)}")


def control_paths(name: str) -> list[str]:
    """The control sockets of remote ``name`` in the control directory, whatever the
    settings they were made with (ours: a 0700 directory)."""
    directory = control_dir()
    prefix = _tag(name) + "."
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    return [
        os.path.join(directory, entry)
        for entry in sorted(entries)
        if entry.startswith(prefix) and _DIGEST.fullmatch(entry[len(prefix) :])
    ]


def clear_stale(path: str) -> bool:
    """Remove a control socket no master listens on; True if one was removed. Anything
    else at ``path`` (a directory, a file) is left for ssh to refuse."""
    import stat

    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return False
    except OSError:
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return False
    except ConnectionRefusedError:
        paths.remove_quietly(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def ssh_argv(remote: Remote, *, tty: bool = False) -> list[str]:
    """``ssh [options] -- ALIAS``: add the remote command (one shell string) after it."""
    path = control_path(remote)
    clear_stale(path)
    retire_others(remote)
    argv = ["ssh"]
    if remote.ssh_config:
        argv += ["-F", os.path.expanduser(remote.ssh_config)]
    argv += [
        "-o", "BatchMode=yes",
        "-o", f"ConnectTimeout={max(1, math.ceil(remote.timeout))}",
        "-o", "ControlMaster=auto",
        "-o", f"ControlPath={path}",
        "-o", f"ControlPersist={CONTROL_PERSIST}",
        "-o", "ServerAliveInterval=5",
        "-o", "ServerAliveCountMax=3",
        *(["-t", "-o", "LogLevel=ERROR"] if tty else ["-T"]),  # no "Shared connection closed"
        "--",
        remote.ssh,
    ]  # fmt: skip
    return argv


def tclaude_word(remote: Remote) -> str:
    """The remote's tclaude as a shell word: ``~/`` stays unquoted, so the remote expands it."""
    command = remote.tclaude or "tclaude"
    if command.startswith("~/"):
        return "~/" + shlex.quote(command[2:])
    return shlex.quote(command)


def command_line(remote: Remote, argv: Sequence[str]) -> str:
    """``tclaude ARGV`` quoted for the remote's shell."""
    return " ".join([tclaude_word(remote), *(shlex.quote(arg) for arg in argv)])


def remote_argv(remote: str | Remote, argv: Sequence[str], *, tty: bool = False) -> list[str]:
    """The local argv that runs ``tclaude ARGV`` on remote NAME over its shared connection.

    ``remote`` is a configured remote's name (the config is loaded) or a Remote.
    ``tty`` asks ssh for a terminal (``-t``: attach); without it stdin is not one.
    """
    if isinstance(remote, str):
        from .. import config as config_module

        config = config_module.load()
        config_module.apply_dirs(config)  # a configured runtime_dir holds the control socket
        remote = Remote.named(config, remote)
    return [*ssh_argv(remote, tty=tty), command_line(remote, argv)]


@dataclass
class Reply:
    code: int
    stdout: str
    stderr: str


def call(
    remote: Remote, argv: Sequence[str], *, timeout: float | None = None, stdin: bytes | None = None
) -> Reply:
    """Run ``tclaude ARGV`` on ``remote``; RemoteError when ssh or the remote's tclaude cannot.

    ``timeout`` defaults to the remote's (config ``remote_timeout``); None here
    means that default, ``math.inf`` none. A longer one is granted only to a
    remote that answers a probe within its own timeout first (see ``run_ssh``).
    A non-zero exit of tclaude itself is returned, not raised: the caller words it.
    """
    return run_ssh(remote, command_line(remote, argv), timeout=timeout, stdin=stdin)


def run_ssh(
    remote: Remote, command: str, *, timeout: float | None = None, stdin: bytes | None = None
) -> Reply:
    """Run the shell ``command`` on ``remote`` (see ``call``).

    A call allowed longer than the remote's timeout (new, kill, wait...) first
    runs ``exit 0`` there within that timeout: over a dead link a master
    connection accepts the call and waits for its keep-alives (15 s or more),
    so the probe is what makes such a call fail in the remote's timeout. The
    call itself is not sent then, so it cannot run later when the link returns.
    """
    limit = remote.timeout if timeout is None else timeout
    if limit > remote.timeout:
        run_ssh(remote, "exit 0")
    try:
        proc = subprocess.Popen(
            [*ssh_argv(remote), command],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        raise RemoteError("ssh is not installed (the OpenSSH client)", "no-ssh") from None
    with proc:  # its pipes closed and its end reaped, whatever happens
        try:
            out, err = _read_capped(proc, stdin, limit)
        except BaseException as exc:
            proc.kill()
            if isinstance(exc, subprocess.TimeoutExpired):
                raise RemoteError(
                    f"remote {remote.name}: no answer within {limit:g}s", "unreachable"
                ) from None
            if isinstance(exc, _TooLong):
                raise RemoteError(
                    f"remote {remote.name}: its answer is larger than {MAX_REPLY} bytes", "error"
                ) from None
            raise
    stdout = out.decode("utf-8", "replace")
    stderr = _without_mux_chatter(err.decode("utf-8", "replace"), control_path(remote))
    if proc.returncode == SSH_FAILED:
        if not stderr.strip():  # a mux client whose master lost the link says nothing
            raise RemoteError(f"remote {remote.name}: the connection was lost", "unreachable")
        raise RemoteError(f"remote {remote.name}: ssh failed: {last_line(stderr)}", "unreachable")
    if proc.returncode == NOT_FOUND:
        raise RemoteError(
            f"remote {remote.name}: no tclaude there ({last_line(stderr)}); "
            f"install it with: tclaude remote install {remote.name}",
            "no-tclaude",
        )
    return Reply(proc.returncode, stdout, stderr)


class _TooLong(Exception):
    pass


def _read_capped(
    proc: subprocess.Popen[bytes], stdin: bytes | None, limit: float
) -> tuple[bytes, bytes]:
    """``proc``'s stdout and the end of its stderr (``STDERR_KEPT``), ``stdin`` written to it,
    once it has ended; _TooLong as soon as stdout passes ``MAX_REPLY`` bytes, TimeoutExpired
    after ``limit`` seconds (math.inf: none). The caller kills ``proc`` then."""
    import select
    import selectors
    import time

    deadline = time.monotonic() + limit
    out: list[bytes] = []
    size = 0
    err = b""
    cut = False  # the start of stderr was dropped
    pending = memoryview(stdin or b"")
    with selectors.DefaultSelector() as selector:
        assert proc.stdout is not None
        assert proc.stderr is not None
        selector.register(proc.stdout, selectors.EVENT_READ)
        selector.register(proc.stderr, selectors.EVENT_READ)
        if proc.stdin is not None:
            if pending:
                selector.register(proc.stdin, selectors.EVENT_WRITE)
            else:
                proc.stdin.close()
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(proc.args, limit)
            for key, _ in selector.select(None if math.isinf(left) else left):
                if key.fileobj is proc.stdin:
                    try:
                        # at most PIPE_BUF: a pipe that selects writable takes it whole
                        written = os.write(key.fd, pending[: select.PIPE_BUF])
                    except BrokenPipeError:
                        written = len(pending)
                    pending = pending[written:]
                    if not pending:
                        selector.unregister(key.fileobj)
                        proc.stdin.close()
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif key.fileobj is proc.stdout:
                    size += len(chunk)
                    if size > MAX_REPLY:
                        raise _TooLong
                    out.append(chunk)
                else:
                    err += chunk
                    if len(err) > STDERR_KEPT:
                        err, cut = err[-STDERR_KEPT:], True
    left = deadline - time.monotonic()
    proc.wait(None if math.isinf(left) else max(0.0, left))  # its output ended: it ends
    if cut:  # from its first whole line
        err = err.partition(b"\n")[2]
    return b"".join(out), err


def _without_mux_chatter(stderr: str, path: str) -> str:
    """``stderr`` without ssh's own word that it could not be the master at ``path``
    (another ssh became it first, or a name is in the way): that ssh goes on over a
    connection of its own, and the line is not the remote's."""
    chatter = f"ControlSocket {path} already exists, disabling multiplexing"
    return "".join(
        line for line in stderr.splitlines(keepends=True) if line.rstrip("\r\n") != chatter
    )


def last_line(text: str) -> str:
    """The last non-empty line of a remote's stderr, printable, or 'no message'."""
    lines = [line for line in text.splitlines() if line.strip()]
    return printable(lines[-1]) if lines else "no message"


def retire_others(remote: Remote) -> None:
    """Tell each master of ``remote``'s name made with other settings to stop (``-O stop``:
    it takes no new call, and ends once its open sessions, an attach say, have)."""
    own = control_path(remote)
    for path in control_paths(remote.name):
        if path != own:
            _control(path, "stop")


def close(remote: Remote) -> None:
    """End every master connection of ``remote``'s name (``-O exit``), those made with
    its former settings too; only its name is used."""
    for path in control_paths(remote.name):
        _control(path, "exit")


def _control(path: str, command: str) -> None:
    """``ssh -O COMMAND`` to the master at ``path``; a socket nobody listens on is removed."""
    if clear_stale(path) or not os.path.exists(path):
        return
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(
            # no ssh config read: the control path is all that names the master
            ["ssh", "-F", "/dev/null", "-o", f"ControlPath={path}", "-O", command, "--", "tclaude"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=5,
            check=False,
        )
