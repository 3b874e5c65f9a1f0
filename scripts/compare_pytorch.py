#!/usr/bin/python3
"""gradscope against PyTorch on the CPU: the same GPT-2 step, the same threads.

For each config (tiny f64, small f32, gpt2 shape f32 at B=4 T=64) and each thread count,
times one forward+backward step of the mean cross-entropy loss in gradscope
(`gradscope-cli bench --json --threads N`) and in a plain PyTorch GPT-2 written from
docs/model.md (no fused kernels), and measures a large sgemm in PyTorch as the machine's practical
peak. Prints one table: config, threads, gradscope ms, PyTorch ms, ratio, gradscope GFLOP/s
(the engine's own FLOP count), % of the sgemm peak.

Run through scripts/compare-pytorch (it picks Debian's /usr/bin/python3). Every PyTorch
measurement runs in a child process started with the thread settings in its environment,
because OpenBLAS sizes its thread pool when it is loaded, not when torch.set_num_threads runs.

Environment (printed with the results):
  OMP_WAIT_POLICY     PyTorch: PASSIVE by default (--omp-wait-policy PASSIVE|ACTIVE|unset). It
                      has two pools (its OpenMP, and OpenBLAS's own pthreads) and on two cores
                      their spinning waiters starve the workers: measured here, the gpt2 shape on
                      2 threads takes 2.2 s PASSIVE and 3.4 s unset.
                      gradscope: unset by default (--gs-omp-wait-policy). It has one pool (OpenMP;
                      OpenBLAS's OpenMP build runs its matmuls in it) and many short parallel
                      regions, which PASSIVE puts to sleep and wakes again each time: measured
                      here, the small preset on 2 threads takes 3.3 ms unset and 6.5 ms PASSIVE.
  OPENBLAS_CORETYPE   kept as found, or set/unset with --coretype NAME / --coretype ''
  OMP_NUM_THREADS, OPENBLAS_NUM_THREADS   = the thread count of the run
"""
import argparse
import ctypes
import json
import math
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# id -> (CLI model flags, dtype, default timed runs)
CONFIGS = {
    "tiny": (["--preset", "tiny"], "f64", 200),
    "small": (["--preset", "small"], "f32", 30),
    "gpt2": (["--preset", "gpt2", "--batch", "4", "--seq", "64"], "f32", 5),
}
SGEMM_SHAPES = [(2048, 2048, 2048), (4096, 768, 3072)]  # (M, K, N): (M×K)·(K×N)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


# [SECTION] the worker: PyTorch measurements in a child process

