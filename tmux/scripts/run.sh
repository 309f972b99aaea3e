#!/bin/sh
# Run a tclaude command from a binding; its error, if any, as a tmux message.
#   run.sh CLIENT COMMAND [ARG...]    (COMMAND is word-split: `@tclaude-cmd`)
case $0 in */*) lib=${0%/*} ;; *) lib=. ;; esac; . "$lib/fail.sh"  # fail MESSAGE
client=$1
shift
command=$1
shift
# shellcheck disable=SC2086 # @tclaude-cmd is a command prefix, split on purpose
if ! error=$($command "$@" 2>&1 >/dev/null); then
  message=$(printf '%s' "$error" | grep -v '^ *$' | tail -n 1)
  fail "${message#tclaude: }"
fi
