#!/usr/bin/python3
"""Independent PyTorch reference for gradscope's GPT-2 (cross-check of loss and gradients).

Usage: gpt2_reference.py DUMP.safetensors [--quiet] [--expect-lora-b-nonzero]
  --quiet                   print only failures and the summary
  --expect-lora-b-nonzero   also require max|lora_B| > 0 and max|grad lora_A| > 0 (a dump taken
                            after LoRA training steps, so that dA is really exercised)

Reads a `gradscope-cli dump` file, rebuilds the model of docs/model.md (the forward pass, LoRA)
in torch from the dumped parameters, config, tokens and targets, runs autograd, and compares

  * `loss`                         against torch's loss,
  * every `grad.<param>`           against `.grad` of that parameter,
  * every `act.<op>` (if present)  against the matching intermediate tensor,
  * every `resid.<op>`             against that intermediate's `.grad` (dL/d output),

and checks the dump's gradient set: a grad for every trainable parameter, none for a frozen
one (LoRA mode freezes every base parameter).

Tolerances: f64: max|diff| <= 1e-9 * max(1, max|ref|);  f32: max|diff| / max|ref| <= 1e-3.
Non-finite reference entries (the causal mask's -inf) must match exactly; residuals of the
masked entries (resid of the mask, scale and qk ops) must be exactly 0.

Exit: 0 all pass, 1 any failure, 2 bad/unreadable file. Last line: `reference: N passed, M failed`.
This file is written from docs/model.md only; it deliberately shares no code with core/.
"""
import json
import math
import struct
import sys

import numpy as np
import torch

F64_TOL = 1e-9
F32_TOL = 1e-3
LORA_TARGETS = ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")
NP_DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8"}


class BadFile(Exception):
    pass


# ----------------------------------------------------------------------------- safetensors
def read_safetensors(path):
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as e:
        raise BadFile(f"cannot read {path}: {e}")
    if len(raw) < 8:
        raise BadFile("file shorter than the 8-byte header length")
    (hlen,) = struct.unpack("<Q", raw[:8])
    if hlen > len(raw) - 8:
        raise BadFile(f"header length {hlen} exceeds file size {len(raw)}")
    try:
        header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadFile(f"header is not valid JSON: {e}")
    if not isinstance(header, dict):
        raise BadFile("header is not a JSON object")
    data = raw[8 + hlen:]
    meta = header.pop("__metadata__", None)
    tensors, dtypes = {}, {}
    for name, info in header.items():
        try:
            dt, shape, (beg, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise BadFile(f"tensor {name}: malformed header entry")
        if dt not in NP_DTYPES:
            raise BadFile(f"tensor {name}: unsupported dtype {dt}")
        if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
            raise BadFile(f"tensor {name}: bad shape {shape}")
        n = int(np.prod(shape)) if shape else 1
        size = n * np.dtype(NP_DTYPES[dt]).itemsize
        if not (0 <= beg <= end <= len(data)) or end - beg != size:
            raise BadFile(f"tensor {name}: data_offsets [{beg},{end}] do not fit {dt}{shape} "
                          f"in a {len(data)}-byte buffer")
        arr = np.frombuffer(data[beg:end], dtype=NP_DTYPES[dt]).reshape(shape)
        tensors[name] = arr.copy()
        dtypes[name] = dt
    if not isinstance(meta, dict) or "config" not in meta:
        raise BadFile("__metadata__.config missing")
    try:
        cfg = json.loads(meta["config"])
    except (TypeError, json.JSONDecodeError) as e:
        raise BadFile(f"__metadata__.config is not a JSON string: {e}")
    return tensors, dtypes, cfg


# ----------------------------------------------------------------------------- the model
def param_shapes(cfg):
    L, C, V, N = cfg["n_layer"], cfg["n_embd"], cfg["vocab_size"], cfg["n_ctx"]
    shapes = {"wte.weight": [V, C], "wpe.weight": [N, C]}
    for l in range(L):
        p = f"h.{l}."
        shapes.update({
            p + "ln_1.weight": [C], p + "ln_1.bias": [C],
            p + "attn.c_attn.weight": [C, 3 * C], p + "attn.c_attn.bias": [3 * C],
            p + "attn.c_proj.weight": [C, C], p + "attn.c_proj.bias": [C],
            p + "ln_2.weight": [C], p + "ln_2.bias": [C],
            p + "mlp.c_fc.weight": [C, 4 * C], p + "mlp.c_fc.bias": [4 * C],
            p + "mlp.c_proj.weight": [4 * C, C], p + "mlp.c_proj.bias": [C],
        })
    shapes.update({"ln_f.weight": [C], "ln_f.bias": [C]})
    return shapes


def lora_shapes(cfg):
    C, r = cfg["n_embd"], cfg["lora_rank"]
    io = {"attn.c_attn": (C, 3 * C), "attn.c_proj": (C, C),
          "mlp.c_fc": (C, 4 * C), "mlp.c_proj": (4 * C, C)}
    shapes = {}
    if r > 0:
        for l in range(cfg["n_layer"]):
            for t in cfg["lora_targets"]:
                fin, fout = io[t]
                shapes[f"h.{l}.{t}.lora_A"] = [fin, r]
                shapes[f"h.{l}.{t}.lora_B"] = [r, fout]
    return shapes


def layernorm(x, w, b, eps=1e-5):
    mu = x.mean(dim=-1, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=-1, keepdim=True)      # biased variance
    return (x - mu) / torch.sqrt(var + eps) * w + b


def gelu_tanh(u):
    return 0.5 * u * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (u + 0.044715 * u ** 3)))


