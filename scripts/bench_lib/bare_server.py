"""The baseline: a bare websockets JSON-RPC server, no MCP core, no router.

``python -m bench_lib.bare_server FIFO`` binds 127.0.0.1 on a free port,
writes ``{"port": N}`` and a newline to FIFO, and answers every request
with a fixed getWorkspaceFolders-shaped result: json.loads, one dict,
json.dumps, send. What is left of the round trip is Python, asyncio and
websockets — the floor any Python host stands on.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol


def _result(cwd: str) -> dict[str, object]:
    folder = {"name": os.path.basename(cwd), "uri": f"file://{cwd}", "path": cwd}
    text = json.dumps({"success": True, "folders": [folder], "rootPath": cwd})
    return {"content": [{"type": "text", "text": text}]}


async def main(fifo: str) -> None:
    result = _result(os.getcwd())

    async def handler(ws: ServerConnection) -> None:
        async for frame in ws:
            msg = json.loads(frame)
            if "id" in msg and "method" in msg:
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}))

    async with serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=[Subprotocol("mcp")],
        compression=None,
        max_size=None,
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, (json.dumps({"port": port}) + "\n").encode())
        os.close(fd)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
