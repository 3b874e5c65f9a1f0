#!/usr/bin/python3
"""Independent PyTorch reference for the program `custom` (a model of one's own, typed as text).

Usage: custom_reference.py CLI_PATH [--quiet]

For every model below: `CLI dump --program custom --dtype f64 --model TEXT --set … --out TMP`,
then the same model written out by hand in PyTorch (float64, torch.autograd) from the same leaf
values, and a comparison of

  * `loss`            against torch's loss,
  * every `grad.<leaf>` (parameters and inputs alike) against that leaf's `.grad`,
  * the dump's set of gradients: exactly one per leaf,
  * every leaf's stored value and shape against what was set,

with max|diff| <= 1e-12 * max(1, max|ref|) per tensor. Then `CLI check --program custom --dtype f64
…` must exit 0 on the same model, and where a model lists planted mistakes, `check --mistake
OP=KIND` must exit 1 with its first failure (walking back from the loss) at that op. Two textbook examples are also checked against the numbers
worked by hand in CS231n's notes on backpropagation (the circuit (x + y)·z and the sigmoid neuron,
written with sigmoid(…) and staged as 1 / (1 + exp(−…))).

The PyTorch side never reads the model's text: each model is written twice on purpose, once in the
language of docs/custom.md and once as Python, so a mistake in the parser, the shapes, an op's
forward or its backward shows up as a difference. Leaf values are chosen away from the corners
(no relu or abs input at 0, no tie in max), where the two sides may pick different subgradients.

That the test can fail was checked by hand: with Mul's slope for its right operand changed to
`a + 1` in core/src/ops/binary.h, the 9 of the 11 models that have a `*` failed here, each with the
gradients named and `check` failing at the products; with the slope restored, everything passed. The script also checks its
own comparison on every run: the first model's loss and gradients, each moved by one part in 1e9,
must be reported as different.

Exit: 0 all pass, 1 any failure, 2 bad usage or no torch. Last line: `custom reference: N passed, M failed`.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_reference import read_safetensors, BadFile  # noqa: E402  (the safetensors reader only)

TOL = 1e-12
F = torch.nn.functional


def t(v):
    return torch.tensor(v, dtype=torch.float64)


# ----------------------------------------------------------------------------- the models
# Each model: its text, its leaves' values (a number, a list, or a list of rows), the leaves that
# are inputs (data), and the same computation in PyTorch on a dict of leaf tensors.

def m_arith(v):
    x, y = v["x"], v["y"]
    a = x - 3
    b = 2 / (a * y)
    c = -(b ** 2) + x ** 3
    return c / y - 1.5 * x + 4


def m_functions(v):
    x = v["x"]
    e = torch.exp(x)
    lg = torch.log(e + 1)
    tt = torch.tanh(x) * torch.sigmoid(x)
    g = F.gelu(x, approximate="tanh") + torch.abs(x - 0.5)
    r = torch.relu(x)
    return torch.sum(lg * tt) + torch.mean(g) - torch.sum(r) / 2


def m_broadcast(v):
    W, s, b = v["W"], v["s"], v["b"]
    A = W * s + b                       # a number and a row vector over a matrix
    B = b - W                           # the row vector on the left
    C = torch.maximum(A, B)
    D = s / (1 + torch.abs(W))          # a number on the left of a matrix
    E = torch.maximum(W, t(0.1))        # a number on the right of max
    G = 2 - W * W                       # a number on the left of `-`; W twice in one op
    return torch.sum(C) + torch.mean(D * b) + torch.sum(E ** 2) / s + torch.mean(G)


def m_classifier(v):
    X, T, W, b, u = v["X"], v["T"], v["W"], v["b"], v["u"]
    z = X @ W + b
    p = torch.softmax(z, dim=-1)
    lp = torch.log_softmax(z, dim=-1)
    ce = -torch.sum(T * lp) / 2
    ent = -torch.sum(p * lp)
    q = torch.softmax(u, dim=-1)         # softmax of a vector
    return ce + 0.1 * ent + torch.sum(q * q)


def m_mlp(v):
    X, y, W1, b1, w2, c = v["X"], v["y"], v["W1"], v["b1"], v["w2"], v["c"]
    h = torch.tanh(X @ W1 + b1)
    o = h @ w2 + c                      # a matrix times a vector
    d = o - y
    return torch.mean(d ** 2)


def m_shared(v):
    u, w = v["u"], v["w"]
    d = u @ w                           # two vectors: their dot product
    n = u @ u                           # the same leaf on both sides
    r = d / n
    m = torch.maximum(d, t(0.5))
    return r + m ** 2 + torch.sum(u * u * w) + torch.mean(w * d)


def m_row_times_matrix(v):
    x, W, k = v["x"], v["W"], v["k"]
    y = x @ W                           # a vector on the left: one row
    a = torch.relu(y) ** 3
    b = torch.exp(-k * y)
    c = (torch.abs(y) + 1) ** 0.5
    return torch.sum(a) + torch.sum(b) / 3 + torch.mean(c) * k


def m_neuron_staged(v):
    w, x, bias = v["w"], v["x"], v["bias"]
    z = w @ x + bias
    s = 1 / (1 + torch.exp(-z))
    return s


MODELS = [
    {
        "name": "scalar arithmetic: - / * ** unary minus, numbers on either side",
        "text": "a = x - 3\nb = 2 / (a * y)\nc = -b ** 2 + x ** 3\nL = c / y - 1.5 * x + 4",
        "values": {"x": 1.7, "y": -0.6},
        "torch": m_arith,
    },
    {
        "name": "every function of a vector: exp log tanh sigmoid gelu abs relu sum mean",
        "text": ("e = exp(x)\nl = log(e + 1)   # softplus\nt = tanh(x) * sigmoid(x)\n"
                 "g = gelu(x) + abs(x - 0.5)\nr = relu(x)\nL = sum(l * t) + mean(g) - sum(r) / 2"),
        "values": {"x": [0.3, -1.2, 2.1, -0.4, 0.9]},
        "torch": m_functions,
    },
    {
        "name": "broadcasting a number and a row vector over a matrix, max, W used twice",
        "text": ("A = W * s + b; B = b - W; C = max(A, B); D = s / (1 + abs(W)); E = max(W, 0.1)\n"
                 "G = 2 - W * W\nL = sum(C) + mean(D * b) + sum(E ** 2) / s + mean(G)"),
        "values": {"W": [[0.5, -1.5, 2.0, 0.25], [-0.7, 1.1, -0.2, 0.8], [1.3, 0.05, -2.2, -0.9]],
                   "s": 1.3, "b": [0.4, -0.6, 1.7, -1.1]},
        "torch": m_broadcast,
    },
    {
        "name": "a softmax classifier: @, softmax, log_softmax, inputs X and T, softmax of a vector",
        "text": ("z = X @ W + b\np = softmax(z)\nlp = log_softmax(z)\nce = -sum(T * lp) / 2\n"
                 "ent = -sum(p * lp)\nq = softmax(u)\nL = ce + 0.1 * ent + sum(q * q)"),
        "values": {"X": [[1.0, -0.5, 0.3], [0.2, 0.8, -1.4]],
                   "T": [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
                   "W": [[0.1, -0.3, 0.5, 0.2], [0.7, 0.4, -0.6, 0.0], [-0.2, 0.9, 0.3, -0.8]],
                   "b": [0.05, -0.1, 0.2, 0.0],
                   "u": [1.5, -0.3, 0.4]},
        "inputs": ["X", "T"],
        "torch": m_classifier,
    },
    {
        "name": "a small MLP 2-3-1 with tanh on four points (X, y inputs)",
        "text": "h = tanh(X @ W1 + b1)\no = h @ w2 + c\nd = o - y\nL = mean(d ** 2)",
        "values": {"X": [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [-0.5, 0.5]],
                   "y": [1.0, 1.0, -1.0, 0.25],
                   "W1": [[0.6, -0.4, 0.9], [-0.3, 0.8, 0.5]],
                   "b1": [0.1, -0.2, 0.05],
                   "w2": [0.7, -1.1, 0.4],
                   "c": -0.15},
        "inputs": ["X", "y"],
        "torch": m_mlp,
        "plants": ["h=wrong_derivative", "d=flipped_sign", "L=wrong_derivative"],
    },
    {
        "name": "a value used many times: dot products, u @ u, u * u, d in four ops",
        "text": "d = u @ w\nn = u @ u\nr = d / n\nm = max(d, 0.5)\nL = r + m ** 2 + sum(u * u * w) + mean(w * d)",
        "values": {"u": [0.9, -0.4, 1.2], "w": [0.5, 1.5, 0.8]},
        "torch": m_shared,
        "plants": ["r=forgotten_accumulation", "n=flipped_sign", "r=wrong_derivative"],
    },
    {
        "name": "a row vector times a matrix, powers 3 and 0.5, relu, exp of a product",
        "text": "y = x @ W\na = relu(y) ** 3\nb = exp(-k * y)\nc = (abs(y) + 1) ** 0.5\nL = sum(a) + sum(b) / 3 + mean(c) * k",
        "values": {"x": [0.5, -1.0, 2.0], "W": [[0.3, -0.2], [-0.6, 0.9], [0.4, -0.5]], "k": 0.7},
        "torch": m_row_times_matrix,
    },
    {
        "name": "a neuron on vectors, its sigmoid staged (x an input)",
        "text": "z = w @ x + bias\ne = exp(-z)\nf = 1 / (1 + e)",
        "values": {"w": [0.8, -0.3, 1.1], "x": [1.5, 0.2, -0.7], "bias": 0.25},
        "inputs": ["x"],
        "torch": m_neuron_staged,
    },
]

# The examples of CS231n's notes, with the numbers worked there by hand (the notes give two digits).
HAND = [
    {
        "name": "CS231n's circuit f = (x + y)·z at x = -2, y = 5, z = -4",
        "text": "q = x + y; f = q * z",
        "values": {"x": -2.0, "y": 5.0, "z": -4.0},
        "loss": -12.0, "grads": {"x": -4.0, "y": -4.0, "z": 3.0}, "tol": 0.0,
        "plants": ["f=wrong_derivative", "q=flipped_sign"],
    },
    {
        "name": "CS231n's sigmoid neuron, sigmoid(w0·x0 + w1·x1 + w2)",
        "text": "z = w0 * x0 + w1 * x1 + w2\nf = sigmoid(z)",
        "values": {"w0": 2.0, "w1": -3.0, "w2": -3.0, "x0": -1.0, "x1": -2.0},
        "inputs": ["x0", "x1"],
        "loss": 0.73, "grads": {"w0": -0.20, "w1": -0.39, "w2": 0.20, "x0": 0.39, "x1": -0.59}, "tol": 0.006,
    },
    {
        "name": "CS231n's sigmoid neuron staged, 1 / (1 + exp(-(w0·x0 + w1·x1 + w2)))",
        "text": "z = w0 * x0 + w1 * x1 + w2\nf = 1 / (1 + exp(-z))",
        "values": {"w0": 2.0, "w1": -3.0, "w2": -3.0, "x0": -1.0, "x1": -2.0},
        "inputs": ["x0", "x1"],
        "loss": 0.73, "grads": {"w0": -0.20, "w1": -0.39, "w2": 0.20, "x0": 0.39, "x1": -0.59}, "tol": 0.006,
    },
]


# ----------------------------------------------------------------------------- running the CLI
def set_flag(name, value):
    """--set NAME=… as docs/custom.md writes it: a number, a list, or rows separated by ';'."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        body = ";".join(",".join(repr(float(e)) for e in row) for row in value)
    elif isinstance(value, list):
        body = ",".join(repr(float(e)) for e in value)
    else:
        body = repr(float(value))
    return ["--set", f"{name}={body}"]