class Recorder:
    """Keeps every op output under its gradscope op name, as its own tensor with grad kept."""

    def __init__(self):
        self.t = {}

    def __call__(self, name, x):
        if not x.requires_grad:          # frozen upstream (LoRA): still want dL/d(this output)
            x = x.detach().requires_grad_(True)
        else:
            x.retain_grad()
        self.t[name] = x
        return x


def forward(P, cfg, x, y, rec):
    B, T = x.shape
    C, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    d = C // H
    r = cfg["lora_rank"]
    scale = (cfg["lora_alpha"] / r) if r > 0 else 0.0
    targets = set(cfg["lora_targets"]) if r > 0 else set()

    def linear(name, X, tgt_key):
        Y = rec(name, X @ P[name + ".weight"] + P[name + ".bias"])
        if tgt_key in targets:
            U = rec(name + ".lora_A", X @ P[name + ".lora_A"])
            Y = rec(name + ".lora_B", Y + scale * (U @ P[name + ".lora_B"]))
        return Y

    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)   # key > query
    h = rec("wte", P["wte.weight"][x])                                     # (B,T,C) gather
    h = rec("wpe", h + P["wpe.weight"][:T])
    for l in range(L):
        p = f"h.{l}."
        a = rec(p + "ln_1", layernorm(h, P[p + "ln_1.weight"], P[p + "ln_1.bias"]))
        qkv = linear(p + "attn.c_attn", a, "attn.c_attn")

        def heads(lo):
            return qkv[:, :, lo:lo + C].reshape(B, T, H, d).transpose(1, 2).clone()

        q = rec(p + "attn.q", heads(0))
        k = rec(p + "attn.k", heads(C))
        v = rec(p + "attn.v", heads(2 * C))
        S = rec(p + "attn.qk", q @ k.transpose(-1, -2))
        S2 = rec(p + "attn.scale", S / math.sqrt(d))
        M = rec(p + "attn.mask", S2.masked_fill(causal, float("-inf")))
        Pm = rec(p + "attn.softmax", torch.softmax(M, dim=-1))
        O = rec(p + "attn.pv", Pm @ v)
        o_in = rec(p + "attn.merge", O.transpose(1, 2).reshape(B, T, C).clone())
        o = linear(p + "attn.c_proj", o_in, "attn.c_proj")
        h = rec(p + "res_1", h + o)
        m = rec(p + "ln_2", layernorm(h, P[p + "ln_2.weight"], P[p + "ln_2.bias"]))
        u = linear(p + "mlp.c_fc", m, "mlp.c_fc")
        g = rec(p + "mlp.gelu", gelu_tanh(u))
        z = linear(p + "mlp.c_proj", g, "mlp.c_proj")
        h = rec(p + "res_2", h + z)
    f = rec("ln_f", layernorm(h, P["ln_f.weight"], P["ln_f.bias"]))
    logits = rec("lm_head", f @ P["wte.weight"].t())                       # tied, no bias
    lsm = rec("log_softmax", torch.log_softmax(logits, dim=-1))
    loss = rec("nll", -lsm.gather(-1, y.unsqueeze(-1)).squeeze(-1).mean())
    return loss


