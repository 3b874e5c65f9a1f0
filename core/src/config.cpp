#include "gradscope/config.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gradscope/error.h"
#include "gradscope/memory.h"
#include "gradscope/program.h"
#include "gradscope/tensor.h"

namespace gs {

std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(s[i]);
  }
  return out + ")";
}

std::string multi_index_str(const Shape& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    const int64_t n = std::max<int64_t>(shape[d], 1);
    idx[d] = flat % n;
    flat /= n;
  }
  std::string s = "[";
  for (size_t i = 0; i < idx.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(idx[i]);
  }
  return s + "]";
}

const char* lora_target_name(LoraTarget t) {
  switch (t) {
    case LoraTarget::attn_c_attn: return "attn.c_attn";
    case LoraTarget::attn_c_proj: return "attn.c_proj";
    case LoraTarget::mlp_c_fc: return "mlp.c_fc";
    case LoraTarget::mlp_c_proj: return "mlp.c_proj";
  }
  return "?";
}

LoraTarget parse_lora_target(const std::string& s) {
  for (auto t : {LoraTarget::attn_c_attn, LoraTarget::attn_c_proj, LoraTarget::mlp_c_fc, LoraTarget::mlp_c_proj})
    if (s == lora_target_name(t)) return t;
  throw Error("unknown LoRA target '" + s + "' (expected attn.c_attn, attn.c_proj, mlp.c_fc or mlp.c_proj)");
}

std::vector<std::string> split_comma_list(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0;;) {
    const size_t j = std::min(s.find(',', i), s.size());
    const std::string item = s.substr(i, j - i);
    const size_t a = item.find_first_not_of(' ');
    out.push_back(a == std::string::npos ? std::string() : item.substr(a, item.find_last_not_of(' ') - a + 1));
    if (j == s.size()) return out;
    i = j + 1;
  }
}

std::vector<LoraTarget> parse_lora_targets(const std::string& list) {
  std::vector<LoraTarget> out;
  if (list.empty()) throw Error("--lora-targets is empty");
  for (const std::string& item : split_comma_list(list)) {
    LoraTarget t = parse_lora_target(item);
    for (auto o : out)
      if (o == t) throw Error("LoRA target '" + item + "' is listed twice");
    out.push_back(t);
  }
  if (out.empty()) throw Error("--lora-targets is empty");
  return out;
}

bool Config::lora_on(LoraTarget t) const {
  if (!lora()) return false;
  for (auto x : lora_targets)
    if (x == t) return true;
  return false;
}

const char* dtype_name(DType d) { return d == DType::f32 ? "f32" : "f64"; }

bool Config::is_gpt2() const { return is_gpt2_program(program); }

void Config::validate() const {
  if (!is_gpt2()) {
    const auto owner = program_for(*this);
    const Program& p = *owner;
    for (const auto& [name, v] : dims) {
      bool known = false;
      for (const DimInfo& d : p.dims()) known = known || d.name == name;
      if (!known) throw Error("program " + program + " has no size '" + name + "'");
    }
    p.validate(*this);
    return;
  }
  auto positive = [](const char* what, long v) {
    if (v <= 0) throw Error(std::string(what) + " must be positive, got " + std::to_string(v));
  };
  positive("--layers (n_layer)", n_layer);
  positive("--heads (n_head)", n_head);
  positive("--embd (n_embd)", n_embd);
  positive("--vocab (vocab_size)", vocab_size);
  positive("--ctx (n_ctx)", n_ctx);
  positive("--seq (T)", seq_len);
  positive("--batch (B)", batch);
  if (n_embd % n_head != 0)
    throw Error("n_embd " + std::to_string(n_embd) + " is not divisible by n_head " + std::to_string(n_head) +
                " (C % H must be 0)");
  if (seq_len > n_ctx)
    throw Error("sequence length T=" + std::to_string(seq_len) + " exceeds n_ctx=" + std::to_string(n_ctx));
  if (lora_rank < 0) throw Error("--lora-rank must be >= 0, got " + std::to_string(lora_rank));
  if (lora() && lora_targets.empty()) throw Error("LoRA needs at least one target");
  if (lora() && !(lora_alpha > 0 && std::isfinite(lora_alpha))) throw Error("--lora-alpha must be a positive number");
  if (lora() && lora_rank > n_embd)
    throw Error("--lora-rank " + std::to_string(lora_rank) + " is larger than n_embd " + std::to_string(n_embd) +
                ", the smaller side of every weight LoRA adapts (a higher rank adds nothing)");
  // Guard against sizes whose buffers cannot be allocated on any real machine (the numbers are
  // doubles: shown as such, never cast to an integer that may not hold them).
  auto about = [](double v) {
    char b[32];
    snprintf(b, sizeof b, "%.3g", v);
    return std::string(b);
  };
  const double big = double(batch) * seq_len * std::max<double>(vocab_size, 4.0 * n_embd);
  if (big > 4e9) throw Error("B*T*max(V,4C) = " + about(big) + " is too large (the limit is 4e+09)");
  const double params = (double(vocab_size) + n_ctx) * n_embd + double(n_layer) * 12.0 * n_embd * n_embd + lora_params();
  if (params > 4e9) throw Error("the model would have about " + about(params) + " parameters; that is too large (the limit is 4e+09)");
}

