"""``tclaude remote install``: this tclaude, with its dependencies, onto a remote.

Wheels are built here (``pip wheel`` of the installed package's source, with
its dependencies, cached by version and source stamp), sent as a tar stream
over the remote's shared connection, installed into a new venv under
``~/.local/share/tclaude`` with ``pip --no-index`` (the remote needs no package
index), checked with ``tclaude --version``, and only then switched in: the
``venv`` link is replaced with a rename, and ``~/.local/bin/tclaude`` points
through it. The remote needs ``python3`` with ``venv``, of the same minor
version and platform as here (binary wheels such as pydantic-core's must fit).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from .. import VERSION, paths
from ..errors import TclaudeError
from ..names import printable
from .ssh import Remote, RemoteError, last_line, run_ssh

INSTALL_TIMEOUT = 300.0

# the remote's side: unpack, make a venv beside the current one, install offline, check,
# then switch the link with a rename; a failure leaves the installed tclaude as it was
_REMOTE_SCRIPT = r"""
set -eu
umask 077
base="$HOME/.local/share/tclaude"
mkdir -p "$base" "$HOME/.local/bin"
new="$base/venv-{version}-$$"
rm -rf "$new" "$new.wheels"
mkdir "$new.wheels"
trap 'rm -rf "$new.wheels"' EXIT
tar -xf - -C "$new.wheels"
python3 -m venv "$new" || {{ echo "python3 -m venv failed on the remote" >&2; exit 3; }}
"$new/bin/python" -m pip install -q --disable-pip-version-check --no-index \
  --find-links "$new.wheels" tmuxclaude=={version} >&2 || {{ rm -rf "$new"; exit 4; }}
got=$("$new/bin/tclaude" --version) || {{ rm -rf "$new"; exit 5; }}
if [ "$got" != "tclaude {version}" ]; then
  echo "installed tclaude says: $got" >&2; rm -rf "$new"; exit 5
fi
"$new/bin/python" - "$new" "$base/venv" "$HOME/.local/bin/tclaude" <<'PY'
import os, sys
new, link, binary = sys.argv[1:]
old = os.path.realpath(link) if os.path.islink(link) else None
for target, name in ((new, link), (os.path.join(link, "bin", "tclaude"), binary)):
    tmp = name + ".new"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, name)
if old and old != new and os.path.basename(old).startswith("venv-"):
    import shutil
    shutil.rmtree(old, ignore_errors=True)
PY
echo "$HOME/.local/bin/tclaude"
"""


def source_dir() -> Path:
    """The source tree this tclaude runs from (a checkout or an sdist's unpacked tree)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise TclaudeError(
            "tclaude remote install builds from tclaude's source, which is not beside this "
            f"install ({root}); install tclaude from a checkout (pip install -e) and retry"
        )
    return root


def _stamp(root: Path) -> str:
    """Version and a digest of the sources' names, sizes and mtimes: the wheel cache key."""
    digest = hashlib.sha256()
    for path in sorted([root / "pyproject.toml", *(root / "tmuxclaude").rglob("*.py")]):
        st = path.stat()
        digest.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    return f"{VERSION}-{tag}-{digest.hexdigest()[:16]}"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tclaude" / "wheels"


def build_wheels(root: Path | None = None) -> Path:
    """The directory of wheels (tclaude and its dependencies), built once per source stamp."""
    root = root or source_dir()
    target = cache_dir() / _stamp(root)
    if (target / ".complete").exists():
        return target
    paths.ensure_private_dir(str(target))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check",
         "-w", str(target), str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=INSTALL_TIMEOUT,
    )  # fmt: skip
    if proc.returncode != 0:
        raise TclaudeError(f"building the wheels failed: {last_line(proc.stderr)}")
    (target / ".complete").write_text("")
    return target


def _tar(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(directory.glob("*.whl")):
            tar.add(path, arcname=path.name)
    return buffer.getvalue()


def install(remote: Remote, wheels: Path) -> str:
    """Install the wheels on ``remote``; the remote path of its ``tclaude`` link."""
    script = _REMOTE_SCRIPT.format(version=VERSION)
    command = f"sh -c {_sh_quote(script)}"
    reply = run_ssh(remote, command, timeout=INSTALL_TIMEOUT, stdin=_tar(wheels))
    if reply.code != 0:
        why = {3: "no python3 venv", 4: "pip could not install the wheels", 5: "check failed"}
        raise RemoteError(
            f"remote {remote.name}: install failed ({why.get(reply.code, f'exit {reply.code}')}):"
            f" {last_line(reply.stderr)}",
            "install-failed",
        )
    return installed_at(reply.stdout)


def installed_at(stdout: str) -> str:
    """Where the install script says the link is: its last line, made printable
    (the remote's text reaches the terminal), else the default."""
    lines = [shown for line in stdout.splitlines() if (shown := printable(line, 1000))]
    return lines[-1] if lines else "~/.local/bin/tclaude"


def _sh_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
