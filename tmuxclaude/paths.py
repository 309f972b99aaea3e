"""Where tclaude keeps its files. Cheap to import: the host's start path uses it."""

from __future__ import annotations

import os
import stat

_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _env_dir(var: str, default: str) -> str:
    value = os.environ.get(var)
    return value if value and os.path.isabs(value) else default


def claude_config_dir() -> str:
    """``$CLAUDE_CONFIG_DIR`` if set, else ``~/.claude``: where the CLI looks for IDEs."""
    return os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".claude")


def lock_dir() -> str:
    return os.path.join(claude_config_dir(), "ide")


def runtime_dir() -> str:
    """Sockets and runtime records: ``TCLAUDE_RUNTIME_DIR``, else under XDG or the temp dir."""
    override = os.environ.get("TCLAUDE_RUNTIME_DIR")
    if override:
        return override
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg) and os.path.isdir(xdg):  # a relative one is ignored (XDG)
        return os.path.join(xdg, "tclaude")
    import tempfile  # only here: ~5 ms of imports (shutil, random) the host's start avoids

    return os.path.join(tempfile.gettempdir(), f"tclaude-{os.getuid()}")


def state_dir() -> str:
    override = os.environ.get("TCLAUDE_STATE_DIR")
    if override:
        return override
    home = os.path.expanduser("~")
    return os.path.join(
        _env_dir("XDG_STATE_HOME", os.path.join(home, ".local", "state")), "tclaude"
    )


def config_file() -> str:
    override = os.environ.get("TCLAUDE_CONFIG_FILE")
    if override:
        return override
    home = os.path.expanduser("~")
    base = _env_dir("XDG_CONFIG_HOME", os.path.join(home, ".config"))
    return os.path.join(base, "tclaude", "config.toml")


def ensure_private_dir(path: str) -> str:
    """Create ``path`` and any missing parent 0700, whatever the umask.

    An existing ``path`` that others can read or write is tightened to 0700;
    one that belongs to another user is refused (PermissionError): another
    user could read, plant or lock what tclaude keeps there. So is a path
    below a directory of another user's (root's aside), or below one that
    everybody may write and is not sticky: its owner could rename ``path``
    away and put another in its place (say ``/tmp/tclaude-<uid>`` made by
    somebody else, with an ``ssh`` dir of ours inside it). Existing parents
    are otherwise left as they are.
    """
    missing: list[str] = []
    head = os.path.abspath(path)
    while not os.path.isdir(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    _check_parents(head if missing else os.path.dirname(os.path.abspath(path)))
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue  # made meanwhile by a racing command: checked below if it is ours
        except OSError as exc:  # errno kept: OSError(errno, ...) is FileNotFoundError etc.
            raise OSError(exc.errno, f"cannot create {directory}: {exc.strerror}") from None
        os.chmod(directory, 0o700)
    link = os.lstat(path)
    if stat.S_ISLNK(link.st_mode) and link.st_uid != os.getuid():
        # in a sticky /tmp another user may plant the name as a link to a dir they
        # can swap later: never follow (or chmod through) a link that is not ours
        raise PermissionError(
            f"{path} is a link that belongs to another user (uid {link.st_uid}): "
            "tclaude keeps its files only in a directory of your own; remove it or "
            "point tclaude elsewhere"
        )
    st = os.stat(path)
    if not os.path.isdir(path):
        raise NotADirectoryError(f"{path} is not a directory")
    if st.st_uid != os.getuid():
        raise PermissionError(
            f"{path} belongs to another user (uid {st.st_uid}): tclaude keeps its files only in "
            "a directory of your own; remove it or point tclaude elsewhere"
        )
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def _check_parents(directory: str) -> None:
    """Refuse (PermissionError) ``directory`` or one above it, as written or as resolved,
    that another user (root aside) owns or could rename things in: a symlink of theirs,
    a directory of theirs, or one that others may write without the sticky bit (group
    write counts, but for one of ours whose group is our own; see ensure_private_dir)."""
    uid, gid = os.getuid(), os.getgid()
    given = os.path.abspath(directory)
    for head in (*_ancestors(given), *_ancestors(os.path.realpath(given))):
        try:
            link, st = os.lstat(head), os.stat(head)
        except OSError:
            continue  # not there (a race): what is made below is checked by its owner
        for owner in (link.st_uid, st.st_uid):
            if owner not in (uid, 0):
                raise PermissionError(
                    f"{head} belongs to another user (uid {owner}): tclaude keeps its files "
                    "only below directories of your own or root's; remove it or point tclaude "
                    "elsewhere"
                )
        ours_alone = st.st_uid == uid and st.st_gid == gid
        shared = st.st_mode & 0o002 or (st.st_mode & 0o020 and not ours_alone)
        if shared and not st.st_mode & stat.S_ISVTX:
            raise PermissionError(
                f"{head} can be written by other users and is not sticky: tclaude does not "
                "keep its files below it; point tclaude elsewhere"
            )


def _ancestors(path: str) -> list[str]:
    """``path`` and each directory above it, up to ``/``."""
    found = [path]
    while (parent := os.path.dirname(found[-1])) != found[-1]:
        found.append(parent)
    return found


def check_owner(fd: int, path: str) -> os.stat_result:
    """Refuse (PermissionError) an open file that belongs to another user."""
    st = os.fstat(fd)
    if st.st_uid != os.getuid():
        raise PermissionError(
            f"{path} belongs to another user (uid {st.st_uid}): tclaude does not trust it; "
            "remove it"
        )
    return st


def check_private_file(fd: int, path: str) -> None:
    """Refuse an open file of another user's; make one of ours 0600 if others can use it."""
    if check_owner(fd, path).st_mode & 0o077:
        os.fchmod(fd, 0o600)


def write_atomic(path: str, data: str, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename.

    The temp file is made as ``tempfile.mkstemp`` makes it (exclusive create,
    0600, no symlink followed), without importing ``tempfile``.
    """
    directory = os.path.dirname(path)
    fd, tmp = _create_temp(directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise


def _create_temp(directory: str) -> tuple[int, str]:
    for _ in range(100):
        tmp = os.path.join(directory, f".tmp-{os.urandom(6).hex()}.part")
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp file name in {directory}")


def which(program: str) -> str | None:
    """``shutil.which(program)`` on POSIX, without importing ``shutil`` (~2 ms: zlib, bz2,
    lzma) on the host's and the CLI's start path."""
    if os.path.dirname(program):
        return program if _executable(program) else None
    search = os.environ.get("PATH")
    if search is None:
        try:
            search = os.confstr("CS_PATH")
        except (AttributeError, ValueError):
            search = os.defpath
    if not search:
        return None
    seen: set[str] = set()
    for directory in search.split(os.pathsep):
        if directory in seen:
            continue
        seen.add(directory)
        candidate = os.path.join(directory, program)
        if _executable(candidate):
            return candidate
    return None


def _executable(path: str) -> bool:
    return os.path.exists(path) and os.access(path, os.X_OK) and not os.path.isdir(path)


def inside(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or below it, as strings (resolve them first)."""
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root if root == "/" else root + "/")


def remove_quietly(path: str | None) -> None:
    if not path:
        return
    try:  # noqa: SIM105 (contextlib is one more import on the host's start path)
        os.unlink(path)
    except FileNotFoundError:
        pass
