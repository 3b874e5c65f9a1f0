#!/usr/bin/env bash
# UI smoke tests of build/bin/gradscope under a virtual display (xvfb-run).
#   ui_smoke.sh GRADSCOPE CASE
# Exit 0 pass, 1 fail, 77 skip (no xvfb-run).
set -u
bin=$1
case_=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
W=1600 H=900

fail() { echo "FAIL ($case_): $*"; exit 1; }
run_x() { xvfb-run -a -s "-screen 0 ${W}x${H}x24" "$bin" "$@"; }
one_line() {  # stderr file must hold exactly one line
  local n; n=$(wc -l <"$1")
  [ "$n" -eq 1 ] || { cat "$1"; fail "expected one line on stderr, got $n"; }
}
png_ok() {  # FILE COLOURMAP
  [ -s "$1" ] || fail "no screenshot written"
  if command -v python3 >/dev/null; then
    python3 "$here/png_check.py" "$1" "$W" "$H" "$2" || fail "screenshot check failed"
  else
    head -c 8 "$1" | od -An -c | grep -q 'P   N   G' || fail "not a PNG"
  fi
}
# 2N of the default model, from the one-line range error.
total_steps() {
  run_x --step 99999999 2>"$tmp/range.err" >/dev/null
  sed -n 's/.*steps run 0 … \([0-9]*\).*/\1/p' "$tmp/range.err"
}

if [ "$case_" != no_display ] && [ "$case_" != help ] && ! command -v xvfb-run >/dev/null; then
  echo "SKIP: xvfb-run not installed (apt-get install xvfb)"
  exit 77
fi