def model_flags(m):
    args = ["--program", "custom", "--dtype", "f64", "--model", m["text"]]
    for name, value in m["values"].items():
        args += set_flag(name, value)
    if m.get("inputs"):
        args += ["--inputs", ",".join(m["inputs"])]
    return args


def check(cli, m):
    """`check --dtype f64` on the model: (ok, line); on a failure, its failing rows."""
    rc, text = run(cli, ["check"] + model_flags(m))
    if rc == 0:
        return True, "check --dtype f64: exit 0"
    rows = [r for r in text.splitlines() if "FAIL" in r or "first disagreement" in r or "error" in r]
    return False, f"check --dtype f64: exit {rc}\n      " + "\n      ".join(rows[:12])


def planted(cli, m):
    """Each planted mistake of the model is found by `check`, first (walking back from the loss) at its op."""
    rows = []
    for p in m.get("plants", []):
        op = p.split("=")[0]
        rc, text = run(cli, ["check"] + model_flags(m) + ["--mistake", p, "--json"])
        try:
            first = json.loads(text[text.index("{"):])["first_failure"] if rc == 1 else None
        except (ValueError, KeyError):
            first = None
        rows.append((rc == 1 and first == op, f"check --mistake {p}: exit {rc}, first failure at {first}"
                     + ("" if rc in (0, 1) else f" ({text.splitlines()[-1] if text else ''})")))
    return rows


