#!/usr/bin/env bash
# The command-line contract of DESIGN.md, end to end: every subcommand's JSON, checkpoints
# round-tripping, and bad input giving one clear line and a non-zero exit with no output file.
# Usage: cli_contract.sh path/to/gradscope-cli
set -u
cli=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect_ok NAME PYTHON-ASSERTION -- ARGS: exit 0 and the JSON on stdout satisfies the assertion (j is the object).
expect_json() {
  local name=$1 assertion=$2
  shift 3
  local out
  if ! out=$("$cli" "$@" 2>"$tmp/err"); then
    bad "$name: exit $? ($(head -c 300 "$tmp/err"))"
    return
  fi
  if printf '%s' "$out" | python3 -c "import json,sys; j=json.load(sys.stdin); assert ($assertion), 'assertion'" 2>"$tmp/perr"; then
    ok
  else
    bad "$name: $(tail -n 1 "$tmp/perr")"
  fi
}

# expect_error NAME PHRASE -- ARGS: non-zero exit, exactly one line on stderr containing PHRASE.
expect_error() {
  local name=$1 phrase=$2
  shift 3
  "$cli" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [ "$rc" -eq 0 ]; then
    bad "$name: exit 0, expected an error"
  elif [ "$rc" -gt 2 ]; then
    bad "$name: exit $rc (a crash?) $(head -c 300 "$tmp/err")"
  elif [ "$lines" -ne 1 ]; then
    bad "$name: $lines lines on stderr: $(head -c 300 "$tmp/err")"
  elif ! grep -qF -- "$phrase" "$tmp/err"; then
    bad "$name: stderr lacks '$phrase': $(cat "$tmp/err")"
  else
    ok
  fi
}

# [SECTION] the subcommands' JSON
expect_json info "j['n_params'] > 0 and j['n_trainable'] == j['n_params'] and len(j['tokens']) == 1 and len(j['tokens'][0]) == 8 and j['config']['n_layer'] == 2" \
  -- info --preset tiny --json
expect_json info-text "len(j['tokens'][0]) == 9 and j['text'] == 'the model' and j['targets'][0][:-1] == j['tokens'][0][1:]" \
  -- info --text "the model " --json
expect_json info-lora "j['n_trainable'] == 2 * (16*4 + 4*48) and j['config']['lora_rank'] == 4" \
  -- info --lora-rank 4 --json
expect_json ops "len(j['ops']) == 2 + 2*18 + 4 and j['ops'][-1]['type'] == 'nll' and all(o['fwd_flops'] >= 0 for o in j['ops']) and {'index','name','type','layer','inputs','output_shape','fwd_flops','bwd_flops'} <= set(j['ops'][0])" \
  -- ops --json
expect_json check "j['pass'] and len(j['ops']) > 30 and all(o['pass'] and o['checked'] > 0 for o in j['ops'])" \
  -- check --preset tiny --dtype f64 --json
expect_json check-lora "j['pass'] and any('lora' in o['name'] for o in j['ops'])" \
  -- check --lora-rank 2 --lora-targets attn.c_attn,mlp.c_proj --json
expect_json check-default-entries "j['mode'] == 'entries' and all(o['kind'] == 'entries' for o in j['ops']) and j['first_failure'] is None" \
  -- check --json
expect_json check-local "j['pass'] and j['mode'] == 'local' and len(j['ops']) > 30 and all(o['kind'] == 'local' and 0 < o['noise_floor'] < 1e-3 and o['err_over_floor'] <= 1 for o in j['ops']) and all(p['pass'] and p['checked'] > 0 for p in j['params'])" \
  -- check --mode local --json
expect_json check-direction-f32 "j['pass'] and j['mode'] == 'direction' and j['dtype'] == 'f32' and all(o['kind'] == 'direction' for o in j['ops'])" \
  -- check --mode direction --dtype f32 --no-params --json
expect_json check-ops "[o['name'] for o in j['ops']] == ['h.0.attn.softmax', 'lm_head'] and [p['name'] for p in j['params']] == ['wte.weight']" \
  -- check --mode local --ops lm_head,h.0.attn.softmax --json
expect_json flops "j['seed_counted_bwd'] == j['closed_form_bwd'] and j['total_bwd'] > j['seed_counted_bwd'] and j['total_fwd'] > 0" \
  -- flops --json
expect_json flops-gpt2 "j['seed_counted_bwd'] == j['closed_form_bwd']" \
  -- flops --preset gpt2 --seq 8 --json
expect_json flops-lora "j['lora'] and j['bwd_saved_vs_full'] > 0" \
  -- flops --lora-rank 2 --json
expect_json train "len(j['losses']) == 20 and j['losses'][-1] < j['losses'][0]" \
  -- train --steps 20 --lr 0.01 --json
expect_json train-sgd "len(j['losses']) == 10 and j['losses'][-1] < j['losses'][0]" \
  -- train --steps 10 --optimizer sgd --lr 0.5 --json
expect_json bench "j['ms_per_step'] > 0 and j['gflops'] > 0 and j['threads'] >= 1" \
  -- bench --steps 3 --threads 1 --json

# [SECTION] GPT-2's BPE tokenizer, when its vocabulary has been fetched
if [ -n "${GRADSCOPE_GPT2_VOCAB:-}" ] && [ -s "$GRADSCOPE_GPT2_VOCAB/encoder.json" ]; then
  expect_json gpt2-tokens "j['tokens'] == [[15496, 995, 11]] and j['tokenizer'] == 'gpt2' and j['token_text'][1] == ' world'" \
    -- info --preset gpt2 --layers 1 --tokenizer gpt2 --text "Hello world, " --json
  expect_error gpt2-vocab-dir "no such directory" -- info --preset gpt2 --tokenizer gpt2 --vocab-dir "$tmp/none" --text hi
