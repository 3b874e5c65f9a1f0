#pragma once
// The op types of the tape, each named once in an X-macro: enum, name, and its formulas as
// text (forward; local derivative; backward). The code for each type lives in one header
// under core/src/ops/, which also holds its FLOP counts and its local-derivative view.
#include <cstdint>
#include <string>

namespace gs {

// X(id, "name", "forward", "local derivative", "backward")
#define GS_OP_TYPES(X)                                                                                \
  X(embedding, "embedding",                                                                           \
    "X[b,t,:] = wte[x[b,t], :]",                                                                      \
    "∂X[b,t,:]/∂wte[v,:] = 1 if x[b,t] = v, else 0   (a one-hot gather)",                            \
    "∂L/∂wte[v,:] = Σ_{b,t : x[b,t]=v} ∂L/∂X[b,t,:]   (a repeated token adds up its rows)")           \
  X(pos_embedding, "pos_embedding",                                                                   \
    "H = X + wpe[0…T−1]   (wpe broadcast over the batch)",                                           \
    "∂H/∂X = 1,   ∂H[b,t,:]/∂wpe[t,:] = 1",                                                           \
    "∂L/∂X = ∂L/∂H;   ∂L/∂wpe[t,:] = Σ_b ∂L/∂H[b,t,:]")                                               \
  X(layernorm, "layernorm",                                                                           \
    "μ = (1/C)·Σ_c x_c;  σ² = (1/C)·Σ_c (x_c − μ)²;  x̂ = (x − μ)/√(σ² + ε);  y = γ ⊙ x̂ + β",        \
    "∂y_j/∂x_i = γ_j/√(σ²+ε) · (δ_ij − 1/C − x̂_i·x̂_j/C)   (one C×C Jacobian per row)",              \
    "v = ∂L/∂y ⊙ γ;  ∂L/∂x = (v − mean(v) − x̂ ⊙ mean(v ⊙ x̂)) / √(σ²+ε);  "                         \
    "∂L/∂γ = Σ_rows ∂L/∂y ⊙ x̂;  ∂L/∂β = Σ_rows ∂L/∂y")                                               \
  X(linear, "linear",                                                                                 \
    "Y = X·W + b   (W is in×out)",                                                                    \
    "∂Y/∂X acts as ·Wᵀ;   ∂Y/∂W acts as Xᵀ·;   ∂Y/∂b = 1",                                            \
    "∂L/∂X = ∂L/∂Y·Wᵀ;   ∂L/∂W = Xᵀ·∂L/∂Y;   ∂L/∂b = Σ_rows ∂L/∂Y")                                  \
  X(lora_down, "lora_down",                                                                           \
    "U = X·A   (A is in×r)",                                                                          \
    "∂U/∂X acts as ·Aᵀ;   ∂U/∂A acts as Xᵀ·",                                                         \
    "∂L/∂X = ∂L/∂U·Aᵀ;   ∂L/∂A = Xᵀ·∂L/∂U")                                                           \
  X(lora_up, "lora_up",                                                                               \
    "Y' = Y + (α/r)·U·B   (B is r×out)",                                                              \
    "∂Y'/∂Y = 1;   ∂Y'/∂U acts as ·(α/r)Bᵀ;   ∂Y'/∂B acts as (α/r)Uᵀ·",                               \
    "∂L/∂Y = ∂L/∂Y';   ∂L/∂U = (α/r)·∂L/∂Y'·Bᵀ;   ∂L/∂B = (α/r)·Uᵀ·∂L/∂Y'")                          \
  X(split_heads, "split_heads",                                                                       \
    "q_j[b,t,:] = qkv[b,t, j·d … j·d+d−1]   (k reads from column C on, v from 2C)",                   \
    "each output entry is one input entry: ∂ = 1 on that pair, 0 elsewhere",                          \
    "∂L/∂qkv gets ∂L/∂q_j in q's columns and 0 in the others")                                        \
  X(query_key, "query@key",                                                                           \
    "S = Q·Kᵀ   (per batch row and head: T×d · d×T)",                                                 \
    "∂S/∂Q acts as ·K;   ∂S/∂K acts as (∂L/∂S)ᵀ·Q",                                                   \
    "∂L/∂Q = ∂L/∂S·K;   ∂L/∂K = (∂L/∂S)ᵀ·Q")                                                          \
  X(scale, "scale",                                                                                   \
    "S' = S / √d",                                                                                    \
    "∂S'/∂S = 1/√d   (the same number everywhere)",                                                   \
    "∂L/∂S = ∂L/∂S' / √d")                                                                            \
  X(causal_mask, "causal_mask",                                                                       \
    "M[i,j] = S'[i,j] where key j ≤ query i, −∞ where j > i",                                         \
    "∂M/∂S' = 1 on and below the diagonal, 0 above it",                                               \
    "∂L/∂S' = ∂L/∂M ⊙ mask   (no gradient reaches a future key)")                                     \
  X(softmax, "softmax",                                                                               \
    "P[i,j] = exp(M[i,j] − max_k M[i,k]) / Σ_k exp(M[i,k] − max_k M[i,k])",                           \
    "∂p_j/∂m_i = p_j·(δ_ij − p_i),  i.e. J = diag(p) − p·pᵀ   (one T×T Jacobian per row)",           \
    "∂L/∂M = P ⊙ (∂L/∂P − Σ_j ∂L/∂P_j·P_j)")                                                          \
  X(attn_value, "attn@value",                                                                         \
    "O = P·V   (per batch row and head: T×T · T×d)",                                                  \
    "∂O/∂P acts as ·Vᵀ;   ∂O/∂V acts as Pᵀ·",                                                         \
    "∂L/∂P = ∂L/∂O·Vᵀ;   ∂L/∂V = Pᵀ·∂L/∂O")                                                           \
  X(merge_heads, "merge_heads",                                                                       \
    "Y[b,t, j·d … j·d+d−1] = O_j[b,t,:]   (heads side by side again)",                                \
    "each output entry is one input entry: ∂ = 1 on that pair, 0 elsewhere",                          \
    "∂L/∂O_j[b,t,:] = ∂L/∂Y[b,t, j·d … j·d+d−1]")                                                     \
  X(residual_add, "residual_add",                                                                     \
    "H' = H + F(H)",                                                                                  \
    "∂H'/∂H = 1;   ∂H'/∂F = 1",                                                                       \
    "∂L/∂H = ∂L/∂H' (H's other use adds its own share);   ∂L/∂F = ∂L/∂H'")                            \
  X(gelu, "gelu",                                                                                     \
    "g = ½·u·(1 + tanh(s)),   s = √(2/π)·(u + 0.044715·u³)",                                          \
    "g'(u) = ½·(1 + tanh(s)) + ½·u·√(2/π)·(1 + 3·0.044715·u²)·(1 − tanh²(s))",                        \
    "∂L/∂u = ∂L/∂g ⊙ g'(u)")                                                                          \
  X(lm_head, "lm_head",                                                                               \
    "logits = f·wteᵀ   (the head is tied to the token embedding)",                                    \
    "∂logits/∂f acts as ·wte;   ∂logits/∂wte acts as (∂L/∂logits)ᵀ·f",                                \
    "∂L/∂f = ∂L/∂logits·wte;   ∂L/∂wte += (∂L/∂logits)ᵀ·f")                                           \
  X(log_softmax, "log_softmax",                                                                       \
    "ℓ_i = z_i − log Σ_j exp(z_j)",                                                                   \
    "∂ℓ_i/∂z_j = δ_ij − p_j   (p = softmax(z); one V×V Jacobian per row)",                            \
    "∂L/∂z = ∂L/∂ℓ − p·Σ_i ∂L/∂ℓ_i;   fused with the NLL: ∂L/∂z = (P − onehot(y)) / (B·T)")           \
  X(nll, "nll",                                                                                       \
    "loss = −(1/(B·T))·Σ_{b,t} ℓ[b,t, y[b,t]]",                                                       \
    "∂loss/∂ℓ[b,t,v] = −1/(B·T) where v = y[b,t], else 0",                                            \
    "∂L/∂ℓ = −onehot(y) / (B·T)")

enum class OpType : uint8_t {
#define GS_X(id, name, fwd, local, bwd) id,
  GS_OP_TYPES(GS_X)
#undef GS_X
};

struct OpTypeInfo {
  const char* name;
  const char* forward;
  const char* local;
  const char* backward;
};

constexpr OpTypeInfo kOpTypeInfo[] = {
#define GS_X(id, name, fwd, local, bwd) {name, fwd, local, bwd},
    GS_OP_TYPES(GS_X)
#undef GS_X
};
constexpr int kNumOpTypes = sizeof(kOpTypeInfo) / sizeof(kOpTypeInfo[0]);
static_assert(kNumOpTypes == static_cast<int>(OpType::nll) + 1, "op table and enum out of step");

inline const OpTypeInfo& info(OpType t) { return kOpTypeInfo[static_cast<int>(t)]; }

// Classic backprop mistakes a teacher can plant into one op's backward (planted-mistake mode).
#define GS_MISTAKES(X)                                                                              \
  X(none, "none", "the correct backward")                                                          \
  X(missing_transpose, "missing transpose", "multiplies by a matrix where its transpose belongs")  \
  X(dropped_term, "dropped Jacobian term", "leaves out the coupling term of a softmax/layernorm Jacobian") \
  X(flipped_sign, "flipped sign", "sends the input gradient back with the wrong sign")             \
  X(forgotten_accumulation, "forgotten accumulation",                                               \
    "overwrites a gradient where a value used twice must add its contributions")                    \
  X(forgotten_scale, "forgotten 1/√d", "passes the gradient through the 1/√d scaling unscaled")

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

// Floating-point operations of one op. `bwd_seed` is the part seed 004 counts (its closed form
// sums exactly these); `bwd_extra` is what it leaves out (bias gradients, log-softmax,
// embedding scatters, LoRA).
struct Flops {
  int64_t fwd = 0;
  int64_t bwd_seed = 0;
  int64_t bwd_extra = 0;
  int64_t bwd() const { return bwd_seed + bwd_extra; }
};

}  // namespace gs
