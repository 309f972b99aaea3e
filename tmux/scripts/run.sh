#!/bin/sh
# Run a tclaude command from a binding; its error, if any, as a tmux message.
#   run.sh CLIENT COMMAND [ARG...]    (COMMAND is word-split: `@tclaude-cmd`)
fail() {  # tell the client and exit 0 (run-shell would add "returned 1"); else stderr
  if [ -n "$client" ]; then
    tmux display-message -c "$client" "tclaude: $(printf '%s' "$1" | sed 's/#/##/g')"
    exit 0
  fi
  echo "tclaude: $1" >&2
  exit 1
}
client=$1
shift
command=$1
shift
# shellcheck disable=SC2086 # @tclaude-cmd is a command prefix, split on purpose
if ! error=$($command "$@" 2>&1 >/dev/null); then
  message=$(printf '%s' "$error" | grep -v '^ *$' | tail -n 1)
  fail "${message#tclaude: }"
fi
