#!/bin/sh
# Focus an instance chosen from tmux's own options: no Python starts (but for a remote one).
#   focus.sh ACTION CLIENT PANE [COMMAND]
# ACTION: next | prev (in `tclaude list` order, local instances only), waiting (the
# next instance that needs input, cycling), finished (the most recently finished one
# not seen yet), last (the previously focused one, as `tclaude switch -`). With no
# local one waiting (finished), a remote one: `tclaude switch --waiting` (`--done`).
# CLIENT and PANE are #{client_name} and #{pane_id} of the key press; CLIENT may
# be empty (no client: only the window and pane are selected). COMMAND (tclaude)
# tells the watchers when a finished instance is looked at (tclaude seen).
action=$1
client=$2
current=$3
command=${4:-tclaude}
case $0 in */*) lib=${0%/*} ;; *) lib=. ;; esac; . "$lib/fail.sh"  # fail MESSAGE
us=$(printf '\037')

last=
[ "$action" = last ] && last=$(tmux show-option -gqv @tclaude-last)

# Instance panes carry @tclaude-port (windows never do); dead panes are skipped.
choice=$(tmux list-panes -a \
    -f '#{&&:#{@tclaude-port},#{?pane_dead,0,1}}' \
    -F "#{pane_id}$us#{@tclaude-id}$us#{@tclaude-state}$us#{@tclaude-unseen}$us#{@tclaude-state-since}" |
  awk -F "$us" -v action="$action" -v current="$current" -v last="$last" '
    !seen[$2]++ { n++; pane[n] = $1; id[n] = $2; state[n] = $3; unseen[n] = $4; since[n] = $5
                  if ($1 == current) here = n }
    END {
      if (n == 0) exit
      t = 0
      if (action == "next") t = here ? here % n + 1 : 1
      else if (action == "prev") t = here ? (here + n - 2) % n + 1 : n
      else if (action == "waiting") {
        for (k = 1; k <= n && !t; k++) { i = (here + k - 1) % n + 1; if (state[i] == "waiting") t = i }
      } else if (action == "finished") {
        for (i = 1; i <= n; i++)
          if (unseen[i] == "1" && i != here && (!t || since[i] + 0 > since[t] + 0)) t = i
      } else if (action == "last") {
        for (i = 1; i <= n; i++) if (id[i] == last) t = i
      }
      if (t) print pane[t] " " (here ? id[here] : "")
    }')

if [ -z "$choice" ] && { [ "$action" = waiting ] || [ "$action" = finished ]; }; then
  # none here: a remote one that the status line counts (watch-remotes keeps one x per
  # instance), as `tclaude switch --waiting/--done` finds and opens it (over ssh)
  state=waiting flag=--waiting
  [ "$action" = finished ] && state=done flag=--done
  if [ -n "$(tmux display-message -p "#{@tclaude-remote-$state}")" ]; then
    exec sh "$lib/run.sh" "$client" "$command" switch "$flag" ${client:+--client "$client"}
  fi
fi

if [ -z "$choice" ]; then
  case $action in
    waiting) message="no instance is waiting for input" ;;
    finished) message="no finished instance left unseen" ;;
    last) message="no previous instance to switch back to" ;;
    *) message="no running instances; start one with prefix + the new-instance key" ;;
  esac
  fail "$message"
fi

target=${choice%% *}
from=${choice#* }
# one tmux call: the same steps as `tclaude switch` (spawn.focus_commands)
set -- select-window -t "$target" \; select-pane -t "$target" \; \
  if-shell -F -t "$target" '#{==:#{@tclaude-unseen},1}' \
    "run-shell -b \"$command seen $target >/dev/null 2>&1\"" \; \
  set-option -pu -t "$target" @tclaude-unseen
[ -n "$client" ] && set -- "$@" \; switch-client -c "$client" -t "$target"
[ -n "$from" ] && [ "$target" != "$current" ] && set -- "$@" \; set-option -g @tclaude-last "$from"
exec tmux "$@"