def forward_builtin(P, cfg, x, y):
    """The same model written a second way with torch's own ops (F.layer_norm, F.gelu 'tanh',
    F.cross_entropy, one fused head layout, additive -inf mask), as a self-check that the
    hand-written reference above implements the formulas of docs/model.md as intended."""
    F = torch.nn.functional
    B, T = x.shape
    C, H = cfg["n_embd"], cfg["n_head"]
    d = C // H
    r = cfg["lora_rank"]
    targets = set(cfg["lora_targets"]) if r > 0 else set()
    with torch.no_grad():
        def lin(name, X, tgt):
            W = P[name + ".weight"]
            if tgt in targets:     # Y = X(W + (alpha/r) A B) + b
                W = W + (cfg["lora_alpha"] / r) * (P[name + ".lora_A"] @ P[name + ".lora_B"])
            return F.linear(X, W.t(), P[name + ".bias"])

        bias = torch.full((T, T), float("-inf"), dtype=P["wte.weight"].dtype).triu(1)
        h = F.embedding(x, P["wte.weight"]) + F.embedding(torch.arange(T), P["wpe.weight"])
        for l in range(cfg["n_layer"]):
            p = f"h.{l}."
            a = F.layer_norm(h, (C,), P[p + "ln_1.weight"], P[p + "ln_1.bias"], eps=1e-5)
            q, k, v = lin(p + "attn.c_attn", a, "attn.c_attn").split(C, dim=-1)
            q, k, v = (t.view(B, T, H, d).permute(0, 2, 1, 3) for t in (q, k, v))
            att = torch.softmax(torch.einsum("bhtd,bhsd->bhts", q, k) * d ** -0.5 + bias, dim=-1)
            o = torch.einsum("bhts,bhsd->bhtd", att, v).permute(0, 2, 1, 3).reshape(B, T, C)
            h = h + lin(p + "attn.c_proj", o, "attn.c_proj")
            m = F.layer_norm(h, (C,), P[p + "ln_2.weight"], P[p + "ln_2.bias"], eps=1e-5)
            h = h + lin(p + "mlp.c_proj", F.gelu(lin(p + "mlp.c_fc", m, "mlp.c_fc"),
                                                 approximate="tanh"), "mlp.c_proj")
        f = F.layer_norm(h, (C,), P["ln_f.weight"], P["ln_f.bias"], eps=1e-5)
        logits = f @ P["wte.weight"].t()
        return F.cross_entropy(logits.reshape(B * T, -1), y.reshape(-1))


