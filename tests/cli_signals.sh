#!/usr/bin/env bash
# Interrupted writes: SIGINT or SIGTERM while `dump --out` or `train --save` is writing its file
# removes the temporary file and ends the process by that signal; nothing is left beside the
# destination, and a destination that was there keeps its old bytes (it is never half-written).
# Usage: cli_signals.sh path/to/gradscope-cli
#
# No timing is guessed: the test waits until the temporary file exists, stops the process
# (SIGSTOP) and checks that the temporary is still there, so the signal lands while the file
# is being written; only then does it send the signal and let the process go on (SIGCONT).
set -u
# Job control: without it a background command starts with SIGINT ignored (POSIX), as a user's
# Ctrl+C never does.
set -m
cli=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# About 60 MB of parameters (and as much again of gradients in a dump): long enough to write
# that the file is caught in progress, quick to compute.
model=(--layers 4 --heads 8 --embd 512 --vocab 4096 --ctx 16 --seq 16 --dtype f32 --threads 1)
out=$tmp/out
mkdir "$out"

# interrupt NAME SIGNAL -- ARGS: run gradscope-cli ARGS, signal it while it writes into $out.
interrupt() {
  local name=$1 sig=$2
  shift 3
  local attempt pid rc want
  want=$((128 + $(kill -l "$sig")))
  for attempt in 1 2 3 4 5 6 7 8; do
    find "$out" -name '*.tmp-*' -delete
    "$cli" "$@" >"$tmp/stdout" 2>"$tmp/stderr" &
    pid=$!
    # compgen is a builtin: the wait forks nothing.
    while kill -0 "$pid" 2>/dev/null && ! compgen -G "$out/*.tmp-*" >/dev/null; do :; done
    kill -STOP "$pid" 2>/dev/null
    if compgen -G "$out/*.tmp-*" >/dev/null; then
      kill -"$sig" "$pid"
      kill -CONT "$pid"
      wait "$pid" 2>/dev/null
      rc=$?
      if [ "$rc" -ne "$want" ]; then
        bad "$name: exit $rc, expected $want (ended by SIG$sig): $(head -c 300 "$tmp/stderr")"
      elif compgen -G "$out/*.tmp-*" >/dev/null; then
        bad "$name: a temporary file was left: $(ls "$out")"
      else
        ok
      fi
      return
    fi
    kill -CONT "$pid" 2>/dev/null
    wait "$pid"  # it finished before it could be stopped: again
  done
  bad "$name: the write was never caught in progress (8 tries)"
}

interrupt dump-sigint INT -- dump "${model[@]}" --out "$out/d.safetensors"
[ -e "$out/d.safetensors" ] && bad "dump-sigint: the destination appeared" || ok
interrupt dump-sigterm TERM -- dump "${model[@]}" --activations --out "$out/a.safetensors"
[ -e "$out/a.safetensors" ] && bad "dump-sigterm: the destination appeared" || ok

# A checkpoint that is there already keeps its old bytes when its replacement is interrupted.
"$cli" train --steps 1 --save "$out/c.safetensors" >/dev/null 2>&1 || bad "train --save (tiny) failed"
cp "$out/c.safetensors" "$tmp/c.before"
interrupt train-save-sigterm TERM -- train --steps 1 "${model[@]}" --save "$out/c.safetensors"
cmp -s "$out/c.safetensors" "$tmp/c.before" && ok || bad "train-save-sigterm: the old checkpoint changed"
[ "$(ls "$out")" = "c.safetensors" ] && ok || bad "left in the directory: $(ls "$out")"

echo "interrupted writes: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
