#!/bin/sh
# tclaude's tmux plugin: key bindings, a state glyph per instance window, state
# counts in status-right, and hooks that mark a finished instance seen.
#
#   TPM:   set -g @plugin 'OWNER/tmuxclaude'   (then prefix + I)
#   plain: run-shell /path/to/tmuxclaude/tmux/tclaude.tmux
#
# Options (set them before this runs) are listed in docs/tmux.md. Sourcing it
# again is safe: keys are rebound, hooks and status pieces are not duplicated.

set -f  # option values hold #[...]: no globbing
DIR=$(cd "$(dirname "$0")" && pwd)
SCRIPTS="$DIR/scripts"
US=$(printf '\037')

# Every option in one tmux call: NAME=DEFAULT pairs, read back in this order.
OPTIONS="cmd=tclaude
key-table=prefix
key-enter=
key-new=C-n
key-pick=C-f
key-menu=C-e
key-next=C-j
key-prev=C-k
key-waiting=C-w
key-finished=C-d
key-last=
key-kill=C-x
key-beside=C-t
key-review=R
popup-width=90%
popup-height=85%
beside-width=40%
status=on
status-right=on
focus-events=on
glyph-waiting=#[fg=magenta,bold]◆
glyph-limited=#[fg=magenta]⧖
glyph-error=#[fg=red,bold]✗
glyph-busy=#[fg=yellow]●
glyph-done=#[fg=green]✓
glyph-starting=#[fg=blue]◌
glyph-stopped=#[dim]■
glyph-idle=○"

format=
for pair in $OPTIONS; do
  format="$format#{@tclaude-${pair%%=*}}$US"
done
values=$(tmux display-message -p "$format")

# opt_<name, - as _> = the user's value, else the default; esc_<name> = the
# same with commas as #, (what a #{?...} branch needs)
eval "$(V=$values O=$OPTIONS awk -v us="$US" 'BEGIN {
  n = split(ENVIRON["O"], pairs, "\n"); split(ENVIRON["V"], values, us)
  for (i = 1; i <= n; i++) {
    eq = index(pairs[i], "="); name = substr(pairs[i], 1, eq - 1); gsub("-", "_", name)
    value = values[i] != "" ? values[i] : substr(pairs[i], eq + 1)
    gsub("\047", "\047\\\047\047", value)
    escaped = value; gsub(",", "#,", escaped)
    printf "opt_%s=\047%s\047; esc_%s=\047%s\047\n", name, value, name, escaped
  }
}')"

CMD=$opt_cmd
TABLE=$opt_key_table

# --- key bindings -----------------------------------------------------------

bind() {  # bind KEY COMMAND...: in the plugin's table; KEY empty or "none" = unbound
  key=$1
  shift
  case $key in "" | none) return ;; esac
  tmux bind-key -T "$TABLE" "$key" "$@"
}

if [ "$TABLE" != prefix ] && [ "$TABLE" != root ] && [ -n "$opt_key_enter" ] &&
  [ "$opt_key_enter" != none ]; then
  tmux bind-key -T prefix "$opt_key_enter" switch-client -T "$TABLE"
fi

focus() {  # the run-shell command of a focus action: no Python involved
  printf "run-shell \"sh '%s/focus.sh' %s '#{client_name}' '#{pane_id}' '%s'\"" \
    "$SCRIPTS" "$1" "$CMD"
}

# the directory is not pre-filled: a path spliced into the shell command could run
# what its name says; empty means the pane's own, which new.sh asks tmux for
bind "$opt_key_new" command-prompt \
  -p "instance name (empty: the directory's):,directory (empty: this pane's):" \
  "run-shell -b \"sh '$SCRIPTS/new.sh' '$CMD' '#{client_name}' '%1' '%2' '#{pane_id}'\""
# display-popup (tmux 3.3) does not expand formats in its command: run-shell does,
# so the picker learns the pane it was opened from; ## is left for display-popup
bind "$opt_key_pick" run-shell -b "tmux display-popup -c '#{client_name}' -t '#{pane_id}' \
-E -w '$opt_popup_width' -h '$opt_popup_height' -d '##{pane_current_path}' -T ' tclaude ' \
\"$CMD pick --from '#{pane_id}' --client '#{client_name}'\""
bind "$opt_key_review" run-shell -b "tmux display-popup -c '#{client_name}' -t '#{pane_id}' \
-E -w '$opt_popup_width' -h '$opt_popup_height' -d '##{pane_current_path}' \
-T ' tclaude review ' \"sh '$SCRIPTS/review.sh' '$CMD' '#{pane_id}'\""
bind "$opt_key_menu" run-shell -b \
  "sh '$SCRIPTS/run.sh' '#{client_name}' $CMD menu --client '#{client_name}' --from '#{pane_id}'"
bind "$opt_key_next" "$(focus next)"
bind "$opt_key_prev" "$(focus prev)"
# the same choice as `tclaude switch --waiting/--done`, without a Python start
bind "$opt_key_waiting" "$(focus waiting)"
bind "$opt_key_finished" "$(focus finished)"
bind "$opt_key_last" "$(focus last)"
bind "$opt_key_kill" run-shell "sh '$SCRIPTS/kill.sh' '$CMD' '#{client_name}' '#{pane_id}'"
bind "$opt_key_beside" run-shell \
  "sh '$SCRIPTS/beside.sh' '$CMD' '#{client_name}' '#{pane_id}' '$opt_beside_width'"

# --- seen: focusing a finished instance clears @tclaude-unseen ----------------

