"""The Claude Code IDE protocol: JSON-RPC framing, MCP dispatch and tool schemas.

Nothing here knows about tmux, sockets or processes; the host wires it up.
"""
