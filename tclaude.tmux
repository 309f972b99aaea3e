#!/bin/sh
# TPM runs the *.tmux files at a plugin's root: the plugin itself is tmux/tclaude.tmux.
exec "$(dirname "$0")/tmux/tclaude.tmux" "$@"