def run(cli, args):
    p = subprocess.run([cli] + args, capture_output=True, text=True, timeout=120)
    return p.returncode, (p.stdout + p.stderr).strip()


def dump(cli, m, tmp):
    out = os.path.join(tmp, "dump.safetensors")
    if os.path.exists(out):
        os.remove(out)
    rc, text = run(cli, ["dump"] + model_flags(m) + ["--out", out])
    if rc != 0:
        return None, f"dump exited {rc}: {text}"
    try:
        tensors, _, _ = read_safetensors(out)
    except BadFile as e:
        return None, f"the dump is unreadable: {e}"
    return tensors, None


# ----------------------------------------------------------------------------- comparing
def compare(name, got, ref):
    """One tensor against the reference; returns (ok, line)."""
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if got.shape != ref.shape:
        return False, f"{name}: shape {list(got.shape)}, the reference has {list(ref.shape)}"
    diff = float(np.max(np.abs(got - ref))) if ref.size else 0.0
    scale = max(1.0, float(np.max(np.abs(ref))) if ref.size else 0.0)
    ok = bool(np.all(np.isfinite(got))) and diff <= TOL * scale
    return ok, f"{name}: max|diff| {diff:.2e} (limit {TOL * scale:.1e})"


def reference(m):
    leaves = {k: t(v).requires_grad_(True) for k, v in m["values"].items()}
    loss = m["torch"](leaves)
    loss.backward()
    return float(loss.detach()), {k: x.grad.numpy().copy() for k, x in leaves.items()}