double Config::lora_params() const {
  if (!lora()) return 0;
  const double C = n_embd, r = lora_rank;
  double per_layer = 0;
  for (auto t : lora_targets) {
    const double in = t == LoraTarget::mlp_c_proj ? 4 * C : C;
    const double out = t == LoraTarget::attn_c_attn ? 3 * C : t == LoraTarget::mlp_c_fc ? 4 * C : C;
    per_layer += r * (in + out);  // A (in, r) and B (r, out)
  }
  return double(n_layer) * per_layer;
}

std::string Config::json() const {
  nlohmann::json j;
  if (!is_gpt2()) {
    j["program"] = program;
    const auto p = program_for(*this);
    for (const DimInfo& d : p->dims()) j[d.name] = dim(d.name);
    for (const auto& [key, value] : p->settings_record(*this)) j[key] = nlohmann::json::parse(value);
    j["dtype"] = dtype_name(dtype);
    j["seed"] = seed;
    return j.dump();
  }
  j["program"] = program;
  j["n_layer"] = n_layer;
  j["n_head"] = n_head;
  j["n_embd"] = n_embd;
  j["vocab_size"] = vocab_size;
  j["n_ctx"] = n_ctx;
  j["seq_len"] = seq_len;
  j["batch"] = batch;
  j["dtype"] = dtype_name(dtype);
  j["lora_rank"] = lora_rank;
  j["lora_alpha"] = lora_alpha;
  std::vector<std::string> t;
  if (lora())
    for (auto x : lora_targets) t.push_back(lora_target_name(x));
  j["lora_targets"] = t;
  j["seed"] = seed;
  j["preset"] = preset;
  return j.dump();
}

double Config::estimated_bytes() const {
  if (!is_gpt2()) return program_for(*this)->estimated_bytes(*this);
  const double B = batch, T = seq_len, C = n_embd, H = n_head, V = vocab_size, L = n_layer;
  const double params = V * C + double(n_ctx) * C + L * (12 * C * C + 13 * C) + lora_params();
  const double per_layer = 60 * B * T * C + 10 * B * H * T * T;
  double lora_values = 0;  // per adapted linear: U = X·A (B,T,r) and the sum (B,T,out), each with its gradient and share
  if (lora())
    for (auto t : lora_targets) {
      const double out = t == LoraTarget::attn_c_attn ? 3 * C : t == LoraTarget::mlp_c_fc ? 4 * C : C;
      lora_values += 3 * B * T * (double(lora_rank) + out);
    }
  // wte feeds two ops (the embedding and the tied lm_head): the tape keeps each one's share of
  // its gradient as well as the sum.
  const double floats = L * (per_layer + lora_values) + 6 * B * T * V + 2 * V * C + 4 * params;
  return floats * (dtype == DType::f64 ? 8 : 4);
}

void Config::check_fits_in_memory() const { check_memory(estimated_bytes(), "building this model and its tape"); }

Config preset_config(const std::string& name) {
  Config c;
  c.preset = name;
  if (name == "tiny") {
    c.n_layer = 2; c.n_head = 2; c.n_embd = 16; c.n_ctx = 32; c.seq_len = 8; c.vocab_size = 0;
  } else if (name == "small") {
    c.n_layer = 4; c.n_head = 4; c.n_embd = 128; c.n_ctx = 128; c.seq_len = 64; c.vocab_size = 0;
    c.dtype = DType::f32;
  } else if (name == "gpt2") {
    c.n_layer = 12; c.n_head = 12; c.n_embd = 768; c.n_ctx = 1024; c.seq_len = 64; c.vocab_size = 50257;
    c.dtype = DType::f32;
  } else {
    throw Error("unknown preset '" + name + "' (expected tiny, small or gpt2)");
  }
  return c;
}

}  // namespace gs