def blas_report():
    """Which BLAS torch's sgemm_ calls bind to, found after a matmul: the library that owns the
    symbol as libtorch_cpu resolves it (global scope first, then its own dependency tree),
    mapped back to a file through /proc/self/maps. torch.__config__ only says BLAS_INFO=generic
    on Debian: torch links libblas.so.3, and the alternatives system decides what that is."""
    import torch

    a = torch.randn(64, 64)
    (a @ a).sum().item()
    maps = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                maps.append((lo, hi, parts[-1]))

    def owner(addr):
        return next((f for lo, hi, f in maps if lo <= addr < hi), None)

    rep = {"sgemm_from": None, "kind": "unknown", "config_blas_info": None, "openblas": None,
           "blas_libs": sorted({f for _, _, f in maps if any(k in f.lower() for k in ("blas", "mkl", "blis"))})}
    for line in torch.__config__.show().splitlines():
        for field in line.replace(",", " ").split():
            if field.startswith("BLAS_INFO="):
                rep["config_blas_info"] = field.split("=", 1)[1]
    addr = None
    try:
        addr = ctypes.cast(ctypes.CDLL(None).sgemm_, ctypes.c_void_p).value
    except AttributeError:
        pass
    if addr is None:
        torch_cpu = next((f for _, _, f in maps if "libtorch_cpu.so" in f), None)
        if torch_cpu:
            try:
                h = ctypes.CDLL(torch_cpu, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
                addr = ctypes.cast(h.sgemm_, ctypes.c_void_p).value
            except (OSError, AttributeError):
                pass
    src = owner(addr) if addr else None
    rep["sgemm_from"] = os.path.realpath(src) if src else None
    low = (src or "").lower()
    if "openblas" in low:
        rep["kind"] = "openblas"
    elif "mkl" in low:
        rep["kind"] = "mkl"
    elif "blis" in low:
        rep["kind"] = "blis"
    elif "atlas" in low:
        rep["kind"] = "atlas"
    elif "/blas/" in low:
        rep["kind"] = "reference"  # netlib's reference BLAS (Debian package libblas3)
    if rep["kind"] == "openblas":
        for lib in sorted((f for _, _, f in maps if "openblas" in f.lower()), key=lambda p: "libopenblas" not in p):
            try:
                h = ctypes.CDLL(lib, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
                h.openblas_get_config.restype = ctypes.c_char_p
                h.openblas_get_corename.restype = ctypes.c_char_p
                rep["openblas"] = {
                    "config": h.openblas_get_config().decode(),
                    "corename": h.openblas_get_corename().decode(),
                    "num_threads": h.openblas_get_num_threads(),
                    "parallel": ["sequential", "pthreads", "openmp"][h.openblas_get_parallel()],
                }
                break
            except (OSError, AttributeError, IndexError):
                continue
    return rep


def median_ms(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return {"ms": statistics.median(ts), "min_ms": min(ts), "max_ms": max(ts), "runs": runs}


def torch_gpt2_step(cfg, dtype_name, seed=1337):
    """A straightforward GPT-2 as docs/model.md defines it; returns a function doing one step."""
    import torch
    import torch.nn.functional as F

    dtype = torch.float64 if dtype_name == "f64" else torch.float32
    g = torch.Generator().manual_seed(seed)
    L, H, C, V = cfg["n_layer"], cfg["n_head"], cfg["n_embd"], cfg["vocab_size"]
    n_ctx, T, B = cfg["n_ctx"], cfg["seq_len"], cfg["batch"]
    d = C // H

    def normal(*shape, std=0.02):
        return (torch.randn(*shape, generator=g, dtype=dtype) * std).requires_grad_()

    def zeros(*shape):
        return torch.zeros(*shape, dtype=dtype, requires_grad=True)

    def ones(*shape):
        return torch.ones(*shape, dtype=dtype, requires_grad=True)

    proj_std = 0.02 / math.sqrt(2 * L)
    P = {"wte": normal(V, C), "wpe": normal(n_ctx, C), "ln_f.w": ones(C), "ln_f.b": zeros(C)}
    for l in range(L):  # Conv1D layout: weight is in×out
        P.update({
            f"{l}.ln_1.w": ones(C), f"{l}.ln_1.b": zeros(C),
            f"{l}.c_attn.w": normal(C, 3 * C), f"{l}.c_attn.b": zeros(3 * C),
            f"{l}.c_proj.w": normal(C, C, std=proj_std), f"{l}.c_proj.b": zeros(C),
            f"{l}.ln_2.w": ones(C), f"{l}.ln_2.b": zeros(C),
            f"{l}.c_fc.w": normal(C, 4 * C), f"{l}.c_fc.b": zeros(4 * C),
            f"{l}.mlp_proj.w": normal(4 * C, C, std=proj_std), f"{l}.mlp_proj.b": zeros(C),
        })
    x = torch.randint(0, V, (B, T), generator=g)
    y = torch.randint(0, V, (B, T), generator=g)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)  # key > query

    def linear(a, w, b):  # (B,T,in) -> (B,T,out): Y = X·W + b
        return torch.addmm(b, a.reshape(-1, a.shape[-1]), w).view(B, T, -1)

    def forward():
        h = P["wte"][x] + P["wpe"][:T]
        for l in range(L):
            a = F.layer_norm(h, (C,), P[f"{l}.ln_1.w"], P[f"{l}.ln_1.b"], 1e-5)
            q, k, v = linear(a, P[f"{l}.c_attn.w"], P[f"{l}.c_attn.b"]).split(C, dim=2)
            q, k, v = (t.view(B, T, H, d).transpose(1, 2) for t in (q, k, v))  # (B,H,T,d)
            s = (q @ k.transpose(-2, -1)) / math.sqrt(d)
            p = s.masked_fill(mask, float("-inf")).softmax(dim=-1)
            o = (p @ v).transpose(1, 2).reshape(B, T, C)
            h = h + linear(o, P[f"{l}.c_proj.w"], P[f"{l}.c_proj.b"])
            m = F.layer_norm(h, (C,), P[f"{l}.ln_2.w"], P[f"{l}.ln_2.b"], 1e-5)
            u = F.gelu(linear(m, P[f"{l}.c_fc.w"], P[f"{l}.c_fc.b"]), approximate="tanh")
            h = h + linear(u, P[f"{l}.mlp_proj.w"], P[f"{l}.mlp_proj.b"])
        f = F.layer_norm(h, (C,), P["ln_f.w"], P["ln_f.b"], 1e-5)
        logits = f @ P["wte"].t()  # tied lm_head
        return F.cross_entropy(logits.view(-1, V), y.view(-1))

    def step():
        for p in P.values():
            p.grad = None
        loss = forward()
        loss.backward()
        return loss.item()

    return step


def worker(args):
    import torch

    torch.set_num_threads(args.threads)
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_report(),
        "load_before": loadavg(),
        "sgemm": [],
        "configs": {},
    }
    if out["blas"]["kind"] == "reference" and not args.allow_reference_blas:
        print(json.dumps(out))
        return 0
    for M, K, N in SGEMM_SHAPES:
        a = torch.randn(M, K)
        b = torch.randn(K, N)
        c = torch.empty(M, N)
        r = median_ms(lambda: torch.mm(a, b, out=c), 2, args.sgemm_runs)
        r.update({"shape": [M, K, N], "gflops": 2 * M * K * N / (r["ms"] * 1e-3) / 1e9})
        out["sgemm"].append(r)
    for cid, spec in json.loads(args.configs_json).items():
        step = torch_gpt2_step(spec["config"], spec["dtype"])
        r = median_ms(step, args.warmup, spec["runs"])
        out["configs"][cid] = r
    out["load_after"] = loadavg()
    print(json.dumps(out))
    return 0


# [SECTION] the driver

def child_env(args, threads, side="torch"):
    env = dict(os.environ)
    policy = args.omp_wait_policy if side == "torch" else args.gs_omp_wait_policy
    if policy.lower() == "unset":
        env.pop("OMP_WAIT_POLICY", None)  # libgomp's default: spin a while, then sleep
    else:
        env["OMP_WAIT_POLICY"] = policy
    env["OMP_NUM_THREADS"] = str(threads)
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    if args.coretype is not None:
        if args.coretype:
            env["OPENBLAS_CORETYPE"] = args.coretype
        else:
            env.pop("OPENBLAS_CORETYPE", None)
    return env


def run_json(cmd, env):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"compare-pytorch: error: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        sys.exit(f"compare-pytorch: error: no JSON from {' '.join(cmd)}")
    return json.loads(lines[-1])


def fmt_ms(r):
    return f"{r['ms']:.3f} [{r['min_ms']:.3f}–{r['max_ms']:.3f}]" if r["ms"] < 10 else \
        f"{r['ms']:.1f} [{r['min_ms']:.1f}–{r['max_ms']:.1f}]"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--configs-json", help=argparse.SUPPRESS)
    ap.add_argument("--configs", default="tiny,small,gpt2", help="comma list of tiny,small,gpt2 (default: all)")
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts (default: 1,2)")
    ap.add_argument("--runs", type=int, default=0, help="timed steps per config (default: tiny 200, small 30, gpt2 5)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed PyTorch steps first (default 2)")
    ap.add_argument("--sgemm-runs", type=int, default=10, help="timed sgemm calls per shape (default 10)")
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "bin", "gradscope-cli"), help="gradscope-cli to time")
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "bin", "bench"),
                    help="gradscope's Google Benchmark binary, for the rate of the sgemm gradscope uses (skipped if absent)")
    ap.add_argument("--omp-wait-policy", default=os.environ.get("COMPARE_OMP_WAIT_POLICY", "PASSIVE"),
                    help="OMP_WAIT_POLICY for both sides: PASSIVE (default), ACTIVE, or unset")
    ap.add_argument("--gs-omp-wait-policy", default=os.environ.get("COMPARE_GS_OMP_WAIT_POLICY", "unset"),
                    help="OMP_WAIT_POLICY for gradscope only: unset (default: libgomp spins, then sleeps), "
                         "PASSIVE or ACTIVE")
    ap.add_argument("--coretype", default=None,
                    help="set OPENBLAS_CORETYPE for both sides ('' unsets it; default: keep the environment's)")
    ap.add_argument("--allow-reference-blas", action="store_true",
                    help="measure even when torch runs on netlib's reference BLAS (20-40x slower)")
    ap.add_argument("--json", help="also write every number to this JSON file")
    ap.add_argument("--threads-one", dest="threads_worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        args.threads = args.threads_worker
        return worker(args)

    try:
        threads = [int(t) for t in args.threads.split(",") if t]
        if not threads or any(t < 1 for t in threads):
            raise ValueError
    except ValueError:
        sys.exit(f"compare-pytorch: error: --threads must be a comma list of positive numbers, got '{args.threads}'")
    configs = [c for c in args.configs.split(",") if c]
    for c in configs:
        if c not in CONFIGS:
            sys.exit(f"compare-pytorch: error: unknown config '{c}' (expected tiny, small, gpt2)")
    if not os.access(args.cli, os.X_OK):
        sys.exit(f"compare-pytorch: error: {args.cli} not found; build first (scripts/setup)")

    base_env = child_env(args, threads[0])
    gs_env = child_env(args, threads[0], "gradscope")
    pol_t = base_env.get("OMP_WAIT_POLICY", "(unset)")
    pol_g = gs_env.get("OMP_WAIT_POLICY", "(unset)")
    print(f"omp wait policy   : OMP_WAIT_POLICY={pol_t} for PyTorch, {pol_g} for gradscope"
          f"{'' if pol_t == pol_g else '  [sides differ: --gs-omp-wait-policy]'}")
    ct = base_env.get("OPENBLAS_CORETYPE")
    print(f"openblas coretype : OPENBLAS_CORETYPE={ct if ct else '(unset: OpenBLAS detects the CPU)'}"
          f"{'  [from --coretype]' if args.coretype is not None else ''}")
    ldd = subprocess.run(["ldd", args.cli], capture_output=True, text=True).stdout
    gs_blas = [l.split()[2] if "=>" in l else l.split()[0] for l in ldd.splitlines() if "blas" in l.lower()]
    print(f"gradscope's BLAS  : {', '.join(gs_blas) if gs_blas else 'none linked (Eigen GEMM); OPENBLAS_CORETYPE only affects PyTorch'}")
    print(f"thread counts     : {threads} (OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = torch.set_num_threads = --threads)")
    print(f"load average      : {loadavg()} (1/5/15 min) on {os.cpu_count()} cpus")

    # The configs as gradscope resolves them (vocab from the char tokenizer, n_ctx, ...).
    specs = {}
    for c in configs:
        flags, dtype, runs = CONFIGS[c]
        info = run_json([args.cli, "info", *flags, "--json"], base_env)
        specs[c] = {"config": info["config"], "dtype": dtype, "runs": args.runs or runs, "flags": flags}

    results = {"env": {"OMP_WAIT_POLICY": {"torch": pol_t, "gradscope": pol_g}, "OPENBLAS_CORETYPE": ct},
               "threads": {}}
    for n in threads:
        env = child_env(args, n)
        w = run_json([sys.executable, os.path.abspath(__file__), "--worker", "--threads-one", str(n),
                      "--warmup", str(args.warmup), "--sgemm-runs", str(args.sgemm_runs),
                      "--configs-json", json.dumps({c: {k: s[k] for k in ("config", "dtype", "runs")}
                                                    for c, s in specs.items()})]
                     + (["--allow-reference-blas"] if args.allow_reference_blas else []), env)
        blas = w["blas"]
        ob = blas.get("openblas") or {}
        print(f"\n[{n} thread{'s' if n > 1 else ''}] torch {w['torch']}, torch threads {w['threads']}, "
              f"BLAS: {blas['kind']} (sgemm_ from {blas['sgemm_from']}; "
              f"torch.__config__ says BLAS_INFO={blas['config_blas_info']})")
        if ob:
            print(f"  OpenBLAS: core {ob['corename']}, {ob['parallel']}, {ob['num_threads']} threads, {ob['config']}")
        if blas["kind"] == "reference":
            msg = ("torch is running on netlib's reference BLAS (Debian's libblas3): matmuls are 20-40x slower "
                   "than OpenBLAS (measured on this kind of machine: ~5 vs ~100 GFLOP/s per core). "
                   "Install libopenblas0-pthread (apt-get install -y libopenblas0-pthread).")
            if not args.allow_reference_blas:
                sys.exit(f"compare-pytorch: error: {msg} Refusing to compare (--allow-reference-blas overrides).")
            print(f"  WARNING: {msg}")
        peak = max(s["gflops"] for s in w["sgemm"])
        if peak < 20 * n and blas["kind"] != "reference":
            print(f"  WARNING: the sgemm peak ({peak:.1f} GFLOP/s) looks like an unoptimised BLAS or a busy machine")
        for s in w["sgemm"]:
            M, K, N = s["shape"]
            print(f"  sgemm ({M}x{K})·({K}x{N}): {s['gflops']:.1f} GFLOP/s (median of {s['runs']}, {fmt_ms(s)} ms)")
        own_sgemm = []
        if os.access(args.bench, os.X_OK):
            benv = child_env(args, n, "gradscope")
            benv["GRADSCOPE_THREADS"] = str(n)
            p = subprocess.run([args.bench, "--benchmark_filter=gemm/f32/(2048|4096)",
                                "--benchmark_format=json"], env=benv, capture_output=True, text=True)
            if p.returncode == 0:
                for b in json.loads(p.stdout)["benchmarks"]:
                    own_sgemm.append({"name": b["name"].split("/iterations")[0], "gflops": b["GFLOP/s"],
                                       "ms": b["ms"], "min_ms": b["ms_min"], "max_ms": b["ms_max"]})
            for e in own_sgemm:
                print(f"  gradscope's sgemm {e['name']}: {e['gflops']:.1f} GFLOP/s ({fmt_ms(e)} ms)")
        if own_sgemm:
            peak = max(peak, max(e["gflops"] for e in own_sgemm))
        gs = {}
        for c in configs:
            s = specs[c]
            gs[c] = run_json([args.cli, "bench", *s["flags"], "--threads", str(n), "--steps", str(s["runs"]),
                              "--json"], child_env(args, n, "gradscope"))
        print(f"  load average: before torch {w['load_before']}, after torch {w['load_after']}, "
              f"after gradscope {loadavg()}")
        results["threads"][n] = {"torch": w, "gradscope": gs, "gradscope_sgemm": own_sgemm, "peak_gflops": peak}

    print()
    hdr = ("config", "dtype", "thr", "gradscope ms [min–max]", "PyTorch ms [min–max]", "gs/pt",
           "gs GFLOP/s", "pt GFLOP/s", "gs % peak", "sgemm peak")
    rows = []
    for n, r in results["threads"].items():
        for c in configs:
            g = r["gradscope"][c]
            t = r["torch"]["configs"][c]
            flops = g["flops_per_step"]
            rows.append((c, specs[c]["dtype"], str(n),
                         fmt_ms({"ms": g["ms_per_step"], "min_ms": g["min_ms"], "max_ms": g["max_ms"]}),
                         fmt_ms(t), f"{g['ms_per_step'] / t['ms']:.2f}x", f"{g['gflops']:.2f}",
                         f"{flops / (t['ms'] * 1e-3) / 1e9:.2f}", f"{100 * g['gflops'] / r['peak_gflops']:.1f}%",
                         f"{r['peak_gflops']:.1f}"))
    w = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(hdr)]
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(hdr)))
    for row in rows:
        print("  ".join(v.ljust(w[i]) for i, v in enumerate(row)))
    print("\nGFLOP/s for both sides use gradscope's FLOP count of the step (forward + backward); "
          "% peak is against the best sgemm above (PyTorch's or gradscope's own) at the same thread count.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
