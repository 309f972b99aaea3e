"""SSH "machines" for the remote tests: real sshd servers in network namespaces.

Each machine is a network namespace reached through a veth pair with
addresses the test chooses, an ``sshd -f <own config>`` listening on its veth
(own host key, keys and pid file in the test dir, ``UsePAM no``), and a HOME
of its own with its own tmux socket dir, ``CLAUDE_CONFIG_DIR``, XDG dirs and
tclaude runtime dir. The same root user logs in to every machine; a
``ForceCommand`` wrapper gives each session its machine's environment (HOME,
PATH with the machine's ``bin``, the fake claude) and runs the command from
HOME, as sshd would for a user of its own. The filesystem is shared, so a
machine's tclaude is this worktree's (``bin/tclaude`` runs ``sys.executable -m
tmuxclaude``); removing that link makes a machine without tclaude.

The client side: a generated key and an ``ssh_config`` in the test dir (never
``~/.ssh``), with the machines' host keys pinned in a known-hosts file of its own.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.hosts import FAKE_CLAUDE_COMMAND

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def _run(*argv: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {proc.stderr.strip()}")
    return proc.stdout


@dataclass
class Machine:
    """One sshd "machine": its namespace, link, address and HOME."""

    name: str
    netns: str
    veth: str  # the local end of its link; ``ip link set <veth> down`` cuts it off
    address: str
    root: Path  # the machine's own dir: sshd files, HOME, bin, env

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def tmux_dir(self) -> Path:
        return self.root / "tmux"

    @property
    def state_dir(self) -> Path:
        return self.home / ".local" / "state" / "tclaude"

    @property
    def runtime_dir(self) -> Path:
        return self.root / "run"

    @property
    def extra_env(self) -> Path:
        """A sh file of ``export`` lines the login wrapper sources (for one test)."""
        return self.root / "extra.env"

    def env(self) -> dict[str, str]:
        """The environment a session on this machine gets (what the wrapper exports)."""
        home = str(self.home)
        return {
            "HOME": home,
            "PATH": f"{self.bin}:{home}/.local/bin:/usr/local/bin:/usr/bin:/bin",
            "XDG_CONFIG_HOME": f"{home}/.config",
            "XDG_STATE_HOME": f"{home}/.local/state",
            "XDG_CACHE_HOME": f"{home}/.cache",
            "CLAUDE_CONFIG_DIR": f"{home}/.claude",
            "TMUX_TMPDIR": str(self.tmux_dir),
            "TCLAUDE_RUNTIME_DIR": str(self.runtime_dir),
            "TCLAUDE_CLAUDE_COMMAND": FAKE_CLAUDE_COMMAND,
            # the fake claude has no prompt to wait for (as conftest.isolated_env)
            "TCLAUDE_MENTION_DELAY": "0",
            "SHELL": "/bin/sh",
            "LANG": "C.UTF-8",
        }

    def link_up(self, up: bool) -> None:
        _run("ip", "link", "set", self.veth, "up" if up else "down")

    def install_tclaude(self, present: bool = True) -> None:
        """Put (or take away) the worktree's tclaude on this machine's PATH."""
        path = self.bin / "tclaude"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        if present:
            path.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m tmuxclaude "$@"\n')
            path.chmod(0o755)

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        """tmux on this machine's default server (as its tclaude uses it)."""
        return subprocess.run(
            ["tmux", *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "TMUX_TMPDIR": str(self.tmux_dir)},
            timeout=30,
        )

    def tclaude(self, *args: str) -> subprocess.CompletedProcess[str]:
        """This machine's tclaude run there by its own user (not over ssh); raises on failure."""
        proc = subprocess.run(
            ["ip", "netns", "exec", self.netns, sys.executable, "-m", "tmuxclaude", *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **self.env()},
            cwd=self.home,
            timeout=60,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{self.name}: tclaude {' '.join(args)}: {proc.stderr.strip()}")
        return proc

    def reset(self) -> None:
        """Back to a fresh machine: its tmux server and hosts gone, its state forgotten."""
        self.link_up(True)
        self.tmux("kill-server")
        _kill_under(self.home)
        _kill_under(self.runtime_dir)
        for path in (self.home, self.runtime_dir, self.tmux_dir):
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(mode=0o700)
        with contextlib.suppress(FileNotFoundError):
            self.extra_env.unlink()
        self.install_tclaude(True)


def _kill_under(directory: Path) -> None:
    """Kill processes whose environment names ``directory`` (hosts, claudes of a machine)."""
    marker = str(directory).encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        if marker in environ:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


def real_bashrc() -> str | None:
    """The ~/.bashrc of this user as sshd's bash finds it (the passwd home), if there is one."""
    import pwd

    path = os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".bashrc")
    return path if os.path.isfile(path) else None


