#!/usr/bin/env bash
# Cross-check gradscope's engine against the independent PyTorch reference.
#
# Usage: tests/reference/run_crosscheck.sh CLI_PATH
#
# For each config: `CLI dump ... --activations --out TMP`, then gpt2_reference.py on the file.
# Needs Debian's /usr/bin/python3 with python3-torch (override with PYTHON=...).
# CROSSCHECK_QUICK=1 skips the one large case (the GPT-2 124M shape cut to one layer, ~400 MB).
# Besides the dump cross-checks it checks that one SGD step of `train` moves the parameters by
# exactly -lr * (the dumped gradient), and leaves every frozen base parameter unchanged in LoRA.
# Prints `crosscheck: N passed, M failed` (configs) and exits non-zero on any failure.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 CLI_PATH" >&2
    exit 2
fi
CLI=$1
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
REF="$HERE/gpt2_reference.py"
PY=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ next to the scripts
CKPT="$ROOT/assets/tiny.safetensors"

if [ ! -x "$CLI" ]; then
    echo "crosscheck: $CLI is not an executable" >&2
    exit 2
fi
if ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
    echo "crosscheck: $PY cannot import torch and numpy (apt install python3-torch)" >&2
    exit 2
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

pass=0
fail=0
failed_names=()
n=0

# run_case NAME [dump args...]: dump with --activations, then run the reference
# (REF_OPTS, if set, adds options to the reference run)
REF_OPTS=""
run_case() {
    local name=$1
    shift
    n=$((n + 1))
    local out="$TMP/case$n.safetensors"
    echo "=== [$n] $name"
    echo "    $CLI dump $* --activations --out <tmp>"
    if ! "$CLI" dump "$@" --activations --out "$out" >"$TMP/dump.log" 2>&1; then
        echo "    dump FAILED:"
        sed 's/^/    | /' "$TMP/dump.log"
        fail=$((fail + 1))
        failed_names+=("$name")
        return
    fi
    # shellcheck disable=SC2086
    "$PY" "$REF" "$out" --quiet $REF_OPTS >"$TMP/ref.log" 2>&1
    local rc=$?
    sed 's/^/    /' "$TMP/ref.log"
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1))
    else
        echo "    -> reference exit $rc"
        fail=$((fail + 1))
        failed_names+=("$name")
    fi
    rm -f "$out"
}

LORA_ALL=attn.c_attn,attn.c_proj,mlp.c_fc,mlp.c_proj
TEXT="the loss goes down when the guess is right."

run_case "tiny f64 (default)"
run_case "tiny f32" --dtype f32
run_case "non-square L3 H4 C24 V37 ctx16 T11 B3 f64" \
    --layers 3 --heads 4 --embd 24 --vocab 37 --ctx 16 --seq 11 --batch 3 --dtype f64
run_case "non-square L3 H4 C24 V37 ctx16 T11 B3 f32" \
    --layers 3 --heads 4 --embd 24 --vocab 37 --ctx 16 --seq 11 --batch 3 --dtype f32
run_case "T = n_ctx (ctx 9, seq 9) f64" --ctx 9 --seq 9
run_case "single head, T=1 edge: H1 C8 T1 B2 f64" --heads 1 --embd 8 --seq 1 --batch 2
run_case "batch 2 with --text f64" --batch 2 --text "$TEXT"
run_case "explicit --tokens with repeats f64" --tokens 3,3,3,7,0,29,3,7,7
run_case "LoRA r3 a6 all targets f64" \
    --lora-rank 3 --lora-alpha 6 --lora-targets "$LORA_ALL" --dtype f64
run_case "LoRA r3 a6 all targets f32" \
    --lora-rank 3 --lora-alpha 6 --lora-targets "$LORA_ALL" --dtype f32
run_case "LoRA r3 a6 all targets, non-square B3 f64" \
    --lora-rank 3 --lora-alpha 6 --lora-targets "$LORA_ALL" \
    --layers 3 --heads 4 --embd 24 --vocab 37 --ctx 16 --seq 11 --batch 3 --dtype f64
run_case "LoRA r1 single target mlp.c_proj, B2 f64" \
    --lora-rank 1 --lora-targets mlp.c_proj --batch 2 --dtype f64
run_case "preset small (L4 H4 C128 T64) f32" --preset small --dtype f32
run_case "preset small (L4 H4 C128 T64) B2 f64" --preset small --dtype f64 --batch 2
if [ "${CROSSCHECK_QUICK:-0}" != 1 ]; then
    run_case "preset gpt2 shape cut to 1 layer (H12 C768 V50257) T8 f32" \
        --preset gpt2 --layers 1 --seq 8 --dtype f32
fi
run_case "LoRA r2 on trained checkpoint assets/tiny.safetensors f64" \
    --checkpoint "$CKPT" --lora-rank 2
run_case "trained checkpoint, full fine-tuning f64" --checkpoint "$CKPT"

