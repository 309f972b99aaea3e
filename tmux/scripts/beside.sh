#!/bin/sh
# Show or hide the instance pane beside the current (editor) pane.
#   beside.sh COMMAND CLIENT PANE WIDTH
# - in an instance pane that shares its window: hide it (break it out to a
#   window of its own, remembering the editor pane in @tclaude-beside);
# - in an instance pane alone in its window, that was beside an editor: put it back;
# - in another pane whose window holds an instance pane: hide that one;
# - otherwise show the instance paired with this pane: the one last hidden from
#   it, else the one whose directory holds this pane's (deepest wins), moved
#   next to it with join-pane; with none, start one: tclaude new --beside.
here=$(dirname "$0")
command=$1 client=$2 pane=$3 width=${4:-40%}
us=$(printf '\037')

case $0 in */*) lib=${0%/*} ;; *) lib=. ;; esac; . "$lib/fail.sh"  # fail MESSAGE

record() {  # record INSTANCE LAYOUT [EDITOR]: the state file follows, in the background
  # shellcheck disable=SC2086 # $command is a command prefix, split on purpose
  ( $command layout "$2" --record "$1" ${3:+--editor "$3"} >/dev/null 2>&1 & )
}

hide() {  # hide INSTANCE_PANE EDITOR_PANE NAME ID
  # the pair first: once the pane is out, the editor is in view and may be read
  tmux set-option -p -t "$1" @tclaude-beside "$2" || exit 1
  window=$(tmux break-pane -d -P -F '#{window_id}' -s "$1" -n "$3") || exit 1
  tmux set-option -w -t "$window" @tclaude-id "$4" \; \
    set-option -w -t "$window" @tclaude-name "$3"
  record "$4" tabbed
}

show() {  # show INSTANCE_PANE EDITOR_PANE
  # seen now, and the watchers told if it was not (as spawn.focus_commands does)
  tmux join-pane -h -l "$width" -s "$1" -t "$2" \; \
    set-option -pu -t "$1" @tclaude-beside \; \
    if-shell -F -t "$1" '#{==:#{@tclaude-unseen},1}' \
      "run-shell -b \"$command seen $1 >/dev/null 2>&1\"" \; \
    set-option -pu -t "$1" @tclaude-unseen || exit 1
  record "$(tmux display-message -p -t "$1" '#{@tclaude-id}')" beside "$2"
  [ -n "$client" ] && tmux switch-client -c "$client" -t "$1"
  exit 0
}

info=$(tmux display-message -p -t "$pane" \
  "#{@tclaude-port}$us#{@tclaude-id}$us#{@tclaude-name}$us#{window_panes}$us#{@tclaude-beside}$us#{@tclaude-split}$us#{pane_current_path}")
IFS=$us read -r port id name panes beside split path <<EOF_INFO
$info
EOF_INFO

if [ "$split" = 1 ]; then
  fail "this is the split instances window; toggle beside from an editor pane"
fi

if [ -n "$port" ]; then
  if [ "$panes" -gt 1 ]; then
    editor=$(tmux list-panes -t "$pane" -f '#{?#{@tclaude-port},0,1}' -F '#{pane_id}' | head -n 1)
    hide "$pane" "${editor:-}" "$name" "$id"
    [ -n "$editor" ] && tmux select-pane -t "$editor"
    exit 0
  fi
  if [ -n "$beside" ] && tmux display-message -p -t "$beside" '' >/dev/null 2>&1; then
    show "$pane" "$beside"
  fi
  fail "$name is not beside an editor; press this key in the editor's pane"
fi

# an editor pane: hide the instance sharing its window, if any
shown=$(tmux list-panes -t "$pane" -f '#{@tclaude-port}' \
  -F "#{pane_id}$us#{@tclaude-id}$us#{@tclaude-name}" | head -n 1)
if [ -n "$shown" ]; then
  IFS=$us read -r shown_pane shown_id shown_name <<EOF_SHOWN
$shown
EOF_SHOWN
  hide "$shown_pane" "$pane" "$shown_name" "$shown_id"
  exit 0
fi

# show the paired instance: hidden from this pane, else the deepest cwd holding ours
paired=$(tmux list-panes -a -f '#{&&:#{@tclaude-port},#{?pane_dead,0,1}}' \
    -F "#{pane_id}$us#{@tclaude-beside}$us#{@tclaude-cwd}$us#{@tclaude-split}" |
  awk -F "$us" -v editor="$pane" -v path="$path" '
    $2 == editor { print $1; done = 1; exit }
    $4 != 1 && $3 != "" && (path == $3 || index(path, $3 "/") == 1 || $3 == "/") &&
      length($3) > best { best = length($3); found = $1 }
    END { if (!done && found) print found }')
if [ -n "$paired" ]; then
  show "$paired" "$pane"
fi
exec sh "$here/run.sh" "$client" "$command" new --beside "$pane" --cwd "$path"
