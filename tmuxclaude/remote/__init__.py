"""tclaude on other machines: each remote's tclaude, reached over ssh."""
