# Sourced by the binding scripts: `fail MESSAGE` with $client set by the caller.
# Tells the client (#{client_name}) and exits 0, as run-shell would add
# "returned 1"; with no client, prints to stderr and exits 1.
fail() {
  if [ -n "$client" ]; then
    tmux display-message -c "$client" "tclaude: $(printf '%s' "$1" | sed 's/#/##/g')"
    exit 0
  fi
  echo "tclaude: $1" >&2
  exit 1
}