def check_dump(tensors, m, ref_loss, ref_grads):
    """Every comparison of one dump against the reference: a list of (ok, line)."""
    rows = [compare("loss", tensors.get("loss", np.array(np.nan)), ref_loss)]
    want = {"grad." + k for k in m["values"]}
    have = {k for k in tensors if k.startswith("grad.")}
    if have != want:
        rows.append((False, f"gradients in the dump {sorted(have)}, one per leaf expected {sorted(want)}"))
    for k in m["values"]:
        if "grad." + k in tensors:
            rows.append(compare("grad." + k, tensors["grad." + k], ref_grads[k]))
        stored = tensors.get(k)
        if stored is None or not np.array_equal(np.asarray(stored, np.float64), np.asarray(m["values"][k], np.float64)):
            rows.append((False, f"{k}: stored as {None if stored is None else stored.tolist()}, set to {m['values'][k]}"))
    return rows


def self_test(tensors, m, ref_loss, ref_grads):
    """The comparison must notice the loss or any gradient moved by one part in 1e9."""
    misses = []
    for key in ["loss"] + ["grad." + k for k in m["values"]]:
        moved = dict(tensors)
        moved[key] = np.asarray(tensors[key], np.float64) * (1 + 1e-9) + 1e-9
        if all(ok for ok, _ in check_dump(moved, m, ref_loss, ref_grads)):
            misses.append(key)
    return misses


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quiet = "--quiet" in sys.argv[1:]
    if len(args) != 1:
        print("usage: custom_reference.py CLI_PATH [--quiet]", file=sys.stderr)
        return 2
    cli = args[0]
    if not os.access(cli, os.X_OK):
        print(f"custom reference: {cli} is not an executable", file=sys.stderr)
        return 2
    torch.set_default_dtype(torch.float64)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, m in enumerate(MODELS):
            lines, ok = [], True
            tensors, err = dump(cli, m, tmp)
            if err:
                lines.append((False, err))
            else:
                ref_loss, ref_grads = reference(m)
                lines += check_dump(tensors, m, ref_loss, ref_grads)
                if i == 0:
                    misses = self_test(tensors, m, ref_loss, ref_grads)
                    lines.append((not misses, "self-test: a change of 1e-9 is noticed in every tensor" if not misses
                                  else f"self-test: a change of 1e-9 went unnoticed in {misses}"))
            lines.append(check(cli, m))
            lines += planted(cli, m)
            ok = all(o for o, _ in lines)
            passed, failed = passed + ok, failed + (not ok)
            print(f"=== {'ok  ' if ok else 'FAIL'} {m['name']}")
            for o, line in lines:
                if not quiet or not o:
                    print(f"    {'' if o else 'FAIL '}{line}")
        for m in HAND:
            lines = []
            tensors, err = dump(cli, m, tmp)
            if err:
                lines.append((False, err))
            else:
                tol = m["tol"]
                got = float(np.asarray(tensors["loss"]))
                lines.append((abs(got - m["loss"]) <= tol, f"f = {got:.6f} (by hand {m['loss']})"))
                for k, want in m["grads"].items():
                    g = tensors.get("grad." + k)
                    g = float(np.asarray(g)) if g is not None else float("nan")
                    lines.append((abs(g - want) <= tol, f"df/d{k} = {g:.6f} (by hand {want})"))
            lines.append(check(cli, m))
            lines += planted(cli, m)
            ok = all(o for o, _ in lines)
            passed, failed = passed + ok, failed + (not ok)
            print(f"=== {'ok  ' if ok else 'FAIL'} {m['name']}")
            for o, line in lines:
                if not quiet or not o:
                    print(f"    {'' if o else 'FAIL '}{line}")
    print(f"custom reference: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
