"""tmuxclaude: many Claude Code sessions in tmux."""

# pyproject.toml's; `tclaude --version` says it, and remotes are compared by it
VERSION = "0.1.0"
