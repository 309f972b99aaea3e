#!/bin/sh
# Ask, then kill the instance of the current pane (or the one instance pane of
# the current window, e.g. beside an editor).
#   kill.sh COMMAND CLIENT PANE
here=$(dirname "$0")
command=$1 client=$2 pane=$3
case $0 in */*) lib=${0%/*} ;; *) lib=. ;; esac; . "$lib/fail.sh"  # fail MESSAGE
us=$(printf '\037')
found=$(tmux display-message -p -t "$pane" "#{?#{@tclaude-port},#{@tclaude-id}$us#{@tclaude-name},}")
[ -n "$found" ] || found=$(tmux list-panes -t "$pane" -f '#{@tclaude-port}' \
  -F "#{@tclaude-id}$us#{@tclaude-name}")
case $found in
  "" | *"
"*)
    fail "no instance in this pane or window (the picker kills any: x)" ;;
esac
id=${found%%"$us"*}
name=${found#*"$us"}
run="run-shell -b \"sh '$here/run.sh' '$client' $command kill $id\""
prompt="kill instance $name? (y/n)"
if [ -n "$client" ]; then exec tmux confirm-before -b -t "$client" -p "$prompt" "$run"; fi
exec tmux confirm-before -b -p "$prompt" "$run"