case $case_ in
  no_display)
    env -u DISPLAY -u WAYLAND_DISPLAY "$bin" --step 3 >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "exit $rc, expected 2"
    one_line "$tmp/err"
    grep -q "no display" "$tmp/err" || fail "stderr does not say there is no display: $(cat "$tmp/err")"
    grep -q "xvfb-run -a build/bin/gradscope" "$tmp/err" || fail "stderr does not say how to run it"
    grep -q "gradscope-cli" "$tmp/err" || fail "stderr does not mention gradscope-cli"
    [ ! -s "$tmp/out" ] || fail "unexpected stdout"
    ;;
  screenshot_forward)
    # --presenter: transport and op inspector only, so the maps checked are the inspector's.
    run_x --presenter --screenshot "$tmp/f.png" --step 12 >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "exit $?"; }
    grep -q "step 12 of [0-9]*: forward · op 11: " "$tmp/out" || fail "unexpected stdout: $(cat "$tmp/out")"
    png_ok "$tmp/f.png" sequential
    ;;
  screenshot_backward)
    total=$(total_steps)
    [ -n "$total" ] || fail "could not read 2N from: $(cat "$tmp/range.err")"
    run_x --presenter --screenshot "$tmp/b.png" --step $((total - 8)) >"$tmp/out" 2>"$tmp/err" \
      || { cat "$tmp/err"; fail "exit"; }
    grep -q ": backward " "$tmp/out" || fail "unexpected stdout: $(cat "$tmp/out")"
    png_ok "$tmp/b.png" diverging
    ;;
  screenshot_ends)
    total=$(total_steps)
    [ -n "$total" ] || fail "could not read 2N"
    for s in 0 "$total"; do
      run_x --screenshot "$tmp/e$s.png" --step "$s" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "step $s"; }
      png_ok "$tmp/e$s.png" none
    done
    ;;
  step_out_of_range)
    for s in 99999999 -1; do
      run_x --screenshot "$tmp/x.png" --step "$s" >"$tmp/out" 2>"$tmp/err"
      rc=$?
      [ $rc -eq 2 ] || fail "--step $s: exit $rc, expected 2"
      one_line "$tmp/err"
      grep -q "out of range" "$tmp/err" || fail "--step $s: $(cat "$tmp/err")"
      [ ! -e "$tmp/x.png" ] || fail "--step $s wrote a screenshot"
    done
    ;;
  bad_arguments)
    # A device node as the screenshot: /dev/full unless the sandbox left a regular file there.
    dev=/dev/full
    for d in /dev/full /dev/null /dev/zero; do if [ -c "$d" ]; then dev=$d; break; fi; done
    for args in "--window 12" "--screenshot $tmp/y.png" "--frames 0" "--text ABC" "--preset huge" "--lr 0 --frames 1" \
                "--seed -1 --frames 1" "--checkpoint= --frames 1" "--screenshot= --step 1" "--screenshot $dev --step 1"; do
      # shellcheck disable=SC2086
      run_x $args >"$tmp/out" 2>"$tmp/err"
      rc=$?
      [ $rc -eq 2 ] || fail "'$args': exit $rc, expected 2"
      one_line "$tmp/err"
      # The rule, not a 309-digit bound (CLI11's PositiveNumber prints DBL_MAX in full).
      if grep -Eq '[0-9]{30}' "$tmp/err"; then fail "'$args': $(cat "$tmp/err")"; fi
    done
    ;;
  checkpoint_not_a_file)
    # A FIFO (whose open would wait for a writer forever), a directory and a file that is not a
    # checkpoint: one line, exit 2, no picture, and the app ends (timeout: it must not hang), both
    # when the model is loaded before the window and when it is loaded in the background.
    mkfifo "$tmp/fifo.safetensors"
    mkdir "$tmp/dir.safetensors"
    printf 'garbage' >"$tmp/junk.safetensors"
    for f in fifo dir junk; do
      for wait_ms in "" 60000; do
        extra=()
        [ -n "$wait_ms" ] && extra=(--screenshot-after-ms "$wait_ms")
        timeout 120 xvfb-run -a -s "-screen 0 ${W}x${H}x24" "$bin" --checkpoint "$tmp/$f.safetensors" \
          --screenshot "$tmp/c.png" --step 0 "${extra[@]}" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        [ $rc -eq 2 ] || fail "$f ${wait_ms:+(background)}: exit $rc, expected 2 (124: it hung)"
        one_line "$tmp/err"
        grep -q "$f.safetensors" "$tmp/err" || fail "$f: does not name the file: $(cat "$tmp/err")"
        [ ! -e "$tmp/c.png" ] || fail "$f: wrote a screenshot"
      done
    done
    grep -q "model not changed" "$tmp/err" || fail "the background load does not say the model stayed: $(cat "$tmp/err")"
    ;;
  frames)
    run_x --frames 30 >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "exit"; }
    grep -Eq "^frames 30: mean [0-9.]+ ms, p95 [0-9.]+ ms" "$tmp/out" || fail "unexpected stdout: $(cat "$tmp/out")"
    ;;
  missing_shaders)
    GRADSCOPE_SHADERS="$tmp/none" run_x --presenter --screenshot "$tmp/m.png" --step 12 >"$tmp/out" 2>"$tmp/err" \
      || { cat "$tmp/err"; fail "exit"; }
    grep -q "heatmap.vert is missing" "$tmp/err" || fail "no clear shader error: $(cat "$tmp/err")"
    png_ok "$tmp/m.png" none
    # Without shaders there are no heatmaps, and the picture check must notice.
    if command -v python3 >/dev/null && python3 "$here/png_check.py" "$tmp/m.png" "$W" "$H" sequential >/dev/null 2>&1; then
      fail "the screenshot check finds heatmaps where none can be"
    fi
    ;;
  broken_shader)
    mkdir -p "$tmp/sh"
    cp "$here/../../shaders/heatmap.vert" "$tmp/sh/"
    printf '#version 330 core\nvoid main() { this is not glsl }\n' >"$tmp/sh/heatmap.frag"
    GRADSCOPE_SHADERS="$tmp/sh" run_x --screenshot "$tmp/k.png" --step 12 >"$tmp/out" 2>"$tmp/err" \
      || { cat "$tmp/err"; fail "exit"; }
    grep -q "heatmap.frag failed to compile" "$tmp/err" || fail "no clear compile error: $(cat "$tmp/err")"
    ;;
  lora_light_large_text)
    run_x --lora-rank 4 --lora-targets attn.c_attn,mlp.c_fc --theme light --font-scale 1.5 --presenter \
      --screenshot "$tmp/l.png" --step 60 >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "exit"; }
    grep -q "of 100: backward" "$tmp/out" || fail "LoRA tape should have 50 ops: $(cat "$tmp/out")"
    png_ok "$tmp/l.png" diverging
    ;;
  presenter_1280)
    # A projector: 1280×720 with large text. The inspector's maps are on screen (their colours
    # are in the picture) forward and backward.
    W=1280 H=720
    total=$(total_steps)
    [ -n "$total" ] || fail "could not read 2N"
    run_x --presenter --window 1280x720 --font-scale 1.6 --screenshot "$tmp/f.png" --step 12 >"$tmp/out" 2>"$tmp/err" \
      || { cat "$tmp/err"; fail "forward: exit"; }
    png_ok "$tmp/f.png" sequential
    run_x --presenter --window 1280x720 --font-scale 1.6 --screenshot "$tmp/b.png" --step $((total - 8)) >"$tmp/out" \
      2>"$tmp/err" || { cat "$tmp/err"; fail "backward: exit"; }
    grep -q ": backward · op " "$tmp/out" || fail "unexpected stdout: $(cat "$tmp/out")"
    png_ok "$tmp/b.png" diverging
    ;;
  layouts)
    # Each layout with secondary panels open beside the inspector: its maps are still drawn.
    total=$(total_steps)
    [ -n "$total" ] || fail "could not read 2N"
    i=0
    for layout in "--show|Graph,FLOPs,Predictions" "--side|tabs|--show|Graph,FLOPs,Training,Attention" \
                  "--presenter|--show|Graph,Predictions" "--presenter|--side|tabs|--show|FLOPs,Finite differences"; do
      i=$((i + 1))
      IFS='|' read -r -a args <<<"$layout"
      run_x "${args[@]}" --screenshot "$tmp/l$i.png" --step $((total - 8)) >"$tmp/out" 2>"$tmp/err" \
        || { cat "$tmp/err"; fail "'$layout': exit"; }
      png_ok "$tmp/l$i.png" diverging
    done
    run_x --side rows --screenshot "$tmp/x.png" --step 1 >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "--side rows: exit $rc, expected 2"
    one_line "$tmp/err"
    ;;
  help)
    # Every flag is documented in --help (no display needed).
    "$bin" --help >"$tmp/out" 2>"$tmp/err" || fail "--help: exit $?"
    for flag in --step --window --font-scale --theme --presenter --side --show --train --lr --optimizer --screenshot --screenshot-after-ms \
                --frames --mouse --preset --text --tokenizer --vocab-dir --seq --dtype --seed --checkpoint \
                --lora-rank --lora-alpha --lora-targets --mistake; do
      grep -q -- "$flag " "$tmp/out" || fail "--help does not document $flag"
    done
    [ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
    ;;
  show_panels)
    run_x --show "graph, FLOPs,Training" --screenshot "$tmp/s.png" --step 12 >"$tmp/out" 2>"$tmp/err" \
      || { cat "$tmp/err"; fail "exit"; }
    png_ok "$tmp/s.png" sequential
    run_x --show "Graph,Nonsense" --screenshot "$tmp/n.png" --step 12 >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "--show Nonsense: exit $rc, expected 2"
    one_line "$tmp/err"
    grep -q "no panel 'Nonsense'" "$tmp/err" || fail "unclear: $(cat "$tmp/err")"
    grep -q "Op inspector" "$tmp/err" || fail "does not list the panels: $(cat "$tmp/err")"
    [ ! -e "$tmp/n.png" ] || fail "wrote a screenshot"
    ;;
  background_build)
    # The window opens on the default model while the asked-for one is built off the UI thread;
    # the picture is taken whatever the build has reached (--step applies once it is in place).
    run_x --preset small --screenshot "$tmp/b.png" --step 3 --screenshot-after-ms 0 >"$tmp/out" 2>"$tmp/err" \
      || { cat "$tmp/err"; fail "exit"; }
    grep -Eq "at step (3 of 156|0 of 84)" "$tmp/out" || fail "unexpected stdout: $(cat "$tmp/out")"
    png_ok "$tmp/b.png" none
    # A build that fails there ends a scripted run at once (long before the picture is due).
    run_x --checkpoint "$tmp/missing.safetensors" --screenshot "$tmp/m.png" --step 0 --screenshot-after-ms 60000 \
      >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "missing checkpoint in the background: exit $rc, expected 2"
    one_line "$tmp/err"
    grep -q "missing.safetensors" "$tmp/err" || fail "does not name the file: $(cat "$tmp/err")"
    [ ! -e "$tmp/m.png" ] || fail "wrote a screenshot"
    ;;
  gpt2_vocab_missing)
    run_x --tokenizer gpt2 --vocab-dir "$tmp/none" --screenshot "$tmp/v.png" --step 1 >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "exit $rc, expected 2"
    one_line "$tmp/err"
    grep -q "scripts/fetch-gpt2-vocab" "$tmp/err" || fail "does not say how to fetch it: $(cat "$tmp/err")"
    ;;
  train)
    run_x --train 3 --screenshot "$tmp/t.png" --step 5 --show Training >"$tmp/out" 2>"$tmp/err" \
      || { cat "$tmp/err"; fail "exit"; }
    grep -q "at step 5 of" "$tmp/out" || fail "unexpected stdout: $(cat "$tmp/out")"
    png_ok "$tmp/t.png" none
    ;;
  check)
    # "Check every op" on a float model: op-local by default, every op and parameter passes.
    run_x --preset small --check --screenshot "$tmp/c.png" --step 100 >"$tmp/out" 2>"$tmp/err" \
      || { cat "$tmp/err"; fail "exit"; }
    grep -q "finite differences (op-local direction): [0-9]* ops pass, 0 fail; [0-9]* parameters pass, 0 fail$" "$tmp/out" \
      || fail "unexpected: $(cat "$tmp/out")"
    png_ok "$tmp/c.png" diverging
    ;;
  mistake)
    # The planted mistake is found where it was planted, by the core's own checks.
    run_x --mistake h.1.attn.softmax=dropped_term --screenshot "$tmp/p.png" --step 56 >"$tmp/out" 2>"$tmp/err" \
      || { cat "$tmp/err"; fail "exit"; }
    grep -q "first disagreement from the loss: h.1.attn.softmax$" "$tmp/out" || fail "not found: $(cat "$tmp/out")"
    png_ok "$tmp/p.png" diverging
    run_x --mistake h.0.attn.scale=forgotten_scale --screenshot "$tmp/q.png" --step 1 >"$tmp/out" 2>"$tmp/err" \
      || { cat "$tmp/err"; fail "exit"; }
    grep -q "first disagreement from the loss: h.0.attn.scale$" "$tmp/out" || fail "not found: $(cat "$tmp/out")"
    for bad in "h.0.ln_1=missing_transpose" "nope=flipped_sign" "h.0.attn.softmax=bogus" "no-equals"; do
      run_x --mistake "$bad" --screenshot "$tmp/b.png" --step 1 >"$tmp/out" 2>"$tmp/err"
      rc=$?
      [ $rc -eq 2 ] || fail "--mistake $bad: exit $rc, expected 2"
      one_line "$tmp/err"
      grep -q -- "--mistake" "$tmp/err" || fail "unclear: $(cat "$tmp/err")"
      [ ! -e "$tmp/b.png" ] || fail "wrote a screenshot for --mistake $bad"
    done
    ;;
  lessons)
    # Every step of every lesson drawn, Next after Next, from the first to GPT-2 with LoRA.
    run_x --lesson 01-one-weight --walk-lessons >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "walk: exit"; }
    grep -q "walked [0-9]* lesson steps, every one drawn without an error" "$tmp/out" || fail "walk: $(cat "$tmp/out")"
    n=$(sed -n 's/walked \([0-9]*\) lesson steps.*/\1/p' "$tmp/out")
    [ "$n" -gt 70 ] || fail "walked only $n steps"
    # A step of its own, headless; presenter size.
    W=1280 H=720 run_x --window 1280x720 --font-scale 1.6 --lesson 02-the-table --lesson-step 6 --screenshot "$tmp/l.png" \
      >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "screenshot: exit"; }
    grep -q "step 8 of 8: backward · op 0: y1" "$tmp/out" || fail "lesson step 6 is not at y1's backward: $(cat "$tmp/out")"
    # Bad lesson input: one line, exit 2, no picture.
    printf 'title = "t"\nprogram = "line"\n[[step]]\ntext = "x"\nat = "forward nope"\n' >"$tmp/bad.toml"
    for args in "--lesson $tmp/bad.toml" "--lesson 99-nothing" "--lesson 01-one-weight --lesson-step 99" \
                "--lesson-step 2" "--lesson 01-one-weight --preset small"; do
      # shellcheck disable=SC2086
      run_x $args --screenshot "$tmp/b.png" --step 1 >"$tmp/out" 2>"$tmp/err"
      rc=$?
      [ $rc -eq 2 ] || fail "$args: exit $rc, expected 2"
      one_line "$tmp/err"
      [ ! -e "$tmp/b.png" ] || fail "wrote a screenshot for $args"
    done
    grep -q -- "--preset cannot be given with --lesson" "$tmp/err" || fail "unclear: $(cat "$tmp/err")"
    ;;
  custom)
    # A model of one's own from the command line: CS231n's circuit at a backward step (its numbers
    # printed large in the inspector), with Model & input's text box and the graph open; in
    # presenter mode at projector size; a wrong text: one line naming the place, exit 2, no picture.
    circuit=(--program custom --model "q = x + y; f = q * z" --set x=-2 --set y=5 --set z=-4)
    run_x "${circuit[@]}" --show "Model & input,Graph" --screenshot "$tmp/c.png" --step 3 >"$tmp/out" 2>"$tmp/err" \
      || { cat "$tmp/err"; fail "exit"; }
    grep -q "at step 3 of 4: backward · op 1: f$" "$tmp/out" || fail "unexpected stdout: $(cat "$tmp/out")"
    png_ok "$tmp/c.png" none
    W=1280 H=720 run_x "${circuit[@]}" --presenter --window 1280x720 --font-scale 1.6 --screenshot "$tmp/p.png" --step 3 \
      >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "presenter: exit"; }
    grep -q "at step 3 of 4: backward" "$tmp/out" || fail "unexpected stdout: $(cat "$tmp/out")"
    run_x --program custom --model "q = x + y; f = foo(q) * z" --set x=-2 --set y=5 --set z=-4 --screenshot "$tmp/b.png" \
      --step 1 >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "a wrong model: exit $rc, expected 2"
    one_line "$tmp/err"
    grep -q "model:1:16: .*foo" "$tmp/err" || fail "does not say where: $(cat "$tmp/err")"
    [ ! -e "$tmp/b.png" ] || fail "wrote a screenshot for a wrong model"
    ;;
  robustness)
    # Flags that crashed or ran away: NaN text size, windows X cannot make, empty values.
    for args in "--font-scale nan" "--window 32768x32768" "--window 99999x99999" "--window 20000x20000" \
                "--window 8192x8192" "--mouse=" "--show=" "--show ," "--lesson=" "--lesson-step 1 --lesson="; do
      # shellcheck disable=SC2086
      timeout 60 xvfb-run -a -s "-screen 0 ${W}x${H}x24" "$bin" $args --screenshot "$tmp/x.png" --step 0 \
        >"$tmp/out" 2>"$tmp/err"
      rc=$?
      [ $rc -eq 2 ] || fail "'$args': exit $rc, expected 2"
      one_line "$tmp/err"
      [ ! -e "$tmp/x.png" ] || fail "'$args' wrote a screenshot"
    done
    # Training that stops at an infinite loss fails a scripted run.
    run_x --program line --train 2 --lr 1e308 --screenshot "$tmp/x.png" --step 0 >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "--lr 1e308: exit $rc, expected 2"
    one_line "$tmp/err"
    grep -q "training stopped at step 1/2" "$tmp/err" || fail "--lr 1e308: $(cat "$tmp/err")"
    # Lessons the checker refuses are the lessons the app refuses, with the same line.
    python3 -c "import sys; sys.stdout.write('title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"' + 'x' * 20300 + '\"\n')" \
      >"$tmp/long.toml"
    printf 'title = "t"\nprogram = "line"\n[[step]]\ntext = "a"\n[[step]]\ntext = "b"\nupdate = { lr = 0.5, steps = 1000 }\n' \
      >"$tmp/diverge.toml"
    python3 -c "import sys; sys.stdout.write('title = \"t\"\nprogram = \"line\"\n' + 'a' + '.a' * 30700 + ' = 1\n')" >"$tmp/deep.toml"
    for f in long diverge deep; do
      timeout 60 xvfb-run -a -s "-screen 0 ${W}x${H}x24" "$bin" --lesson "$tmp/$f.toml" --walk-lessons \
        >"$tmp/out" 2>"$tmp/err"
      rc=$?
      [ $rc -eq 2 ] || fail "$f.toml: exit $rc, expected 2"
      one_line "$tmp/err"
      grep -q "$f.toml:" "$tmp/err" || fail "$f.toml: no file:line:col: $(cat "$tmp/err")"
      if [ $f = diverge ]; then
        grep -q "diverge.toml:7:10: step 2: training stops at optimiser step" "$tmp/err" || fail "diverging: $(cat "$tmp/err")"
      fi
    done
    # The layout file (imgui.ini in $XDG_CONFIG_HOME/gradscope): a FIFO of that name neither blocks
    # the app nor stops SIGTERM; a regular one is written when the app ends.
    mkdir -p "$tmp/cwd/gradscope" "$tmp/cwd2/gradscope"
    mkfifo "$tmp/cwd/gradscope/imgui.ini"
    app=$(readlink -f "$bin")
    for d in cwd cwd2; do
      (cd "$tmp/$d" && XDG_CONFIG_HOME="$tmp/$d" timeout -k 5 60 xvfb-run -a -s "-screen 0 ${W}x${H}x24" \
        sh -c '"$1" --program line & pid=$!; sleep 4; kill -TERM $pid; wait $pid; echo "rc=$?"' sh "$app") \
        >"$tmp/$d.out" 2>"$tmp/$d.err"
      grep -q "^rc=0$" "$tmp/$d.out" || fail "$d: the app did not end on SIGTERM: $(cat "$tmp/$d.out" "$tmp/$d.err")"
    done
    grep -q "imgui.ini: is a FIFO" "$tmp/cwd.err" || fail "the FIFO imgui.ini is not named: $(cat "$tmp/cwd.err")"
    [ -p "$tmp/cwd/gradscope/imgui.ini" ] || fail "the FIFO imgui.ini was replaced"
    grep -q "^\[Window\]" "$tmp/cwd2/gradscope/imgui.ini" || fail "no layout saved in imgui.ini"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "PASS ($case_)"
