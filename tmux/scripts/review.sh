#!/bin/sh
# Review the pending edits of PANE's instance in a popup (display-popup -E);
# the popup stays until Enter, so that the last word (or an error) can be read.
#   review.sh COMMAND PANE    (COMMAND is word-split: `@tclaude-cmd`)
command=$1 pane=$2
# shellcheck disable=SC2086 # @tclaude-cmd is a command prefix, split on purpose
$command review --from "$pane"
printf '\n[Enter closes this popup] '
read -r _
exit 0
