"""The per-instance host process: IDE server, editor socket, lock file, claude child."""