def _free_subnet() -> int:
    """N for 10.N.0.0/16 that no interface of this machine uses (another run's machines)."""
    used = _run("ip", "-o", "-4", "addr", "show")
    start = os.getpid() % 150
    for offset in range(150):
        candidate = 100 + (start + offset) % 150
        if f" 10.{candidate}." not in used:
            return candidate
    raise RuntimeError("no free 10.N.0.0/16 for the test machines")


class Remotes:
    """Two or more machines and the client's ssh files; ``close`` tears all down."""

    def __init__(self, names: list[str]) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tcr-"))
        os.chmod(self.root, 0o700)
        self.key = self.root / "client_key"
        self.ssh_config = self.root / "ssh_config"
        self.known_hosts = self.root / "known_hosts"
        self.authorized_keys = self.root / "authorized_keys"
        self.machines: dict[str, Machine] = {}
        self._sshd: dict[str, subprocess.Popen[bytes]] = {}
        tag = f"{os.getpid() % 100000}"
        self._subnet = _free_subnet()
        self._tag = tag
        try:
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key))
            self.authorized_keys.write_text(Path(f"{self.key}.pub").read_text())
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privsep dir
            for index, name in enumerate(names):
                self.machines[name] = self._start(index, name)
            self._write_client_config()
            for machine in self.machines.values():
                self._wait_ready(machine)
        except BaseException:
            self.close()
            raise

    def _start(self, index: int, name: str) -> Machine:
        netns = f"tcr{self._tag}-{index}"
        veth = f"tcr{self._tag}h{index}"[:15]
        peer = f"tcr{self._tag}p{index}"[:15]
        local = f"10.{self._subnet}.{index}.1"
        address = f"10.{self._subnet}.{index}.2"
        root = self.root / name
        machine = Machine(name, netns, veth, address, root)
        for path in (root, machine.home, machine.bin, machine.tmux_dir, machine.runtime_dir):
            path.mkdir(mode=0o700)
        machine.install_tclaude(True)
        _run("ip", "netns", "add", netns)
        _run("ip", "link", "add", veth, "type", "veth", "peer", "name", peer)
        _run("ip", "link", "set", peer, "netns", netns)
        _run("ip", "addr", "add", f"{local}/24", "dev", veth)
        _run("ip", "link", "set", veth, "up")
        _run("ip", "-n", netns, "addr", "add", f"{address}/24", "dev", peer)
        _run("ip", "-n", netns, "link", "set", peer, "up")
        _run("ip", "-n", netns, "link", "set", "lo", "up")
        host_key = root / "host_key"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key))
        login = root / "login.sh"
        extra = shlex.quote(str(machine.extra_env))
        exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in machine.env().items())
        login.write_text(
            "#!/bin/sh\n"
            "unset XDG_RUNTIME_DIR TMUX TMUX_PANE\n"
            f"{exports}\n"
            f"[ -f {extra} ] && . {extra}\n"
            'cd "$HOME" || exit 1\n'
            'if [ -n "$SSH_ORIGINAL_COMMAND" ]; then exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"; fi\n'
            "exec /bin/sh -i\n"
        )
        login.chmod(0o755)
        config = root / "sshd_config"
        config.write_text(
            f"ListenAddress {address}:22\n"
            f"HostKey {host_key}\n"
            f"PidFile {root / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.authorized_keys}\n"
            "UsePAM no\n"
            "PermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "StrictModes no\n"
            "AllowStreamLocalForwarding yes\n"
            "AllowTcpForwarding yes\n"
            "PrintMotd no\n"
            "PrintLastLog no\n"
            "MaxSessions 100\n"
            "MaxStartups 100:30:200\n"
            f"ForceCommand {login}\n"
        )
        # -D: sshd stays our child, so that its end is reaped (a daemon's would not be).
        # Under sshd, Debian's bash runs ~/.bashrc even for `bash -c` (ForceCommand runs so):
        # that is the real user's file (passwd's home), never the test's, and pyenv in it made
        # each login cost 200 ms and once a minute (its rehash lock). In the mount namespace
        # `ip netns exec` makes, /dev/null stands in for it; the file itself is not touched.
        rc = real_bashrc()
        hide = f"mount --bind /dev/null {shlex.quote(rc)} || exit 1; " if rc else ""
        self._sshd[name] = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                netns,
                "sh",
                "-c",
                hide + 'exec "$0" "$@"',
                SSHD,
                "-D",
                "-f",
                str(config),
                "-E",
                str(root / "sshd.log"),
            ]
        )
        return machine

    def _write_client_config(self) -> None:
        hosts = []
        for machine in self.machines.values():
            public = (machine.root / "host_key.pub").read_text().split()
            hosts.append(f"{machine.address} {public[0]} {public[1]}")
        self.known_hosts.write_text("\n".join(hosts) + "\n")
        blocks = [
            f"Host {m.name}\n"
            f"  HostName {m.address}\n"
            "  User root\n"
            f"  IdentityFile {self.key}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {self.known_hosts}\n"
            "  GlobalKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking yes\n"
            "  LogLevel ERROR\n"
            for m in self.machines.values()
        ]
        self.ssh_config.write_text("\n".join(blocks))

    def _wait_ready(self, machine: Machine) -> None:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection((machine.address, 22), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    log = (machine.root / "sshd.log").read_text(errors="replace")
                    raise RuntimeError(f"sshd of {machine.name} did not start: {log}") from None
                time.sleep(0.05)

    def ssh(self, machine: str, command: str) -> subprocess.CompletedProcess[str]:
        """Run ``command`` on a machine with a plain ssh (no tclaude in between)."""
        return subprocess.run(
            [
                "ssh",
                "-F",
                str(self.ssh_config),
                "-oBatchMode=yes",
                "-oConnectTimeout=3",
                machine,
                command,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )

    def config_toml(self, timeouts: dict[str, float] | None = None) -> str:
        """``[remotes.NAME]`` tables for the local config.toml, with a ``timeout`` if given."""
        timeouts = timeouts or {}
        return "".join(
            f'[remotes.{name}]\nssh = "{name}"\nssh_config = "{self.ssh_config}"\n'
            + (f"timeout = {timeouts[name]}\n" if name in timeouts else "")
            + "\n"
            for name in self.machines
        )

    def close(self) -> None:
        for machine in self.machines.values():
            machine.tmux("kill-server")
            _kill_under(machine.root)
            sshd = self._sshd.get(machine.name)
            pids = subprocess.run(
                ["ip", "netns", "pids", machine.netns], capture_output=True, text=True, check=False
            ).stdout.split()
            for pid in pids:  # its sessions first: the listening sshd reaps them
                if sshd is None or int(pid) != sshd.pid:
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(pid), signal.SIGKILL)
            if sshd is not None:
                time.sleep(0.1)
                sshd.terminate()
                try:
                    sshd.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    sshd.kill()
                    sshd.wait()
            subprocess.run(["ip", "netns", "del", machine.netns], capture_output=True, check=False)
            subprocess.run(["ip", "link", "del", machine.veth], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def close_masters(runtime_dir: str) -> None:
    """Stop the ssh ControlMasters tclaude left in ``runtime_dir``/ssh (ControlPersist)."""
    directory = os.path.join(runtime_dir, "ssh")
    with contextlib.suppress(FileNotFoundError):
        for name in os.listdir(directory):
            subprocess.run(
                ["ssh", "-o", f"ControlPath={os.path.join(directory, name)}", "-O", "exit", "x"],
                capture_output=True,
                check=False,
                timeout=10,
            )


@contextlib.contextmanager
def started(names: list[str]) -> Iterator[Remotes]:
    remotes = Remotes(names)
    try:
        yield remotes
    finally:
        remotes.close()
