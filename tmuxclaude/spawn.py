"""Creating an instance: state entry first, then the pane, then wait until ready.

Names are allocated under the state file's lock, so concurrent ``tclaude new``
calls get distinct names; ports are the hosts' own business (bind first).
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from typing import Any

from . import env_file, paths
from .config import Config
from .errors import TclaudeError, TmuxError
from .names import slug
from .session_ids import chooses_session, is_session_id, new_session_id
from .state_file import NAME_PATTERN, SESSION_PATTERN, SavedInstance, StateFile
from .tmux import Tmux, inside_tmux, literal

SPLIT_WINDOW_OPTION = "@tclaude-split"
# Not passed to a pane: tmux's own, the terminal's, and what pins a claude elsewhere.
ENV_DENY = frozenset(
    {
        "TMUX",
        "TMUX_PANE",
        "TERM",
        "TERM_PROGRAM",
        "TERM_PROGRAM_VERSION",
        "SHLVL",
        "PWD",
        "OLDPWD",
        "_",
        "COLUMNS",
        "LINES",
        "CLAUDECODE",
        "CLAUDE_CODE_SSE_PORT",
        "TCLAUDE_INSTANCE",
        "NVIM",
        "NVIM_LISTEN_ADDRESS",
        "MYVIMRC",
        "VIMRUNTIME",
    }
)


def check_name(name: str) -> str:
    """Refuse names that tmux targets or the shell would misread, with the reason."""
    if not NAME_PATTERN.fullmatch(name):
        raise TclaudeError(
            f"bad instance name {name!r}: use up to 48 letters, digits, '_', '+' or '-', "
            "starting with a letter or digit (':', '.', '%' and spaces break tmux targets)"
        )
    return name


def default_name(cwd: str) -> str:
    return slug(os.path.basename(cwd.rstrip("/")), 40, "claude")


def unique_name(wanted: str, taken: set[str]) -> str:
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


@dataclass
class SpawnRequest:
    cwd: str
    name: str | None = None
    layout: str = "tabbed"
    beside: str | None = None
    detached: bool = False
    claude_args: list[str] = field(default_factory=list)
    instance_id: str | None = None  # restore reuses the old id
    # the Claude session id a new instance starts with (--session-id=); None: a new
    # one, unless claude_args choose the session themselves (--resume, --continue, …)
    session_id: str | None = None
    worktree: str | None = None  # the git worktree the instance was made for
    extra_args: list[str] = field(default_factory=list)  # this launch only (--resume ID)
    session: str | None = None  # the tmux session to use, whatever the caller's
    respawn_pane: str | None = None  # reuse this pane (a shell tmux-resurrect left)


def pane_environment(config: Config, instance_id: str) -> dict[str, str]:
    """What the pane's host sees: the caller's environment, less terminal and tmux bits.

    It holds secrets (API keys): it reaches the host through a private file
    (``env_file``), never a tmux argument.
    """
    env = {k: v for k, v in os.environ.items() if k not in ENV_DENY}
    env["TCLAUDE_RUNTIME_DIR"] = paths.runtime_dir()
    env["TCLAUDE_STATE_DIR"] = paths.state_dir()
    if config.tmux_socket:
        env["TCLAUDE_TMUX_SOCKET"] = config.tmux_socket
    return env


def host_argv(
    config: Config,
    instance: SavedInstance,
    fifo: str,
    extra: list[str] | None = None,
    env_path: str | None = None,
) -> list[str]:
    """The pane's command; tmux shows it to every local user, so it holds no secret."""
    return [
        sys.executable,
        "-m",
        "tmuxclaude",
        "host",
        *(["--env-file", env_path] if env_path else []),
        "--id",
        instance.id,
        "--name",
        instance.name,
        "--cwd",
        instance.cwd,
        "--port-range",
        config.port_range,
        "--ready-fifo",
        fifo,
        "--claude-command",
        config.claude_command,
        "--notify",
        ",".join(config.notify),
        "--",
        *config.claude_args,
        *instance.claude_args,
        *(extra or []),
    ]


