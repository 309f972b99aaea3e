#!/bin/sh
# Start an instance from the new-instance prompt; an empty name lets tclaude
# name it after the directory.
#   new.sh COMMAND CLIENT NAME DIR PANE
# An empty DIR is PANE's current directory, read from tmux here (never spliced
# into a command line, where a crafted directory name could run).
here=$(dirname "$0")
command=$1 client=$2 name=$3 dir=$4 pane=$5
if [ -z "$dir" ]; then
  dir=$(tmux display-message -p -t "${pane:-}" '#{pane_current_path}' 2>/dev/null) || dir=.
  [ -n "$dir" ] || dir=.
fi
set -- new --cwd "$dir"
[ -n "$name" ] && set -- "$@" --name "$name"
exec sh "$here/run.sh" "$client" "$command" "$@"
