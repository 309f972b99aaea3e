"""The caller's environment handed to a host through a private file, never argv.

``tclaude new`` writes the environment its pane's host must run with to a
0600 file in the runtime dir and passes only the file's path to tmux (whose
server command line and message log every local user can read). The host
takes it at start: checks it is the user's own private regular file, reads
it and removes it. Cheap to import: the host's start path uses it.
"""

from __future__ import annotations

import json
import os
import stat

from . import paths

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
MAX_SIZE = 4 * 1024 * 1024  # an environment is far smaller; a bigger file is not ours


class EnvFileError(Exception):
    """The file is missing, not private, not ours, or not an environment."""


def write(directory: str, env: dict[str, str]) -> str:
    """Write ``env`` to a new 0600 file in ``directory`` (atomically); return its path."""
    path = os.path.join(directory, f"env-{os.urandom(8).hex()}")
    paths.write_atomic(path, json.dumps(env), mode=0o600)
    return path


def take(path: str) -> dict[str, str]:
    """Read the environment at ``path`` and remove the file.

    Refused (EnvFileError) unless it is a regular file owned by this user with
    no group or other permission bits, and not a symlink; a refused file is
    left in place, the others are removed even when their content is junk.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as err:
        raise EnvFileError(f"cannot open environment file {path}: {err.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise EnvFileError(f"environment file {path} is not a private file of this user")
        if st.st_size > MAX_SIZE:
            raise EnvFileError(f"environment file {path} is too large")
        paths.remove_quietly(path)
        chunks: list[bytes] = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    try:
        env = json.loads(data)
    except (ValueError, RecursionError):
        env = None
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and "=" not in k and "\0" not in k + v
        for k, v in env.items()
    ):
        raise EnvFileError(f"environment file {path} does not hold an environment")
    return env