class Spawner:
    """Creates instance panes on one tmux server."""

    def __init__(self, config: Config, tmux: Tmux, state: StateFile | None = None) -> None:
        self.config = config
        self.tmux = tmux
        self.state = state or StateFile()

    def reserve(self, request: SpawnRequest) -> tuple[SavedInstance, bool]:
        """Allocate id and unique name and write the state entry, under the lock.

        Returns the entry and whether it is new; an existing id (restore) keeps
        its entry, with the requested layout. A new entry records the session id
        claude will be given, and ``--session-id=<id>`` joins ``request.extra_args``.
        """
        cwd = os.path.realpath(os.path.expanduser(request.cwd))
        if not os.path.isdir(cwd):
            raise TclaudeError(f"no such directory: {request.cwd}")
        with self.state.locked() as instances:
            if request.instance_id and request.instance_id in instances:
                entry = instances[request.instance_id]
                entry.cwd = cwd
                entry.layout = request.layout
                return entry, False
            taken = {entry.name for entry in instances.values()}
            if request.name is not None:
                name = check_name(request.name)
                if name in taken:
                    raise TclaudeError(f"an instance named {name!r} exists already")
                if name in instances:
                    raise TclaudeError(
                        f"{name!r} is another instance's id: a name must not hide it"
                    )
            else:
                name = unique_name(default_name(cwd), taken)
            instance_id = request.instance_id or secrets.token_hex(3)
            while instance_id in instances:
                instance_id = secrets.token_hex(3)
            session_id = self._session_id(request)
            entry = SavedInstance(
                id=instance_id,
                name=name,
                cwd=cwd,
                layout="beside" if request.beside else request.layout,
                claude_args=list(request.claude_args),
                beside=request.beside,
                session_id=session_id,
                worktree=request.worktree,
            )
            instances[instance_id] = entry
            return entry, True

    def _session_id(self, request: SpawnRequest) -> str | None:
        """The session id a new instance's claude gets up front, added to its launch flags."""
        if request.session_id is not None and chooses_session(request.extra_args):
            # resumed (new --resume=<id>): claude goes on under that id, no --session-id
            if not is_session_id(request.session_id):
                raise TclaudeError(f"bad Claude session id {request.session_id!r}: not a UUID")
            return request.session_id
        if request.session_id is None:
            chosen = [*self.config.claude_args, *request.claude_args, *request.extra_args]
            if chooses_session(chosen):
                return None  # the user's own choice; its SessionStart hook reports the id
            request.session_id = new_session_id()
        elif not is_session_id(request.session_id):
            raise TclaudeError(f"bad Claude session id {request.session_id!r}: not a UUID")
        request.extra_args = [*request.extra_args, f"--session-id={request.session_id}"]
        return request.session_id

    def spawn(self, request: SpawnRequest) -> tuple[SavedInstance, dict[str, Any]]:
        """Create the instance and return its state entry and the host's ready record."""
        from .ready import ReadyFifo

        entry, created = self.reserve(request)
        try:
            paths.ensure_private_dir(paths.runtime_dir())
            fifo_path = os.path.join(paths.runtime_dir(), f"ready-{entry.id}-{os.getpid()}")
            with ReadyFifo(fifo_path) as fifo:
                env_path = None
                try:
                    env_path = env_file.write(
                        paths.runtime_dir(), pane_environment(self.config, entry.id)
                    )
                    argv = host_argv(self.config, entry, fifo_path, request.extra_args, env_path)
                    pane_id = self._create_pane(entry, request, argv)
                    ready = fifo.wait(self.config.ready_timeout, lambda: self._pane_alive(pane_id))
                finally:
                    paths.remove_quietly(env_path)  # the host took it, unless it never started
        except BaseException:
            if created:  # a new instance that never ran is forgotten; a restored one kept
                with self.state.locked() as instances:
                    instances.pop(entry.id, None)
            raise
        ready["pane"] = pane_id
        self._after_ready(entry, request, pane_id)
        return entry, ready

    def _create_pane(self, entry: SavedInstance, request: SpawnRequest, argv: list[str]) -> str:
        """Run ``argv`` in a new (or respawned) pane; no ``-e``: the environment is secret."""
        # tmux expands formats in -c and -s: "#(cmd)" in a directory name would run
        cwd = literal(entry.cwd)
        common = ["-d", "-P", "-F", "#{pane_id}", "-c", cwd]
        if request.respawn_pane:
            pane = request.respawn_pane
            self.tmux.run("respawn-pane", "-k", "-t", pane, "-c", cwd, *argv)
            if entry.layout == "tabbed":
                self.tmux.run("rename-window", "-t", pane, entry.name)
            return pane
        if request.beside:
            out = self.tmux.run(
                "split-window",
                "-h",
                "-t",
                request.beside,
                "-l",
                self.config.beside_width,
                *common,
                *argv,
            )
            return out.strip()
        session = request.session or (
            None if inside_tmux() and not self._foreign_socket() else self.config.session_name
        )
        if entry.layout == "split":
            window = self._split_window(session)
            if window is not None:
                out = self.tmux.sequence(
                    [
                        ["split-window", "-t", window, *common, *argv],
                        ["select-layout", "-t", window, "tiled"],
                    ]
                )
                return out.strip()
        window_name = "tclaude" if entry.layout == "split" else entry.name
        if session is not None and not self.tmux.has_session(session):
            try:
                out = self.tmux.run(
                    "new-session", "-s", literal(session), "-n", window_name,
                    "-x", "200", "-y", "50", *common, *argv,
                )  # fmt: skip
                # its end (the last instance killed) sends a client looking at it back to
                # another session, not out of tmux (once, when it is made: a user's own
                # setting afterwards stands)
                self.tmux.run(
                    "set-option", "-t", out.split()[0], "detach-on-destroy", "off", check=False
                )
                return out.strip()
            except TmuxError as err:
                if "duplicate session" not in str(err):
                    raise
        target = ["-t", f"={session}:"] if session is not None else []
        out = self.tmux.run("new-window", *target, "-n", window_name, *common, *argv)
        return out.strip()

    def _foreign_socket(self) -> bool:
        """Whether a configured socket names another server than the caller's tmux."""
        if not self.config.tmux_socket:
            return False
        current = os.environ.get("TMUX", "").split(",")[0]
        return os.path.basename(current) != self.config.tmux_socket

    def _split_window(self, session: str | None) -> str | None:
        fmt = "#{window_id}\t#{session_name}\t#{" + SPLIT_WINDOW_OPTION + "}"
        out = self.tmux.run("list-windows", "-a", "-F", fmt, check=False)
        for line in out.splitlines():
            window_id, window_session, marked = ([*line.split("\t"), "", ""])[:3]
            if marked == "1" and (session is None or window_session == session):
                return window_id
        return None

    def _pane_alive(self, pane_id: str) -> bool:
        return self.tmux.display("#{pane_dead}", pane_id, check=False).strip() == "0"

    def _after_ready(self, entry: SavedInstance, request: SpawnRequest, pane_id: str) -> None:
        commands: list[list[str]] = []
        if entry.layout == "tabbed":
            commands += [
                ["set-option", "-w", "-t", pane_id, "@tclaude-id", entry.id],
                ["set-option", "-w", "-t", pane_id, "@tclaude-name", entry.name],
            ]
        elif entry.layout == "split":
            commands += [["set-option", "-w", "-t", pane_id, SPLIT_WINDOW_OPTION, "1"]]
        if not request.detached:
            from .views import focus_commands as in_client_session

            commands += in_client_session(self.tmux, pane_id, client=inside_tmux())
        # the session name (and whether the tmux plugin is loaded) come back from
        # the same tmux call
        from .tmux_plugin import FORMAT, remember
        from .views import VIEW

        # tmux picks a session for the pane: a view of the instances' (views.py) names its
        # group, the instances' own session
        session_of = f"#{{?#{{{VIEW}}},#{{session_group}},#{{session_name}}}}"
        commands.append(["display-message", "-p", "-t", pane_id, session_of + "\t" + FORMAT])
        session, _, plugin = (
            self.tmux.sequence(commands).strip("\n").splitlines()[-1].partition("\t")
        )
        remember(plugin)
        with self.state.locked() as instances:
            if entry.id in instances:
                # a name the state file would refuse (a '#') is not remembered
                instances[entry.id].session = (
                    session if SESSION_PATTERN.fullmatch(session) else None
                )