fi
expect_error bad-tokenizer "unknown tokenizer" -- info --tokenizer words

# [SECTION] a checkpoint saved by train loads back
expect_json train-save "len(j['losses']) == 3" -- train --steps 3 --save "$tmp/ck.safetensors" --json
expect_json load "j['n_params'] > 0 and j['config']['n_layer'] == 2" -- info --checkpoint "$tmp/ck.safetensors" --json
expect_json load-check "j['pass']" -- check --checkpoint "$tmp/ck.safetensors" --dtype f64 --max-entries 4 --no-params --json
expect_json dump "j['out'].endswith('d.safetensors')" -- dump --out "$tmp/d.safetensors" --json
if python3 - "$tmp/d.safetensors" <<'EOF'; then ok; else bad "dump layout"; fi
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
cfg = json.loads(h['__metadata__']['config'])
for k in ['n_layer', 'n_head', 'n_embd', 'vocab_size', 'n_ctx', 'seq_len', 'batch', 'dtype', 'lora_rank', 'lora_alpha', 'lora_targets']:
    assert k in cfg, k
assert h['tokens']['dtype'] in ('I32', 'I64') and h['tokens']['shape'] == [1, 8]
assert h['loss']['shape'] == [] and h['loss']['dtype'] == 'F64'
assert 'grad.wte.weight' in h and 'grad.h.1.mlp.c_proj.bias' in h and 'wpe.weight' in h
EOF

# A checkpoint whose finite weights overflow the forward pass: the loss is reported, not used.
python3 - "$tmp/ck.safetensors" "$tmp/huge.safetensors" <<'EOF'
import json, struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
lo, hi = h['wte.weight']['data_offsets']
assert h['wte.weight']['dtype'] == 'F64'
k = (hi - lo) // 8
# ±1e308: the residual stream and the logits overflow to ±inf, and inf − inf is NaN.
b[8 + n + lo:8 + n + hi] = struct.pack('<%dd' % k, *[1e308 * (1 if (i * 7) % 3 else -1) for i in range(k)])
open(sys.argv[2], 'wb').write(b)
EOF
expect_error overflow-loss "the loss is" -- dump --checkpoint "$tmp/huge.safetensors" --out "$tmp/huge_dump.safetensors"
if [ -e "$tmp/huge_dump.safetensors" ]; then bad "a dump was written for a non-finite loss"; else ok; fi

# [SECTION] bad input: one line, non-zero exit, no crash, no file
expect_error unknown-flag "--bogus" -- info --bogus
expect_error no-command "" --
expect_error bad-preset "huge" -- info --preset huge
expect_error heads "divisible" -- info --embd 16 --heads 3
expect_error zero-layers "n_layer" -- info --layers 0
expect_error negative-batch "batch" -- info --batch -2
expect_error seq-too-long "exceeds n_ctx" -- info --seq 100
expect_error token-range "token id 99" -- info --tokens 1,2,99,3
expect_error token-parse "not an integer" -- info --tokens 1,2,abc
expect_error text-char "'Q'" -- info --text "Quick"
expect_error bad-dtype "f16" -- info --dtype f16
expect_error bad-lora-target "mlp.nope" -- info --lora-rank 2 --lora-targets mlp.nope
expect_error bad-optimizer "optimizer" -- train --steps 2 --optimizer adam
expect_error bad-eps "eps" -- check --eps -1
expect_error no-steps "steps" -- train
expect_error missing-ckpt "no-such-file" -- info --checkpoint "$tmp/no-such-file.safetensors"
printf 'garbage' >"$tmp/short.safetensors"
expect_error short-ckpt "short.safetensors" -- info --checkpoint "$tmp/short.safetensors"
expect_error ckpt-disagrees "disagrees" -- info --checkpoint "$tmp/ck.safetensors" --layers 3
expect_error unwritable "/nonexistent-dir/x.safetensors" -- dump --out /nonexistent-dir/x.safetensors
expect_error unwritable-save "/nonexistent-dir/c.safetensors" -- train --steps 1 --save /nonexistent-dir/c.safetensors
expect_error too-big "GiB" -- info --preset gpt2 --batch 64 --seq 1024
expect_error huge-vocab "too large" -- info --vocab 2000000000
expect_error threads "--threads" -- info --threads 100000
expect_error empty-text "at least 2" -- info --text ""
expect_error bad-mistake "no op named" -- check --mistake nope=flipped_sign
expect_error bad-mode "--mode" -- check --mode foo
expect_error bad-ops "--ops: no op named 'nosuch'" -- check --ops h.0.ln_1,nosuch
expect_error empty-ops "--ops" -- check --ops lm_head,
if [ -e /nonexistent-dir ]; then bad "an output directory appeared"; else ok; fi
# A planted mistake makes check fail with exit 1.
"$cli" check --mistake h.0.attn.softmax=dropped_term --no-params >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok; else bad "check with a planted mistake exited $rc, expected 1"; fi
# In f32, op-local, it is found where it was planted and nowhere else.
"$cli" check --dtype f32 --mode local --mistake h.1.attn.scale=forgotten_scale --json >"$tmp/mk.json" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['first_failure'] == 'h.1.attn.scale' and [o['name'] for o in j['ops'] if not o['pass']] == ['h.1.attn.scale']" "$tmp/mk.json"; then
  ok
else
  bad "f32 op-local check of a planted forgotten 1/√d: exit $rc, $(head -c 300 "$tmp/mk.json" "$tmp/err")"
fi

echo "cli contract: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
