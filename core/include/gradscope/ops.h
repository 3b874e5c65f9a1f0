#pragma once
// The op types of the tape, each named once in an X-macro: enum, implementing struct, name,
// traits the views need, a sentence in plain words, and its formulas as text (forward; local
// derivative; backward). The code for each type lives in one header under core/src/ops/, which
// also holds its FLOP counts, its planted mistakes and its local-derivative view; the one
// switch over op types (core/src/ops/dispatch.h) is generated from this table.
#include <cstdint>
#include <string>

namespace gs {

// X(id, Impl, "name", row_jacobian, "extra", "plain words", "forward", "local derivative", "backward")
//   Impl          the struct in core/src/ops/ that implements it (the dispatch switch is generated)
//   row_jacobian  the local derivative is one row's Jacobian (the views offer a row picker)
//   extra         what its backward FLOPs beyond the closed form of "Backpropagating through GPT-2"
//                 are (Flops::bwd_extra), for the FLOPs view; "" where it has none
//   plain words   one sentence for a student: what the op does
#define GS_OP_TYPES(X)                                                                                 \
  X(embedding, Embedding, "embedding", false, "embedding scatters",                                    \
    "Looks up one row of the token-embedding table for each token id.",                                \
    "X[b,t,:] = wte[x[b,t], :]",                                                                       \
    "∂X[b,t,:]/∂wte[v,:] = 1 if x[b,t] = v, else 0   (a one-hot gather)",                              \
    "∂L/∂wte[v,:] = Σ_{b,t : x[b,t]=v} ∂L/∂X[b,t,:]   (a repeated token adds up its rows)")            \
  X(pos_embedding, PosEmbedding, "pos_embedding", false, "embedding scatters",                         \
    "Adds to each position its own learned position vector.",                                          \
    "H = X + wpe[0…T−1]   (wpe broadcast over the batch)",                                             \
    "∂H/∂X = 1,   ∂H[b,t,:]/∂wpe[t,:] = 1",                                                            \
    "∂L/∂X = ∂L/∂H;   ∂L/∂wpe[t,:] = Σ_b ∂L/∂H[b,t,:]")                                                \
  X(layernorm, LayerNorm, "layernorm", true, "layernorm parameter gradients",                          \
    "Rescales each row to mean 0 and variance 1, then applies a learned scale γ and shift β.",         \
    "μ = (1/C)·Σ_c x_c;  σ² = (1/C)·Σ_c (x_c − μ)²;  x̂ = (x − μ)/√(σ² + ε);  y = γ ⊙ x̂ + β",         \
    "∂y_j/∂x_i = γ_j/√(σ²+ε) · (δ_ij − 1/C − x̂_i·x̂_j/C)   (one C×C Jacobian per row)",               \
    "v = ∂L/∂y ⊙ γ;  ∂L/∂x = (v − mean(v) − x̂ ⊙ mean(v ⊙ x̂)) / √(σ²+ε);  "                           \
    "∂L/∂γ = Σ_rows ∂L/∂y ⊙ x̂;  ∂L/∂β = Σ_rows ∂L/∂y")                                                \
  X(linear, Linear, "linear", false, "bias gradients (linear)",                                        \
    "Multiplies each row by a weight matrix and adds a bias: a fully connected layer.",                \
    "Y = X·W + b   (W is in×out)",                                                                     \
    "∂Y/∂X acts as ·Wᵀ;   ∂Y/∂W acts as Xᵀ·;   ∂Y/∂b = 1",                                             \
    "∂L/∂X = ∂L/∂Y·Wᵀ;   ∂L/∂W = Xᵀ·∂L/∂Y;   ∂L/∂b = Σ_rows ∂L/∂Y")                                    \
  X(matmul, MatMul, "matmul", false, "matmuls of the lesson models",                                   \
    "Multiplies each row by a weight matrix (no bias).",                                               \
    "Y = X·W   (W is in×out)",                                                                         \
    "∂Y/∂X acts as ·Wᵀ;   ∂Y/∂W acts as Xᵀ·",                                                          \
    "∂L/∂X = ∂L/∂Y·Wᵀ;   ∂L/∂W = Xᵀ·∂L/∂Y")                                                            \
  X(lora_down, LoraDown, "lora_down", false, "LoRA ops",                                               \
    "LoRA's first factor: squeezes each row down to r numbers.",                                       \
    "U = X·A   (A is in×r)",                                                                           \
    "∂U/∂X acts as ·Aᵀ;   ∂U/∂A acts as Xᵀ·",                                                          \
    "∂L/∂X = ∂L/∂U·Aᵀ;   ∂L/∂A = Xᵀ·∂L/∂U")                                                            \
  X(lora_up, LoraUp, "lora_up", false, "LoRA ops",                                                     \
    "LoRA's second factor: expands the r numbers back and adds them, scaled by α/r, to the frozen layer's output.", \
    "Y' = Y + (α/r)·U·B   (B is r×out)",                                                               \
    "∂Y'/∂Y = 1;   ∂Y'/∂U acts as ·(α/r)Bᵀ;   ∂Y'/∂B acts as (α/r)Uᵀ·",                                \
    "∂L/∂Y = ∂L/∂Y';   ∂L/∂U = (α/r)·∂L/∂Y'·Bᵀ;   ∂L/∂B = (α/r)·Uᵀ·∂L/∂Y'")                            \
  X(split_heads, SplitHeads, "split_heads", false, "",                                                 \
    "Cuts the query, key or value columns into one slice per attention head.",                         \
    "q_j[b,t,:] = qkv[b,t, j·d … j·d+d−1]   (k reads from column C on, v from 2C)",                    \
    "each output entry is one input entry: ∂ = 1 on that pair, 0 elsewhere",                           \
    "∂L/∂qkv gets ∂L/∂q_j in q's columns and 0 in the others")                                         \
  X(query_key, QueryKey, "query@key", false, "",                                                       \
    "Scores how well each query matches each key: one dot product per pair of positions.",             \
    "S = Q·Kᵀ   (per batch row and head: T×d · d×T)",                                                  \
    "∂S/∂Q acts as ·K;   ∂S/∂K acts as (∂L/∂S)ᵀ·Q",                                                    \
    "∂L/∂Q = ∂L/∂S·K;   ∂L/∂K = (∂L/∂S)ᵀ·Q")                                                           \
  X(scale, Scale, "scale", false, "",                                                                  \
    "Divides every score by √d, so the scores do not grow with the head size.",                        \
    "S' = S / √d",                                                                                     \
    "∂S'/∂S = 1/√d   (the same number everywhere)",                                                    \
    "∂L/∂S = ∂L/∂S' / √d")                                                                             \
  X(causal_mask, CausalMask, "causal_mask", false, "",                                                 \
    "Hides the future: a position may only look at itself and earlier positions.",                     \
    "M[i,j] = S'[i,j] where key j ≤ query i, −∞ where j > i",                                          \
    "∂M/∂S' = 1 on and below the diagonal, 0 above it",                                                \
    "∂L/∂S' = ∂L/∂M ⊙ mask   (no gradient reaches a future key)")                                      \
  X(softmax, Softmax, "softmax", true, "",                                                             \
    "Turns each row of scores into weights that are positive and add up to 1.",                        \
    "P[i,j] = exp(M[i,j] − max_k M[i,k]) / Σ_k exp(M[i,k] − max_k M[i,k])",                            \
    "∂p_j/∂m_i = p_j·(δ_ij − p_i),  i.e. J = diag(p) − p·pᵀ   (one T×T Jacobian per row)",             \
    "∂L/∂M = P ⊙ (∂L/∂P − Σ_j ∂L/∂P_j·P_j)")                                                           \
  X(attn_value, AttnValue, "attn@value", false, "",                                                    \
    "Mixes the value vectors, each position taking the weighted average its attention weights ask for.", \
    "O = P·V   (per batch row and head: T×T · T×d)",                                                   \
    "∂O/∂P acts as ·Vᵀ;   ∂O/∂V acts as Pᵀ·",                                                          \
    "∂L/∂P = ∂L/∂O·Vᵀ;   ∂L/∂V = Pᵀ·∂L/∂O")                                                            \
  X(merge_heads, MergeHeads, "merge_heads", false, "",                                                 \
    "Lays the heads' outputs side by side again, back to C columns.",                                  \
    "Y[b,t, j·d … j·d+d−1] = O_j[b,t,:]   (heads side by side again)",                                 \
    "each output entry is one input entry: ∂ = 1 on that pair, 0 elsewhere",                           \
    "∂L/∂O_j[b,t,:] = ∂L/∂Y[b,t, j·d … j·d+d−1]")                                                      \
  X(residual_add, ResidualAdd, "residual_add", false, "",                                              \
    "Adds two values entry by entry (a branch's result back onto the stream it started from).",        \
    "H' = H + F",                                                                                      \
    "∂H'/∂H = 1;   ∂H'/∂F = 1",                                                                        \
    "∂L/∂H = ∂L/∂H' (H's other use adds its own share);   ∂L/∂F = ∂L/∂H'")                             \
  X(gelu, Gelu, "gelu", false, "",                                                                     \
    "A smooth switch: lets positive inputs through, squashes negative ones towards 0.",                \
    "g = ½·u·(1 + tanh(s)),   s = √(2/π)·(u + 0.044715·u³)",                                           \
    "g'(u) = ½·(1 + tanh(s)) + ½·u·√(2/π)·(1 + 3·0.044715·u²)·(1 − tanh²(s))",                         \
    "∂L/∂u = ∂L/∂g ⊙ g'(u)")                                                                           \
  X(mul_param, MulParam, "mul_param", false, "arithmetic of the lesson models",                        \
    "Multiplies every entry by one learned number.",                                                   \
    "y = a·x   (a: one parameter, the same for every entry)",                                          \
    "∂y/∂x = a;   ∂y/∂a = x",                                                                          \
    "∂L/∂x = a·∂L/∂y;   ∂L/∂a = Σ x·∂L/∂y")                                                            \
  X(add_param, AddParam, "add_param", false, "arithmetic of the lesson models",                        \
    "Adds one learned number to every entry.",                                                         \
    "y = x + b   (b: one parameter, the same for every entry)",                                        \
    "∂y/∂x = 1;   ∂y/∂b = 1",                                                                          \
    "∂L/∂x = ∂L/∂y;   ∂L/∂b = Σ ∂L/∂y")                                                                \
  X(subtract, Subtract, "subtract", false, "arithmetic of the lesson models",                          \
    "Takes the target away from the prediction: how far off each entry is.",                           \
    "d = y − t",                                                                                       \
    "∂d/∂y = 1;   ∂d/∂t = −1",                                                                         \
    "∂L/∂y = ∂L/∂d;   ∂L/∂t = −∂L/∂d")                                                                 \
  X(mean_square, MeanSquare, "mean_square", false, "arithmetic of the lesson models",                  \
    "The loss: squares every error and averages them into one number.",                                \
    "L = (1/N)·Σ_i d_i²   (N entries)",                                                                \
    "∂L/∂d_i = 2·d_i / N",                                                                             \
    "∂L/∂d = (2/N)·d·∂L/∂L   (∂L/∂L = 1)")                                                             \
  X(lm_head, LmHead, "lm_head", false, "",                                                             \
    "Scores every token of the vocabulary as the next one, with the embedding table itself.",          \
    "logits = f·wteᵀ   (the head is tied to the token embedding)",                                     \
    "∂logits/∂f acts as ·wte;   ∂logits/∂wte acts as (∂L/∂logits)ᵀ·f",                                 \
    "∂L/∂f = ∂L/∂logits·wte;   ∂L/∂wte += (∂L/∂logits)ᵀ·f")                                            \
  X(log_softmax, LogSoftmax, "log_softmax", true, "log-softmax backward",                              \
    "Turns each row of scores into log-probabilities.",                                                \
    "ℓ_i = z_i − log Σ_j exp(z_j)",                                                                    \
    "∂ℓ_i/∂z_j = δ_ij − p_j   (p = softmax(z); one V×V Jacobian per row)",                             \
    "∂L/∂z = ∂L/∂ℓ − p·Σ_i ∂L/∂ℓ_i;   fused with the NLL: ∂L/∂z = (P − onehot(y)) / (number of rows)") \
  X(nll, Nll, "nll", false, "",                                                                        \
    "The loss: the average, over rows, of minus the log-probability given to the right answer.",       \
    "loss = −(1/M)·Σ_m ℓ[m, y[m]]   (M rows: B·T positions, or n examples)",                           \
    "∂loss/∂ℓ[m,v] = −1/M where v = y[m], else 0",                                                     \
    "∂L/∂ℓ = −onehot(y) / M")                                                                       \
  X(add, Add, "add", false, "custom-model arithmetic",   \
    "Adds two values entry by entry (a single number, or a row vector, is used for every entry).",   \
    "y = a + b",   \
    "∂y/∂a = 1;   ∂y/∂b = 1",   \
    "∂L/∂a = ∂L/∂y;   ∂L/∂b = ∂L/∂y   (summed over the entries a broadcast operand was used for)")   \
  X(sub, Sub, "sub", false, "custom-model arithmetic",   \
    "Takes one value from another, entry by entry.",   \
    "y = a − b",   \
    "∂y/∂a = 1;   ∂y/∂b = −1",   \
    "∂L/∂a = ∂L/∂y;   ∂L/∂b = −∂L/∂y")   \
  X(mul, Mul, "mul", false, "custom-model arithmetic",   \
    "Multiplies two values entry by entry.",   \
    "y = a · b",   \
    "∂y/∂a = b;   ∂y/∂b = a   (multiply swaps)",   \
    "∂L/∂a = b ⊙ ∂L/∂y;   ∂L/∂b = a ⊙ ∂L/∂y")   \
  X(div, Div, "div", false, "custom-model arithmetic",   \
    "Divides one value by another, entry by entry.",   \
    "y = a / b",   \
    "∂y/∂a = 1/b;   ∂y/∂b = −a/b²",   \
    "∂L/∂a = ∂L/∂y / b;   ∂L/∂b = −a/b² ⊙ ∂L/∂y")   \
  X(max, Max, "max", false, "custom-model arithmetic",   \
    "Keeps the larger of two values, entry by entry.",   \
    "y = max(a, b)",   \
    "∂y/∂a = 1 where a ≥ b, else 0;   ∂y/∂b = 1 where b > a, else 0",   \
    "the larger operand takes ∂L/∂y, the other 0")   \
  X(neg, Neg, "neg", false, "custom-model arithmetic",   \
    "Flips the sign of every entry.",   \
    "y = −x",   \
    "∂y/∂x = −1",   \
    "∂L/∂x = −∂L/∂y")   \
  X(pow, Pow, "pow", false, "custom-model arithmetic",   \
    "Raises every entry to a fixed power.",   \
    "y = x ** c   (c a number)",   \
    "∂y/∂x = c·x^(c−1)",   \
    "∂L/∂x = c·x^(c−1) ⊙ ∂L/∂y")   \
  X(relu, Relu, "relu", false, "custom-model arithmetic",   \
    "A gate: passes positive entries, turns the rest into 0.",   \
    "y = max(x, 0)",   \
    "∂y/∂x = 1 where x > 0, else 0",   \
    "∂L/∂x = ∂L/∂y where x > 0, else 0")   \
  X(tanh, Tanh, "tanh", false, "custom-model arithmetic",   \
    "Squashes every entry into −1 … 1.",   \
    "y = tanh(x)",   \
    "∂y/∂x = 1 − y²",   \
    "∂L/∂x = (1 − y²) ⊙ ∂L/∂y")   \
  X(sigmoid, Sigmoid, "sigmoid", false, "custom-model arithmetic",   \
    "Squashes every entry into 0 … 1 (the logistic curve).",   \
    "y = σ(x) = 1 / (1 + e^−x)",   \
    "∂y/∂x = y·(1 − y)",   \
    "∂L/∂x = y·(1 − y) ⊙ ∂L/∂y")   \
  X(exp, Exp, "exp", false, "custom-model arithmetic",   \
    "The exponential of every entry.",   \
    "y = e^x",   \
    "∂y/∂x = e^x = y",   \
    "∂L/∂x = y ⊙ ∂L/∂y")   \
  X(log, Log, "log", false, "custom-model arithmetic",   \
    "The natural logarithm of every entry.",   \
    "y = ln x",   \
    "∂y/∂x = 1/x",   \
    "∂L/∂x = ∂L/∂y / x")   \
  X(abs, Abs, "abs", false, "custom-model arithmetic",   \
    "The absolute value of every entry.",   \
    "y = |x|",   \
    "∂y/∂x = sign(x)   (0 at 0)",   \
    "∂L/∂x = sign(x) ⊙ ∂L/∂y")   \
  X(sum, Sum, "sum", false, "custom-model arithmetic",   \
    "Adds up every entry into one number.",   \
    "y = Σ_i x_i",   \
    "∂y/∂x_i = 1",   \
    "∂L/∂x_i = ∂L/∂y")   \
  X(mean, Mean, "mean", false, "custom-model arithmetic",   \
    "Averages every entry into one number.",   \
    "y = (1/N)·Σ_i x_i",   \
    "∂y/∂x_i = 1/N",   \
    "∂L/∂x_i = ∂L/∂y / N")   \
  X(matprod, MatProd, "matprod", false, "custom-model arithmetic",   \
    "The matrix product of two values (rows of the left times columns of the right).",   \
    "Y = A @ B   ([n,k] @ [k,m])",   \
    "∂Y/∂A acts as ·Bᵀ;   ∂Y/∂B acts as Aᵀ·",   \
    "∂L/∂A = ∂L/∂Y·Bᵀ;   ∂L/∂B = Aᵀ·∂L/∂Y")

enum class OpType : uint8_t {
#define GS_X(id, impl, name, rowj, extra, plain, fwd, local, bwd) id,
  GS_OP_TYPES(GS_X)
#undef GS_X
};

struct OpTypeInfo {
  const char* name;
  bool row_jacobian;  // the local derivative is shown one row's Jacobian at a time
  const char* extra;  // what its backward FLOPs outside the closed form are ("" none)
  const char* plain;  // one sentence in plain words
  const char* forward;
  const char* local;
  const char* backward;
};

constexpr OpTypeInfo kOpTypeInfo[] = {
#define GS_X(id, impl, name, rowj, extra, plain, fwd, local, bwd) {name, rowj, extra, plain, fwd, local, bwd},
    GS_OP_TYPES(GS_X)
#undef GS_X
};
constexpr int kNumOpTypes = sizeof(kOpTypeInfo) / sizeof(kOpTypeInfo[0]);
#define GS_X(id, impl, name, rowj, extra, plain, fwd, local, bwd) +1
static_assert(kNumOpTypes == 0 GS_OP_TYPES(GS_X), "op table and enum out of step");
#undef GS_X

inline const OpTypeInfo& info(OpType t) { return kOpTypeInfo[static_cast<int>(t)]; }

// Classic backprop mistakes a teacher can plant into one op's backward (planted-mistake mode).
#define GS_MISTAKES(X)                                                                              \
  X(none, "none", "the correct backward")                                                          \
  X(missing_transpose, "missing transpose", "multiplies by a matrix where its transpose belongs")  \
  X(dropped_term, "dropped Jacobian term", "leaves out the coupling term of a softmax/layernorm Jacobian") \
  X(flipped_sign, "flipped sign", "sends the input gradient back with the wrong sign")             \
  X(forgotten_accumulation, "forgotten accumulation",                                               \
    "overwrites a gradient where a value used twice must add its contributions")                    \
  X(forgotten_scale, "forgotten scale", "passes the gradient through a scaling (1/√d, LoRA's α/r) unscaled") \
  X(wrong_derivative, "wrong local derivative",                                                    \
    "multiplies by the wrong local derivative (the other factor, or a constant left out)")

enum class Mistake : uint8_t {
#define GS_X(id, name, desc) id,
  GS_MISTAKES(GS_X)
#undef GS_X
};
struct MistakeInfo {
  const char* id;  // "dropped_term"
  const char* name;
  const char* description;
};
constexpr MistakeInfo kMistakeInfo[] = {
#define GS_X(id, name, desc) {#id, name, desc},
    GS_MISTAKES(GS_X)
#undef GS_X
};
constexpr int kNumMistakes = sizeof(kMistakeInfo) / sizeof(kMistakeInfo[0]);
inline const MistakeInfo& info(Mistake m) { return kMistakeInfo[static_cast<int>(m)]; }

// Floating-point operations of one op. `bwd_seed` is the part that the closed form of
// "Backpropagating through GPT-2" counts (it sums exactly these); `bwd_extra` is what that
// post leaves out (bias gradients, log-softmax, embedding scatters, LoRA, the lesson ops).
struct Flops {
  int64_t fwd = 0;
  int64_t bwd_seed = 0;
  int64_t bwd_extra = 0;
  int64_t bwd() const { return bwd_seed + bwd_extra; }
};

}  // namespace gs
