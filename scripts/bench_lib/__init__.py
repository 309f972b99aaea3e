"""scripts/bench: the tclaude benchmark (run it through scripts/bench)."""