# ... and tells the watchers (`tclaude seen`: a remote's feed shows it done otherwise)
SEEN="if-shell -F '#{&&:#{==:#{@tclaude-unseen},1},#{&&:#{session_attached},#{window_active}}}' \
'set-option -pu @tclaude-unseen ; run-shell -b \"$CMD seen #{pane_id} >/dev/null 2>&1\"'"
hooks=$(tmux show-hooks -g; tmux show-hooks -gw)

for hook in client-attached client-session-changed session-window-changed window-pane-changed; do
  ours=$(printf '%s\n' "$hooks" | grep "^$hook\[[0-9]*\] .*@tclaude-unseen")
  if printf '%s\n' "$ours" | grep -q "seen #{pane_id}"; then
    continue  # ours already: sourcing twice adds nothing
  fi
  # an older plugin's (it did not tell the watchers): replaced
  for index in $(printf '%s\n' "$ours" | sed -n 's/^\([a-z-]*\[[0-9]*\]\) .*/\1/p'); do
    tmux set-hook -gu "$index"
  done
  tmux set-hook -ga "$hook" "$SEEN"
done

# --- status: a glyph per instance pane, counts in status-right ----------------

is() { printf '#{==:#{@tclaude-state},%s}' "$1"; }
DONE="#{&&:$(is idle),#{==:#{@tclaude-unseen},1}}"

# precedence: waiting, limited, error, busy, done (idle, not seen yet), starting, stopped/stale, idle
GLYPH="#{?$(is waiting),$esc_glyph_waiting,#{?$(is limited),$esc_glyph_limited,\
#{?$(is error),$esc_glyph_error,\
#{?$(is busy),$esc_glyph_busy,#{?$DONE,$esc_glyph_done,\
#{?$(is starting),$esc_glyph_starting,\
#{?#{||:$(is stopped),$(is stale)},$esc_glyph_stopped,$esc_glyph_idle}}}}}}}"
OFF="#{==:#{@tclaude-status},off}"
WINDOW_PIECE="#{?$OFF,,#{P:#{?#{@tclaude-port}, #[none]$GLYPH,}}}"

# count CONDITION GLYPH (escaped) STATE: "GLYPH<n> " when n > 0, n = an x per matching
# pane (windows in 2 sessions count twice; a view, a session grouped by tclaude attach
# and marked @tclaude-view, not at all: tmuxclaude/views.py) and per remote instance in
# STATE, which watch-remotes keeps in @tclaude-remote-STATE (remote/status_counts.py)
count() {
  mine="#{&&:#{@tclaude-port},#{==:#{@tclaude-view},}}"
  panes="#{S:#{W:#{P:#{?#{&&:$mine,$1},x,}}}}#{@tclaude-remote-$3}"
  printf '#{?%s,%s#[default]#{n:%s} ,}' "$panes" "$2" "$panes"
}
RIGHT_PIECE="#{?$OFF,,#[default] $(count "$(is waiting)" "$esc_glyph_waiting" waiting)\
$(count "$(is limited)" "$esc_glyph_limited" limited)\
$(count "$(is error)" "$esc_glyph_error" error)$(count "$(is busy)" "$esc_glyph_busy" busy)\
$(count "$DONE" "$esc_glyph_done" done)}"

# append PIECE to a status option; the piece last appended (remembered in
# @tclaude-appended-<option>) is taken out first, so sourcing twice is harmless
append() {  # append SCOPE OPTION PIECE
  scope=$1 option=$2 piece=$3
  current=$(tmux show-option "$scope" -v "$option")
  previous=$(tmux show-option -gqv "@tclaude-appended-$option")
  if [ -n "$previous" ]; then
    current=$(S=$current P=$previous awk 'BEGIN {
      s = ENVIRON["S"]; p = ENVIRON["P"]; i = index(s, p); if (i) s = substr(s, 1, i - 1) substr(s, i + length(p)); printf "%s", s }')
  fi
  if [ -n "$piece" ]; then
    tmux set-option "$scope" "$option" "$current$piece" \; \
      set-option -g "@tclaude-appended-$option" "$piece"
  else
    tmux set-option "$scope" "$option" "$current" \; set-option -gu "@tclaude-appended-$option"
  fi
}

[ "$opt_status" = off ] && WINDOW_PIECE= && RIGHT_PIECE=
[ "$opt_status_right" = off ] && RIGHT_PIECE=
append -gw window-status-format "$WINDOW_PIECE"
append -gw window-status-current-format "$WINDOW_PIECE"
append -g status-right "$RIGHT_PIECE"

# room for the counts: status-right is cut to status-right-length
if [ -n "$RIGHT_PIECE" ] && [ -z "$(tmux show-option -gqv @tclaude-status-right-length)" ]; then
  length=$(tmux show-option -gv status-right-length)
  tmux set-option -g status-right-length "$((length + 20))" \; \
    set-option -g @tclaude-status-right-length "$length"
fi
# Neovim in a pane learns it got the focus (FocusGained): the editor the user is in
# then gets Claude's diffs. Claude Code asks for it too. @tclaude-focus-events off: left alone.
[ "$opt_focus_events" != off ] && tmux set-option -g focus-events on

# the remotes' status feeds: one process per user, which exits at once when there
# are no remotes or one runs already (docs/status.md)
$CMD watch-remotes --detach </dev/null >/dev/null 2>&1 &
# loaded: remembered by tclaude, so `tclaude restore` can load it again on a new server
tmux set-option -g @tclaude-plugin "$DIR/tclaude.tmux"
exit 0