# ----------------------------------------------------------------------------- comparison
class Report:
    def __init__(self, dtype, quiet):
        self.dtype, self.quiet = dtype, quiet
        self.passed = self.failed = 0
        self.worst = {}          # kind -> (metric, name)
        self.worst_rel = (0.0, "-")
        self.fail_lines = []

    def line(self, ok, name, msg):
        s = f"{'PASS' if ok else 'FAIL'} {name:<40s} {msg}"
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.fail_lines.append(s)
        if not self.quiet or not ok:
            print(s)

    def compare(self, name, got, ref):
        """got: numpy from dump; ref: torch tensor (reference). Returns nothing; records."""
        ref = ref.detach().cpu().numpy()
        if tuple(got.shape) != tuple(ref.shape):
            self.line(False, name, f"shape {list(got.shape)} != reference {list(ref.shape)}")
            return
        got = got.astype(np.float64)
        ref = ref.astype(np.float64)
        notes = []
        ok = True
        fin = np.isfinite(ref)
        if not fin.all():
            # non-finite reference entries (mask's -inf) must match bit for bit in value
            same = np.array_equal(got[~fin], ref[~fin])
            if not same:
                ok = False
                bad = int(np.sum(got[~fin] != ref[~fin]))
                notes.append(f"{bad} non-finite entries differ")
            else:
                notes.append(f"{int((~fin).sum())} -inf match")
        if not np.isfinite(got[fin]).all():
            ok = False
            notes.append(f"{int((~np.isfinite(got[fin])).sum())} non-finite where reference is finite")
        diff = np.abs(got[fin] - ref[fin]) if fin.any() else np.zeros(1)
        diff = np.where(np.isnan(diff), np.inf, diff)
        maxdiff = float(diff.max()) if diff.size else 0.0
        maxref = float(np.abs(ref[fin]).max()) if fin.any() else 0.0
        if self.dtype == "f64":
            metric = maxdiff / max(1.0, maxref)
            tol = F64_TOL
        else:
            metric = maxdiff / maxref if maxref > 0 else (0.0 if maxdiff == 0 else math.inf)
            tol = F32_TOL
        if not metric <= tol:
            ok = False
        rel = maxdiff / maxref if maxref > 0 else (0.0 if maxdiff == 0 else math.inf)
        if self.dtype == "f64" and ok and rel > 1e-6:
            notes.append(f"WARN relative error {rel:.1e} > 1e-6 (passes the absolute bound only)")
        if rel > self.worst_rel[0]:
            self.worst_rel = (rel, name)
        kind = name.split(".", 1)[0] if name.split(".", 1)[0] in ("grad", "act", "resid") else name
        if kind not in self.worst or metric > self.worst[kind][0]:
            self.worst[kind] = (metric, name)
        self.line(ok, name, f"max_abs={maxdiff:.3e} max_ref={maxref:.3e} "
                            f"{'err/max(1,ref)' if self.dtype == 'f64' else 'err/ref'}={metric:.3e} "
                            f"tol={tol:.0e} rel={rel:.1e}" + (" [" + "; ".join(notes) + "]" if notes else ""))


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print("\n".join(__doc__.strip().splitlines()[2:7]), file=sys.stderr)
        return 2
    path = argv[1]
    opts = argv[2:]
    unknown_opts = [o for o in opts if o not in ("--quiet", "--expect-lora-b-nonzero")]
    if unknown_opts:
        print(f"unknown option(s) {unknown_opts}", file=sys.stderr)
        return 2
    quiet = "--quiet" in opts
    expect_b = "--expect-lora-b-nonzero" in opts
    try:
        tensors, dtypes, cfg = read_safetensors(path)
        for key in ("n_layer", "n_head", "n_embd", "vocab_size", "n_ctx", "seq_len", "batch", "dtype"):
            if key not in cfg:
                raise BadFile(f"config lacks {key}")
        cfg.setdefault("lora_rank", 0)
        cfg.setdefault("lora_alpha", float(cfg["lora_rank"]))
        cfg.setdefault("lora_targets", [])
        if cfg["dtype"] not in ("f32", "f64"):
            raise BadFile(f"config dtype {cfg['dtype']!r} is neither f32 nor f64")
        if cfg["n_embd"] % cfg["n_head"] != 0:
            raise BadFile("config n_embd % n_head != 0")
        bad_t = [t for t in cfg["lora_targets"] if t not in LORA_TARGETS]
        if bad_t:
            raise BadFile(f"unknown LoRA targets {bad_t}")
        base = param_shapes(cfg)
        lora = lora_shapes(cfg)
        for name, shp in list(base.items()) + list(lora.items()):
            if name not in tensors:
                raise BadFile(f"parameter {name} missing")
            if list(tensors[name].shape) != shp:
                raise BadFile(f"parameter {name} has shape {list(tensors[name].shape)}, expected {shp}")
        for name in ("tokens", "targets", "loss"):
            if name not in tensors:
                raise BadFile(f"{name} missing")
    except BadFile as e:
        print(f"bad file {path}: {e}", file=sys.stderr)
        print("reference: 0 passed, 1 failed")
        return 2

    dtype_name = cfg["dtype"]
    tdt = torch.float64 if dtype_name == "f64" else torch.float32
    want_st = "F64" if dtype_name == "f64" else "F32"
    lora_mode = cfg["lora_rank"] > 0
    B, T = cfg["batch"], cfg["seq_len"]
    rep = Report(dtype_name, quiet)
    print(f"reference: {path}")
    print(f"config: L={cfg['n_layer']} H={cfg['n_head']} C={cfg['n_embd']} V={cfg['vocab_size']} "
          f"n_ctx={cfg['n_ctx']} T={T} B={B} dtype={dtype_name} lora_rank={cfg['lora_rank']} "
          f"lora_alpha={cfg['lora_alpha']} targets={cfg['lora_targets']}")

    # --- structural checks of the dump ------------------------------------------------
    xs, ys = tensors["tokens"], tensors["targets"]
    ok = (dtypes["tokens"] in ("I32", "I64") and dtypes["targets"] in ("I32", "I64")
          and list(xs.shape) == [B, T] and list(ys.shape) == [B, T])
    rep.line(ok, "tokens/targets", f"dtypes {dtypes['tokens']}/{dtypes['targets']} shapes "
                                   f"{list(xs.shape)}/{list(ys.shape)} (want I32|I64 [{B},{T}])")
    if not ok:
        print(f"reference: {rep.passed} passed, {rep.failed} failed")
        return 2
    V = cfg["vocab_size"]
    ok = bool(((xs >= 0) & (xs < V)).all() and ((ys >= 0) & (ys < V)).all())
    rep.line(ok, "token ids in range", f"[0,{V})")
    if not ok:
        print(f"reference: {rep.passed} passed, {rep.failed} failed")
        return 2
    ok = bool(np.array_equal(xs[:, 1:], ys[:, :-1]))
    rep.line(ok, "targets = tokens shifted", "y[b,t] == x[b,t+1] for t < T-1")
    ok = T <= cfg["n_ctx"]
    rep.line(ok, "seq_len <= n_ctx", f"{T} <= {cfg['n_ctx']}")
    if not ok:
        print(f"reference: {rep.passed} passed, {rep.failed} failed")
        return 2
    wrong_dt = sorted(n for n, dt in dtypes.items() if n not in ("tokens", "targets") and dt != want_st)
    rep.line(not wrong_dt, "float tensors in run dtype",
             f"all {want_st}" if not wrong_dt else f"{len(wrong_dt)} not {want_st}: {wrong_dt[:5]}")
    ok = tensors["loss"].shape == ()
    rep.line(ok, "loss is 0-d", f"shape {list(tensors['loss'].shape)}")

    # --- the torch model --------------------------------------------------------------
    torch.manual_seed(0)
    P = {}
    trainable = set(lora) if lora_mode else set(base)
    for name in list(base) + list(lora):
        t = torch.from_numpy(tensors[name].astype(np.float64)).to(tdt)
        P[name] = t.requires_grad_(name in trainable)
    x = torch.from_numpy(xs.astype(np.int64))
    y = torch.from_numpy(ys.astype(np.int64))
    rec = Recorder()
    loss = forward(P, cfg, x, y, rec)
    loss.backward()

    # self-check of the reference: the same loss from torch's built-in ops
    loss2 = forward_builtin(P, cfg, x, y)
    d2 = abs(float(loss2) - float(loss)) / max(1.0, abs(float(loss)))
    tol2 = 1e-12 if dtype_name == "f64" else 1e-5
    rep.line(d2 <= tol2, "reference self-check (builtin ops)",
             f"|loss_builtin - loss_reference| / max(1,|loss|) = {d2:.1e} (tol {tol2:.0e})")

    # frozen params must not receive a gradient in torch either (sanity of the reference)
    frozen_with_grad = [n for n in base if lora_mode and (P[n].requires_grad or P[n].grad is not None)]
    rep.line(not frozen_with_grad, "reference: base params frozen" if lora_mode else
             "reference: all params trainable",
             "ok" if not frozen_with_grad else f"{frozen_with_grad[:3]}")

    # --- gradient set contract --------------------------------------------------------
    grads = {n[5:] for n in tensors if n.startswith("grad.")}
    missing = sorted(trainable - grads)
    extra = sorted(grads - trainable)
    rep.line(not missing, "grad.* for every trainable param",
             f"{len(trainable)} trainable" + (f", missing {missing}" if missing else ""))
    rep.line(not extra, "no grad.* for frozen/unknown params",
             "none" if not extra else f"{len(extra)} extra: {extra[:6]}")

    # --- loss ---------------------------------------------------------------------------
    rep.compare("loss", tensors["loss"], loss)

    # --- parameter gradients ------------------------------------------------------------
    for name in list(base) + list(lora):
        if name in trainable and name in grads:
            ref = P[name].grad if P[name].grad is not None else torch.zeros_like(P[name])
            rep.compare("grad." + name, tensors["grad." + name], ref)

    if lora_mode:
        maxB = max(float(np.abs(tensors[n]).max()) for n in lora if n.endswith(".lora_B"))
        maxdA = max((float(np.abs(tensors["grad." + n]).max()) for n in lora
                     if n.endswith(".lora_A") and "grad." + n in tensors), default=0.0)
        print(f"lora: max|B| = {maxB:.3e}, max|dump grad A| = {maxdA:.3e}, scale alpha/r = "
              f"{cfg['lora_alpha'] / cfg['lora_rank']:g}")
        if expect_b:
            rep.line(maxB > 0 and maxdA > 0, "lora B != 0 and dA != 0",
                     f"max|B| {maxB:.3e}, max|dA| {maxdA:.3e}")
    elif expect_b:
        rep.line(False, "lora B != 0 and dA != 0", "dump is not in LoRA mode")

    # --- activations and residuals --------------------------------------------------------
    act_names = [n[4:] for n in tensors if n.startswith("act.")]
    res_names = [n[6:] for n in tensors if n.startswith("resid.")]
    causal = np.triu(np.ones((T, T), dtype=bool), k=1)
    if act_names or res_names:
        ours = list(rec.t)
        unknown = sorted((set(act_names) | set(res_names)) - set(ours))
        rep.line(not unknown, "act/resid names known", "all map to reference ops" if not unknown
                 else f"no reference op for {unknown}")
        no_act = [n for n in ours if n not in act_names]
        rep.line(not no_act, "act.* for every op", f"{len(ours)} ops" +
                 (f", missing {no_act}" if no_act else ""))
        no_res = [n for n in ours if n not in res_names]
        if no_res:
            print(f"note: {len(no_res)} ops have no resid.* in the dump (the engine skipped "
                  f"their backward; not a failure): {no_res}")
        for n in ours:
            if n in act_names:
                rep.compare("act." + n, tensors["act." + n], rec.t[n])
        for n in ours:
            if n in res_names:
                g = rec.t[n].grad
                if g is None:
                    g = torch.zeros_like(rec.t[n])
                rep.compare("resid." + n, tensors["resid." + n], g)
                # dL/d(mask, scale, qk output) at masked entries (key > query) must be exactly 0
                if n.endswith((".attn.mask", ".attn.scale", ".attn.qk")):
                    r = tensors["resid." + n]
                    if r.shape[-2:] == (T, T):
                        vals = r[..., causal]
                        nz = int(np.count_nonzero(vals))
                        rep.line(nz == 0, "resid." + n + " [masked]",
                                 f"{vals.size} masked entries, {nz} not exactly 0" +
                                 (f" (max {np.abs(vals).max():.3e})" if nz else ""))
    else:
        print("note: no act.*/resid.* in the dump (run dump with --activations to compare them)")

    for kind in ("loss", "grad", "act", "resid"):
        if kind in rep.worst:
            m, n = rep.worst[kind]
            print(f"worst {kind}: {m:.3e} ({n})")
    print(f"worst relative (max|diff|/max|ref|): {rep.worst_rel[0]:.3e} ({rep.worst_rel[1]})")
    print(f"reference: {rep.passed} passed, {rep.failed} failed")
    return 0 if rep.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
