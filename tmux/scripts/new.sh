#!/bin/sh
# Start an instance from the new-instance prompt; an empty name lets tclaude
# name it after the directory.
#   new.sh COMMAND CLIENT NAME DIR
here=$(dirname "$0")
command=$1 client=$2 name=$3 dir=${4:-.}
set -- new --cwd "$dir"
[ -n "$name" ] && set -- "$@" --name "$name"
exec sh "$here/run.sh" "$client" "$command" "$@"
