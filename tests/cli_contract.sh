#!/usr/bin/env bash
# The command-line contract (docs/cli.md), end to end: every subcommand's JSON on GPT-2 and the
# lesson programs, checkpoints
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

# expect_error NAME PHRASE -- ARGS: non-zero exit, exactly one line on stderr containing PHRASE
# (within a minute: a command that hangs, say on a FIFO, fails with exit 124).
expect_error() {
  local name=$1 phrase=$2
  shift 3
  timeout 60 "$cli" "$@" >"$tmp/out" 2>"$tmp/err"
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

# [SECTION] the lesson programs: every subcommand on each, and line's numbers by hand
for p in line two_layers activation branch matrix softmax_ce layernorm attention lora_linear; do
  expect_json "check-$p" "j['pass'] and j['dtype'] == 'f64' and all(o['pass'] for o in j['ops'])" -- check --program "$p" --max-entries 0 --json
  expect_json "dump-$p" "j['out'].endswith('$p.safetensors')" -- dump --program "$p" --activations --out "$tmp/$p.safetensors" --json
done
expect_json info-line "j['program'] == 'line' and j['loss'] == 4 and [p['name'] for p in j['params']] == ['a', 'b'] and [i['name'] for i in j['inputs']] == ['x', 't']" \
  -- info --program line --json
expect_json ops-line "[o['name'] for o in j['ops']] == ['y1', 'y2', 'y3', 'L'] and [o['type'] for o in j['ops']] == ['mul_param', 'add_param', 'subtract', 'mean_square']" \
  -- ops --program line --json
expect_json flops-line "j['closed_form_bwd'] is None and j['program'] == 'line' and j['total_bwd'] > 0" -- flops --program line --json
expect_json train-line "len(j['losses']) == 5 and j['losses'][-1] < j['losses'][0]" -- train --program line --steps 5 --optimizer sgd --lr 0.05 --json
expect_json train-matrix-adamw "j['losses'][-1] < j['losses'][0]" -- train --program matrix --steps 5 --lr 0.05 --json
expect_json flops-lora-linear "j['lora'] and j['bwd_saved_vs_full'] > 0" -- flops --program lora_linear --json
if python3 - "$tmp" <<'EOF'; then ok; else bad "lesson dumps"; fi
import json, struct, sys
def read(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    meta = h.pop('__metadata__')
    def val(k):
        s, e = h[k]['data_offsets']
        fmt = {'F64': 'd', 'F32': 'f', 'I32': 'i'}[h[k]['dtype']]
        raw = b[8 + n + s:8 + n + e]
        return list(struct.unpack('<%d%s' % (len(raw) // struct.calcsize(fmt), fmt), raw))
    return h, json.loads(meta['config']), val
h, cfg, v = read(sys.argv[1] + '/line.safetensors')
assert cfg['program'] == 'line' and cfg['P'] == 1
assert v('loss') == [4.0] and v('grad.a') == [-8.0] and v('grad.b') == [-4.0], (v('loss'), v('grad.a'))
assert set(k for k in h if k.startswith('grad.')) == {'grad.a', 'grad.b'}
assert {'a', 'b', 'x', 't', 'act.y1', 'resid.y1', 'act.L'} <= set(h)
h, cfg, v = read(sys.argv[1] + '/lora_linear.safetensors')
assert set(k for k in h if k.startswith('grad.')) == {'grad.A', 'grad.B'} and cfg['lora_rank'] == 1
assert all(g == 0 for g in v('grad.A'))  # B = 0: dA = 0
h, cfg, v = read(sys.argv[1] + '/softmax_ce.safetensors')
assert h['y']['dtype'] == 'I32' and set(k for k in h if k.startswith('grad.')) == {'grad.W', 'grad.b'}
EOF
expect_json set-line "abs(j['loss'] - ((0.5*1 - 2)**2 + (0.5*2 - 2)**2 + (0.5*3 - 2)**2) / 3) < 1e-15" -- info --program line --set x=1,2,3 --set t=2 --json
# A model of one's own (docs/custom.md): bad text gives one line with model:LINE:COL and exit 2,
# every subcommand takes it, and its flags belong to it alone.
circuit=(--program custom --model "q = x + y; f = q * z" --set x=-2 --set y=5 --set z=-4)
expect_json custom-info "j['loss'] == -12 and [o['name'] for o in j['ops']] == ['q', 'f'] and j['config']['program'] == 'custom'" \
  -- info "${circuit[@]}" --json
expect_json custom-ops "[o['type'] for o in j['ops']] == ['add', 'mul']" -- ops "${circuit[@]}" --json
expect_json custom-check "j['pass']" -- check "${circuit[@]}" --json
expect_json custom-flops "j['total_fwd'] == 2" -- flops "${circuit[@]}" --json
expect_json custom-train "len(j['losses']) == 2" -- train "${circuit[@]}" --steps 2 --json
expect_error custom-unknown-function "model:1:16: \`foo\` is not a function" -- info --program custom --model "q = x + y; f = foo(q)" --set x=1 --set y=2
expect_error custom-open-paren "model:2:5: this \`(\` is never closed" -- check --program custom --model $'q = x * 2\nf = (q + 1' --set x=1
expect_error custom-no-value "model:1:9: the leaf \`z\` has no value" -- dump --program custom --model "f = x * z" --set x=1 --out "$tmp/none.safetensors"
expect_error custom-shapes "a vector [2] and a vector [3]" -- train --program custom --model "f = sum(a + b)" --set a=1,2 --set b=1,2,3 --steps 1
expect_error custom-no-model "program custom needs its model" -- info --program custom
expect_error custom-flag-elsewhere "--model applies to custom, not to line" -- info --program line --model "f = a * 2"
expect_error custom-model-file "no-such-model.txt" -- info --program custom --model-file "$tmp/no-such-model.txt"
[ ! -e "$tmp/none.safetensors" ] && ok || bad "custom-no-value: a dump was written"
expect_error bad-program "nosuch" -- info --program nosuch
expect_error bad-set-name "no parameter, input or size 'q'" -- info --program line --set q=1
expect_error bad-set-length "2 values" -- info --program line --set a=1,2
expect_error bad-set-number "'x1'" -- info --program line --set a=x1
expect_error bad-set-form "NAME=V" -- info --program line --set a
expect_error set-on-gpt2 "--set is for the lesson programs" -- info --set a=1
expect_error gpt2-flag-on-lesson "--layers is a GPT-2 flag" -- info --program matrix --layers 2
expect_error text-on-lesson "--text is a GPT-2 flag" -- info --program line --text hello
expect_error class-id "class id" -- info --program softmax_ce --set y=7

# [SECTION] lessons: the path in order, one file checked, --lesson on a subcommand
expect_json lessons "[l['id'] for l in j['lessons']][:2] == ['01-one-weight', '02-the-table'] and [l['id'] for l in j['lessons']].index('03-two-layers') > 1 and j['lessons'][0]['program'] == 'line' and all(l['steps'] > 0 for l in j['lessons']) and j['lessons'][-1]['program'] == 'gpt2'" \
  -- lessons --json
expect_json lessons-check "j['ok'] and j['id'] == '05-matrices' and j['steps'] > 3" -- lessons --check "$GRADSCOPE_ASSETS/lessons/05-matrices.toml" --json
expect_json info-lesson "j['program'] == 'line' and j['loss'] == 4" -- info --lesson 01-one-weight --json
expect_json check-lesson "j['pass']" -- check --lesson 09-attention --max-entries 0 --json
printf 'title = "t"\nprogram = "line"\n[[step]]\ntext = "x"\nat = "forward y7"\n' >"$tmp/bad-lesson.toml"
expect_error lesson-bad-op "bad-lesson.toml:5:6: no op 'y7'" -- lessons --check "$tmp/bad-lesson.toml"
printf 'title = "t"\nprogram = "line"\n[[step]\n' >"$tmp/bad-toml.toml"
expect_error lesson-bad-toml "bad-toml.toml:3:" -- lessons --check "$tmp/bad-toml.toml"
expect_error lesson-unknown "no lesson '99-none'" -- info --lesson 99-none
expect_error lesson-with-gpt2-flag "--layers cannot be given with --lesson" -- info --lesson 01-one-weight --layers 2
printf 'title = "t"\nprogram = "line"\nmood = "calm"\n[[step]]\ntext = "x"\n' >"$tmp/warn.toml"
if "$cli" lessons --check "$tmp/warn.toml" >/dev/null 2>"$tmp/err" && grep -q "warn.toml:3:1: unknown key 'mood'" "$tmp/err"; then ok; else bad "unknown key: $(cat "$tmp/err")"; fi

# [SECTION] GPT-2's BPE tokenizer, when its vocabulary has been fetched
if [ -n "${GRADSCOPE_GPT2_VOCAB:-}" ] && [ -s "$GRADSCOPE_GPT2_VOCAB/encoder.json" ]; then
  expect_json gpt2-tokens "j['tokens'] == [[15496, 995, 11]] and j['tokenizer'] == 'gpt2' and j['token_text'][1] == ' world'" \
    -- info --preset gpt2 --layers 1 --tokenizer gpt2 --text "Hello world, " --json
  expect_error gpt2-vocab-dir "no such directory" -- info --preset gpt2 --tokenizer gpt2 --vocab-dir "$tmp/none" --text hi
fi
expect_error bad-tokenizer "unknown tokenizer" -- info --tokenizer words

# [SECTION] a checkpoint saved by train loads back
expect_json train-save "len(j['losses']) == 3" -- train --steps 3 --save "$tmp/ck.safetensors" --json
expect_json train-save-f32 "len(j['losses']) == 1" -- train --steps 1 --dtype f32 --save "$tmp/ck32.safetensors" --json
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

# [SECTION] robustness (issue 13): one case or more per class

# 1. Paths that are not regular files: refused by kind, at once (a FIFO never blocks).
# /dev/null, /dev/full and /dev/zero on an ordinary machine; a sandbox can have regular files
# there, so the device nodes that are still device nodes are the ones read and written over.
devs=""
for d in /dev/null /dev/full /dev/zero /dev/urandom; do [ -c "$d" ] && devs="$devs $d"; done
[ -n "$devs" ] || bad "no character device node on this machine to read or write over"
dev=${devs# }; dev=${dev%% *}
mkfifo "$tmp/fifo.safetensors" "$tmp/corpus.fifo"
mkdir "$tmp/adir"
ln -s "$dev" "$tmp/device-link.safetensors"
expect_error in-fifo "is a FIFO (named pipe), not a regular file" -- info --checkpoint "$tmp/fifo.safetensors"
expect_error in-device "$dev: is a character device" -- info --checkpoint "$dev"
expect_error in-symlink-to-device "is a character device" -- info --checkpoint "$tmp/device-link.safetensors"
expect_error in-directory "is a directory, not a regular file" -- info --checkpoint "$tmp/adir"
expect_error in-trailing-slash "Not a directory" -- info --checkpoint "$tmp/ck.safetensors/"
expect_error in-llmc-fifo "is a FIFO" -- info --checkpoint "$tmp/corpus.fifo"
expect_error corpus-fifo "is a FIFO" -- train --steps 1 --corpus "$tmp/corpus.fifo"
mkdir -p "$tmp/vocab/encoder.json" && touch "$tmp/vocab/vocab.bpe"
expect_error vocab-file-is-dir "encoder.json: is a directory" -- info --tokenizer gpt2 --vocab-dir "$tmp/vocab" --text hi
ln -s loop-b "$tmp/loop-a" && ln -s loop-a "$tmp/loop-b"
expect_error in-symlink-loop "Too many levels of symbolic links" -- info --checkpoint "$tmp/loop-a"
for d in $devs; do
  expect_error "out-$(basename "$d")" "$d: is a character device, not a regular file" -- dump --out "$d"
  if [ -c "$d" ]; then ok; else bad "the device node $d was replaced"; fi
done
expect_error out-directory "is a directory, not a regular file" -- dump --out "$tmp/adir"
expect_error out-trailing-slash "ends in '/'" -- dump --out "$tmp/newdir/"
expect_error out-fifo "is a FIFO" -- train --steps 1 --save "$tmp/fifo.safetensors"
touch "$tmp/plainfile"
expect_error out-parent-is-file "is not a directory" -- train --steps 1 --save "$tmp/plainfile/c.safetensors"
ln -s "$tmp/nowhere/x" "$tmp/dangling.safetensors"
expect_error out-dangling-symlink "cannot be followed" -- dump --out "$tmp/dangling.safetensors"
long=$(printf 'n%.0s' $(seq 1 243))
expect_json out-255-byte-name "j['loss'] > 0" -- dump --out "$tmp/$long.safetensors" --json
expect_error out-256-byte-name "the file name is 256 bytes, more than the 255" -- dump --out "$tmp/${long}x.safetensors"
cp "$tmp/d.safetensors" "$tmp/private.safetensors" && chmod 600 "$tmp/private.safetensors"
expect_json out-keeps-mode "j['loss'] > 0" -- dump --seed 7 --out "$tmp/private.safetensors" --json
[ "$(stat -c %a "$tmp/private.safetensors")" = 600 ] && ok || bad "a 0600 file was rewritten $(stat -c %a "$tmp/private.safetensors")"
ln -s private.safetensors "$tmp/via-link.safetensors"
expect_json out-through-symlink "j['loss'] > 0" -- dump --seed 8 --out "$tmp/via-link.safetensors" --json
[ -L "$tmp/via-link.safetensors" ] && ok || bad "the symlink was replaced by a file"
if compgen -G "$tmp/*.tmp-*" >/dev/null; then bad "a temporary file was left: $(ls "$tmp")"; else ok; fi

# 2. Work that would take the machine, refused up front with how much it needs and how much there is.
expect_error lora-rank-huge "larger than n_embd 16" -- info --lora-rank 10000000
expect_error memory-needed "more than the" -- info --preset gpt2 --batch 64 --seq 1024
python3 - "$tmp" <<'PY'
import json, struct, sys
t = sys.argv[1] + '/'
def save(p, h, data=b''):
    s = json.dumps(h, separators=(',', ':')).encode()
    open(t + p, 'wb').write(struct.pack('<Q', len(s)) + s + data)
# 129 bytes whose metadata claims a 355M model.
save('claims355m.safetensors', {'__metadata__': {'config': json.dumps(
    {'n_layer': 24, 'n_head': 16, 'n_embd': 1024, 'vocab_size': 50257, 'n_ctx': 1024})}})
# A header promising 100 GB of tensors (the file made that size, sparse, below).
s = json.dumps({'w': {'dtype': 'F32', 'shape': [25000000000], 'data_offsets': [0, 100000000000]}}).encode()
open(t + 'sparse.safetensors', 'wb').write(struct.pack('<Q', len(s)) + s)
print(8 + len(s) + 100000000000, file=open(t + 'sparse.size', 'w'))
# GPT-2's byte symbols, all 256, and one id far past the others.
bs = list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
cs, n = bs[:], 0
for b in range(256):
    if b not in bs:
        bs.append(b); cs.append(256 + n); n += 1
enc = {chr(c): b for b, c in zip(bs, cs)}
enc['hello'] = 16777215
import os
os.makedirs(t + 'holes', exist_ok=True)
json.dump(enc, open(t + 'holes/encoder.json', 'w'))
open(t + 'holes/vocab.bpe', 'w').write('#version: 0.2\n')
PY
expect_error claims-355m "missing tensor 'wte.weight'" -- info --checkpoint "$tmp/claims355m.safetensors"
truncate -s "$(cat "$tmp/sparse.size")" "$tmp/sparse.safetensors"
expect_error sparse-100g "needs about 93.1 GiB" -- info --checkpoint "$tmp/sparse.safetensors"
expect_error vocab-holes "would be mostly holes" -- info --tokenizer gpt2 --vocab-dir "$tmp/holes" --text hi
rm -f "$tmp/sparse.safetensors"

# 5. Non-finite numbers never saved: hyper-parameters refused, steps and conversions checked.
expect_error lr-beyond-f32 "beyond the range of f32" -- train --steps 2 --lr 1e300 --dtype f32 --save "$tmp/nf1.safetensors"
expect_error weight-decay-inf "--weight-decay" -- train --steps 2 --weight-decay inf --save "$tmp/nf2.safetensors"
expect_error lr-overflow-f64 "NaN" -- train --steps 3 --lr 1e300 --optimizer sgd --save "$tmp/nf3.safetensors"
expect_error lora-alpha-inf "--lora-alpha must be a positive number" -- info --lora-rank 2 --lora-alpha inf
# One step of lr 1e300 in f64 leaves finite weights whose loss is NaN: that checkpoint is not written either.
expect_error last-step-nan "after the last step, with the weights to be saved; nothing saved" \
  -- train --steps 1 --lr 1e300 --save "$tmp/nf4.safetensors"
if compgen -G "$tmp/nf*" >/dev/null; then bad "a non-finite checkpoint was written"; else ok; fi

# 6. Nothing silently dropped or reinterpreted (LoRA checkpoints, metadata, extra tensors, config.json).
expect_json train-lora-save "len(j['losses']) == 2" -- train --steps 2 --lora-rank 4 --save "$tmp/lora.safetensors" --json
expect_json lora-loads-as-saved "j['config']['lora_rank'] == 4 and j['n_trainable'] == 2 * (16*4 + 4*48)" \
  -- info --checkpoint "$tmp/lora.safetensors" --json
expect_error lora-rank-0-drops "--lora-rank 0 would drop them" -- info --checkpoint "$tmp/lora.safetensors" --lora-rank 0
expect_error lora-other-targets "would drop the adapters on attn.c_attn" \
  -- info --checkpoint "$tmp/lora.safetensors" --lora-rank 4 --lora-targets mlp.c_fc
expect_error lora-other-alpha "--lora-alpha 8 disagrees" -- info --checkpoint "$tmp/lora.safetensors" --lora-alpha 8
python3 - "$tmp" <<'PY'
import json, struct, sys
t = sys.argv[1] + '/'
def load(p):
    b = open(t + p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
    return json.loads(b[8:8 + n]), b[8 + n:]
def save(p, h, d):
    s = json.dumps(h, separators=(',', ':')).encode()
    open(t + p, 'wb').write(struct.pack('<Q', len(s)) + s + d)
def variant(src, dst, **kw):
    h, d = load(src); c = json.loads(h['__metadata__']['config']); c.update(kw)
    h['__metadata__']['config'] = json.dumps(c); save(dst, h, d)
variant('lora.safetensors', 'rank-wraps.safetensors', lora_rank=2**32 + 4)
variant('lora.safetensors', 'bad-target.safetensors', lora_targets=['foo'])
variant('ck.safetensors', 'head-wraps.safetensors', n_head=2**32 + 2)
variant('ck.safetensors', 'head-string.safetensors', n_head='2')
variant('ck.safetensors', 'head-float.safetensors', n_head=4.5)
variant('ck.safetensors', 'head-zero.safetensors', n_head=0)
variant('ck.safetensors', 'one-layer.safetensors', n_layer=1)
h, d = load('ck.safetensors'); h['__metadata__']['vocab'] = 'aab'; save('dup-vocab.safetensors', h, d)
h, d = load('ck.safetensors'); h['extra'] = {'dtype': 'U8', 'shape': [1], 'data_offsets': [len(d), len(d) + 1]}
save('extra.safetensors', h, d + b'\0')
# Hugging Face's layout (no metadata, "transformer." names) beside a config.json, from an f32 save.
import os
os.makedirs(t + 'hf', exist_ok=True)
h, d = load('ck32.safetensors'); h.pop('__metadata__')
save('hf/model.safetensors', {'transformer.' + k: v for k, v in h.items()}, d)
PY
expect_error meta-rank-wraps "'lora_rank' is 4294967300, out of range" -- info --checkpoint "$tmp/rank-wraps.safetensors"
expect_error meta-head-wraps "'n_head' is 4294967298, out of range" -- info --checkpoint "$tmp/head-wraps.safetensors"
expect_error meta-head-string "'n_head' is \"2\", not an integer" -- info --checkpoint "$tmp/head-string.safetensors"
expect_error meta-head-float "'n_head' is 4.5, not an integer" -- info --checkpoint "$tmp/head-float.safetensors"
expect_error meta-layer-short "holds tensor 'h.1.ln_1.weight' of layer 1, but its config says n_layer 1" \
  -- info --checkpoint "$tmp/one-layer.safetensors"
expect_error extra-tensor "holds tensor 'extra'" -- info --checkpoint "$tmp/extra.safetensors"
printf '{"n_head": 2}' >"$tmp/hf/config.json"
expect_json hf-config-json "j['config']['n_head'] == 2" -- info --checkpoint "$tmp/hf/model.safetensors" --json
printf '{"n_head": 2, "n_embd": 768}' >"$tmp/hf/config.json"
expect_error hf-config-contradicts "'n_embd' is 768, but model.safetensors's wte.weight is (30,16)" \
  -- info --checkpoint "$tmp/hf/model.safetensors"
printf '[2]' >"$tmp/hf/config.json"
expect_error hf-config-not-object "config.json: not a JSON object" -- info --checkpoint "$tmp/hf/model.safetensors"
"$cli" dump --program line --out "$tmp/line.safetensors" >/dev/null 2>&1 || bad "dump --program line failed"
expect_error lesson-dump-as-checkpoint "is a dump of the lesson program 'line', not a GPT-2 checkpoint" \
  -- info --checkpoint "$tmp/line.safetensors"

# 7. Messages name the right thing: the file and key, not a flag; true numbers; JSON that is JSON.
expect_error file-not-flag "head-zero.safetensors: config metadata 'n_head'" -- info --checkpoint "$tmp/head-zero.safetensors"
if grep -q -- "--heads" "$tmp/err"; then bad "a bad n_head in a file was blamed on --heads: $(cat "$tmp/err")"; else ok; fi
expect_error file-bad-target "bad-target.safetensors: config metadata 'lora_targets': unknown LoRA target 'foo'" \
  -- info --checkpoint "$tmp/bad-target.safetensors"
expect_error file-dup-vocab "dup-vocab.safetensors: metadata 'vocab'" -- info --checkpoint "$tmp/dup-vocab.safetensors"
expect_error overflow-size "6.4e+10 is too large" -- info --vocab 2000000000 --embd 2000000000
if grep -q -- "-9223372036854775808" "$tmp/err"; then bad "an overflowed size was printed"; else ok; fi
expect_json json-invalid-utf8 "j['out'].endswith('\ufffd.safetensors')" -- dump --out "$tmp/"$'\xff'".safetensors" --json

# 8. Flags accepted that should not be.
expect_error vocab-zero "--vocab" -- info --vocab 0
expect_error max-entries-negative "--max-entries" -- check --max-entries -5
expect_error save-empty "--save: an empty path" -- train --steps 1 --save ''
expect_error checkpoint-empty "--checkpoint: an empty path" -- info --checkpoint ''
expect_error seed-negative "'-1' is not a non-negative integer" -- info --seed -1
expect_error lora-alpha-alone "--lora-alpha needs LoRA" -- info --lora-alpha 4

# 9. Lesson files from elsewhere (issue: robustness, third round): every class gives one line and exit 2.
lesson() { printf 'title = "t"\nprogram = "line"\n%s' "$2" >"$tmp/$1.toml"; }
python3 -c "import sys; sys.stdout.write('title = \"t\"\nprogram = \"line\"\n' + 'a' + '.a' * 30700 + ' = 1\n')" >"$tmp/deep-key.toml"
python3 -c "import sys; sys.stdout.write('title = \"t\"\nprogram = \"line\"\n[' + 'a' + '.a' * 30700 + ']\n')" >"$tmp/deep-header.toml"
for f in deep-key deep-header; do
  expect_error "lesson-$f" "$f.toml:3:" -- lessons --check "$tmp/$f.toml"
  expect_error "lesson-$f-info" "dotted parts" -- info --lesson "$tmp/$f.toml"
done
mkdir -p "$tmp/deepdir" && cp "$tmp/deep-key.toml" "$tmp/deepdir/"
expect_error lesson-deep-dir "dotted parts" -- lessons --dir "$tmp/deepdir"
python3 -c "import sys; sys.stdout.write('title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"' + 'x' * 20300 + '\"\n')" >"$tmp/long-text.toml"
expect_error lesson-long-text "long-text.toml:4:8: 'text' is 20300 bytes long; a lesson allows 4000" -- lessons --check "$tmp/long-text.toml"
lesson updates "$(for i in $(seq 12); do printf '[[step]]\ntext = "x"\nupdate = {steps = 1000}\n'; done)"
expect_error lesson-too-much-work "updates.toml:8:10: step 2: the lesson's updates add up to 2000 optimiser steps" -- lessons --check "$tmp/updates.toml"
lesson diverge '[[step]]
text = "x"
update = { lr = 0.5, steps = 1000 }
'
expect_error lesson-diverging "diverge.toml:5:10: step 1: training stops at optimiser step" -- lessons --check "$tmp/diverge.toml"
for w in 'a[0]junk' 'a[ 0]' 'a[+0]'; do
  lesson wiggle "$(printf '[[step]]\ntext = "x"\nwiggle = "%s"' "$w")"
  expect_error "lesson-wiggle-$w" "'wiggle' takes NAME or NAME[i]" -- lessons --check "$tmp/wiggle.toml"
done
lesson wiggle-huge '[[step]]
text = "x"
wiggle = "a[99999999999999999999999]"
'
expect_error lesson-wiggle-huge "entry 99999999999999999999999 is past them" -- lessons --check "$tmp/wiggle-huge.toml"
lesson plant-none '[[step]]
text = "x"
plant = "y1=none"
'
expect_error lesson-plant-none "plant-none.toml:5:9: 'plant': unknown mistake 'none'" -- lessons --check "$tmp/plant-none.toml"
expect_error mistake-none "--mistake: unknown mistake 'none'" -- check --program line --mistake y1=none
for ck in /etc/passwd ../../../etc/passwd; do
  printf 'title = "t"\nprogram = "gpt2"\n[model]\ncheckpoint = "%s"\n[[step]]\ntext = "x"\n' "$ck" >"$tmp/ckpt.toml"
  expect_error "lesson-checkpoint-$ck" "ckpt.toml:4:14: 'checkpoint' must name a file beside the lesson file or under assets/" \
    -- lessons --check "$tmp/ckpt.toml"
done
printf 'title = "t"\nprogram = "gpt2"\n[model]\ncheckpoint = ""\n[[step]]\ntext = "x"\n' >"$tmp/ckpt.toml"
expect_error lesson-checkpoint-empty "'checkpoint' is empty" -- lessons --check "$tmp/ckpt.toml"
printf 'title = "t"\nprogram = "gpt2"\n[model]\ncheckpoint = "none.safetensors"\n[[step]]\ntext = "x"\n' >"$tmp/ckpt.toml"
expect_error lesson-checkpoint-missing "no file none.safetensors beside the lesson file ($tmp/none.safetensors) or under the assets" \
  -- lessons --check "$tmp/ckpt.toml"
printf 'title = "\\u001b[2J\\u001b]0;owned\\u0007"\nprogram = "line"\n[[step]]\ntext = "x"\n' >"$tmp/esc.toml"
expect_error lesson-escape "control character (\\x1B)" -- lessons --check "$tmp/esc.toml"
if grep -q $'\x1b' "$tmp/err"; then bad "an ESC from a lesson reached the terminal"; else ok; fi
printf 'title = "t"\nprogram = "lora_linear"\n[model]\nlora_alpha = nan\n[[step]]\ntext = "x"\n' >"$tmp/alpha.toml"
expect_error lesson-lora-alpha "alpha.toml:4:14: 'lora_alpha' must be a positive finite number" -- lessons --check "$tmp/alpha.toml"
printf 'title = "t"\nprogram = "line"\n[values]\na = [1, 2]\n[[step]]\ntext = "x"\n' >"$tmp/len.toml"
expect_error lesson-no-flag-names "len.toml:4:1: 'a': 2 values" -- lessons --check "$tmp/len.toml"
if grep -q -- "--set" "$tmp/err"; then bad "a lesson error named --set"; else ok; fi
# lora_linear's r and α: refused, not replaced.
for v in nan 0 -5; do expect_error "lora-alpha-$v" "--lora-alpha must be a positive finite number" -- info --program lora_linear --lora-alpha "$v"; done
expect_error lora-rank-0 "--lora-rank must be 1 or more for lora_linear" -- info --program lora_linear --lora-rank 0
# Empty values name nothing; they are not "absent".
expect_error lesson-empty "--lesson: an empty value names no lesson" -- info --lesson ''
expect_error lessons-check-empty "--check: an empty path names no file" -- lessons --check ''
expect_error lessons-dir-empty "--dir: an empty path names no file" -- lessons --dir ''
expect_error check-mode-empty "--mode: an empty value names nothing" -- check --program line --mode ''
expect_error check-ops-empty "--ops: an empty value names nothing" -- check --program line --ops ''
# Messages that are true and short.
expect_json lesson-set-on-top "j['params'][0]['values'] == [5] or any(p['name'] == 'a' and p['values'] == [5] for p in j['params'])" \
  -- info --lesson 01-one-weight --set a=5 --json
for e in 1e300 1e-320 0 nan; do expect_error "eps-$e" "--eps must lie in 1e-12 … 0.1" -- check --program line --eps "$e"; done
expect_error lessons-dir-file "is not a directory" -- lessons --dir "$tmp/len.toml"
expect_error ops-long-name "--ops: no op named" -- check --program line --ops "$(head -c 100000 /dev/zero | tr '\0' x)"
if [ "$(wc -c <"$tmp/err")" -lt 1000 ]; then ok; else bad "a 100,000-character --ops name gave a $(wc -c <"$tmp/err")-byte line"; fi

echo "cli contract: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