def seen_commands(pane_id: str) -> list[list[str]]:
    """Mark the pane's instance seen now, and tell the watchers if it was not (a remote's
    feed shows it done otherwise; see seen.py): the tclaude that runs is this one."""
    import shlex
    import sys

    command = shlex.join([sys.executable, "-m", "tmuxclaude", "seen", pane_id])
    return [
        ["if-shell", "-F", "-t", pane_id, "#{==:#{@tclaude-unseen},1}",
         f'run-shell -b "{command} >/dev/null 2>&1"'],
        ["set-option", "-pu", "-t", pane_id, "@tclaude-unseen"],
    ]  # fmt: skip


def focus_commands(pane_id: str, client: bool, client_name: str | None = None) -> list[list[str]]:
    """Select the pane's window and the pane (unzooming), and move the client there:
    ``client_name`` when given, else the current client if there is one."""
    commands = [
        ["select-window", "-t", pane_id],
        ["select-pane", "-t", pane_id],
        *seen_commands(pane_id),
    ]
    if client_name:
        commands.append(["switch-client", "-c", client_name, "-t", pane_id])
    elif client:
        # only when the server has a current client: a pane of a session nobody
        # is attached to (a script, a detached session) is no error
        commands.append(["if-shell", "-F", "#{client_name}", f"switch-client -t {pane_id}"])
    return commands