# LoRA with B != 0: train 3 LoRA steps (B starts at 0), save, dump from the saved checkpoint
train_lora_case() {
    local name=$1 ckpt=$2
    shift 2
    echo "=== (setup) $CLI train $* --save <tmp>"
    if ! "$CLI" train "$@" --save "$ckpt" >"$TMP/train.log" 2>&1; then
        n=$((n + 1))
        echo "=== [$n] $name"
        echo "    train FAILED:"
        sed 's/^/    | /' "$TMP/train.log"
        fail=$((fail + 1))
        failed_names+=("$name")
        return 1
    fi
    sed 's/^/    | /' "$TMP/train.log"
    return 0
}
if train_lora_case "LoRA r2 after 3 steps (B != 0) f64" "$TMP/l.safetensors" \
        --lora-rank 2 --steps 3 --lr 0.05; then
    REF_OPTS=--expect-lora-b-nonzero
    run_case "LoRA r2 after 3 steps (B != 0) f64" --checkpoint "$TMP/l.safetensors"
    run_case "LoRA r2 after 3 steps (B != 0) f32" --checkpoint "$TMP/l.safetensors" --dtype f32
    REF_OPTS=""
fi
if train_lora_case "LoRA r3 all targets after 3 steps (B != 0) f64" "$TMP/l4.safetensors" \
        --lora-rank 3 --lora-alpha 6 --lora-targets "$LORA_ALL" --steps 3 --lr 0.05; then
    REF_OPTS=--expect-lora-b-nonzero
    run_case "LoRA r3 a6 all targets after 3 steps (B != 0) f64" --checkpoint "$TMP/l4.safetensors"
    REF_OPTS=""
fi

# One SGD step: p1 = p0 - lr * grad(p0) for every trainable parameter (grad from `dump`),
# every frozen parameter bit-identical (LoRA: no base-weight gradient is applied).
sgd_case() {
    local name=$1 ckpt=$2
    shift 2
    n=$((n + 1))
    echo "=== [$n] $name"
    echo "    $CLI dump $* --out <tmp>;  $CLI train $* --steps 1 --optimizer sgd --lr 0.1 --save <tmp>"
    if ! "$CLI" dump "$@" --out "$TMP/s0.safetensors" >"$TMP/dump.log" 2>&1 ||
        ! "$CLI" train "$@" --steps 1 --optimizer sgd --lr 0.1 --save "$TMP/s1.safetensors" \
            >"$TMP/train.log" 2>&1; then
        echo "    dump/train FAILED:"
        sed 's/^/    | /' "$TMP/dump.log" "$TMP/train.log" 2>/dev/null
        fail=$((fail + 1))
        failed_names+=("$name")
        return
    fi
    if "$PY" - "$TMP/s0.safetensors" "$TMP/s1.safetensors" 0.1 "$HERE" <<'PYEOF' >"$TMP/sgd.log" 2>&1; then
import sys
import numpy as np
sys.path.insert(0, sys.argv[4])
from gpt2_reference import read_safetensors
d0, _, cfg = read_safetensors(sys.argv[1])
c1, _, _ = read_safetensors(sys.argv[2])
lr = float(sys.argv[3])
params = [k for k in d0 if k not in ("tokens", "targets", "loss") and not k.startswith(("grad.", "act.", "resid."))]
bad, worst, moved, frozen = [], 0.0, 0, 0
for k in params:
    if k not in c1:
        bad.append(f"{k} missing from the saved checkpoint")
        continue
    p0, p1 = d0[k].astype(np.float64), c1[k].astype(np.float64)
    if "grad." + k in d0:
        moved += 1
        err = np.abs(p1 - (p0 - lr * d0["grad." + k])).max() / max(1.0, np.abs(p0).max())
        worst = max(worst, err)
        if not err <= 1e-12:
            bad.append(f"{k}: |p1 - (p0 - lr*g)| = {err:.3e}")
    else:
        frozen += 1
        if not np.array_equal(p0, p1):
            bad.append(f"{k}: frozen but changed by {np.abs(p1 - p0).max():.3e}")
print(f"sgd step: {moved} trainable moved by -lr*grad (worst {worst:.3e}), {frozen} frozen unchanged")
for b in bad:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PYEOF
        sed 's/^/    /' "$TMP/sgd.log"
        pass=$((pass + 1))
    else
        sed 's/^/    /' "$TMP/sgd.log"
        fail=$((fail + 1))
        failed_names+=("$name")
    fi
}
sgd_case "one SGD step, full fine-tuning f64" "$TMP/s.safetensors"
sgd_case "one SGD step, LoRA r2 a4 attn.c_attn,mlp.c_fc f64" "$TMP/s.safetensors" \
    --lora-rank 2 --lora-alpha 4 --lora-targets attn.c_attn,mlp.c_fc

echo
if [ $fail -ne 0 ]; then
    echo "failed configs:"
    for f in "${failed_names[@]}"; do echo "  - $f"; done
fi
echo "crosscheck: $pass passed, $fail failed"
[ $fail -eq 0 ]
