from __future__ import annotations

import json
import os

from tests.support.hosts import ControlServer, HostProcess


async def test_fake_claude_connects_and_calls_a_tool(
    isolated_env: dict[str, str], control: ControlServer, tmp_path: object
) -> None:
    cwd = os.getcwd()
    host = await HostProcess.start(dict(os.environ), cwd, name="api")
    try:
        cli = await control.accept()
        reply = await cli.tool("getWorkspaceFolders")
        payload = json.loads(reply["result"]["content"][0]["text"])
        assert payload["rootPath"] == os.path.realpath(cwd)
    finally:
        await host.stop()
