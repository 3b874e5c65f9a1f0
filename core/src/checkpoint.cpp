#include "gradscope/checkpoint.h"
#include "gradscope/program.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <unordered_map>

#include "gradscope/error.h"
#include "gradscope/fileio.h"
#include "gradscope/memory.h"
#include "gradscope/tokenizer.h"

namespace gs {

namespace {

using json = nlohmann::json;

constexpr int64_t kMaxDim = int64_t(1) << 30;  // any size of a config: 1 … 2^30

template <class T>
st::TensorRef tensor_ref(const std::string& name, const Shape& shape, const T* data, int64_t n) {
  return {name, std::is_same_v<T, double> ? st::DType::F64 : st::DType::F32, shape, data,
          static_cast<size_t>(n) * sizeof(T)};
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A JSON value as a message shows it: short, on one line.
std::string shown_json(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// A positive integer of a config (1 … 2^30): `where` names it, e.g. "config metadata 'n_head'".
int config_int(const json& v, const std::string& where, int64_t lo = 1) {
  if (!v.is_number_integer())
    throw Error(where + " is " + shown_json(v) + ", not an integer");
  const bool neg = v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0;
  if (neg || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(kMaxDim)) || v.get<int64_t>() < lo ||
      v.get<int64_t>() > kMaxDim)
    throw Error(where + " is " + shown_json(v) + ", out of range (" + std::to_string(lo) + " … " +
                std::to_string(kMaxDim) + ")");
  return static_cast<int>(v.get<int64_t>());
}

// The same for a metadata string ("12"): digits only.
int config_int_text(const std::string& s, const std::string& where) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    throw Error(where + " is '" + s.substr(0, 40) + "', not an integer");
  if (v < 1 || v > kMaxDim)
    throw Error(where + " is " + s + ", out of range (1 … " + std::to_string(kMaxDim) + ")");
  return static_cast<int>(v);
}

// 1 + the largest K of the names "h.K.…" (0 when there are none).
int layer_count(const st::File& f, const std::string& path) {
  int64_t top = -1;
  for (const auto& r : f.tensors) {
    if (r.name.rfind("h.", 0) != 0) continue;
    const size_t dot = r.name.find('.', 2);
    if (dot == std::string::npos) continue;
    int64_t k = 0;
    auto [p, ec] = std::from_chars(r.name.data() + 2, r.name.data() + dot, k);
    if (ec != std::errc() || p != r.name.data() + dot) continue;
    if (k >= kMaxDim) throw Error(path + ": tensor '" + r.name + "' names layer " + std::to_string(k) + ", too many");
    top = std::max(top, k);
  }
  return static_cast<int>(top + 1);
}

// The checks of Config::validate() that a file's own numbers can fail, worded for the file.
void check_stored_config(const Config& c, const std::string& where) {
  if (c.n_embd % c.n_head != 0)
    throw Error(where + ": n_embd " + std::to_string(c.n_embd) + " is not divisible by n_head " +
                std::to_string(c.n_head) + " (C % H must be 0)");
  if (c.lora_rank > c.n_embd)
    throw Error(where + ": lora_rank " + std::to_string(c.lora_rank) + " is larger than n_embd " +
                std::to_string(c.n_embd) + ", the smaller side of every weight LoRA adapts (a higher rank adds nothing)");
}

}  // namespace

// [SECTION] the architecture a file describes

CheckpointHeader checkpoint_header(const st::File& file, const std::string& path) {
  CheckpointHeader h;
  Config& c = h.config;
  c.preset = "checkpoint";
  auto it = file.metadata.find("config");
  if (it != file.metadata.end()) {
    json j;
    try {
      j = json::parse(it->second);
    } catch (const std::exception&) {
      throw Error(path + ": the config metadata is not valid JSON");
    }
    if (!j.is_object()) throw Error(path + ": the config metadata is not a JSON object");
    const std::string at = path + ": config metadata '";
    if (j.contains("program") && !(j["program"].is_string() && is_gpt2_program(j["program"].get<std::string>()))) {
      if (j["program"].is_string())
        throw Error(path + ": is a dump of the lesson program '" + j["program"].get<std::string>() +
                    "', not a GPT-2 checkpoint (--checkpoint loads GPT-2's weights)");
      throw Error(at + "program' is " + shown_json(j["program"]) + ", not a program's name");
    }
    auto need = [&](const char* key) -> const json& {
      if (!j.contains(key)) throw Error(path + ": config metadata has no '" + key + "'");
      return j[key];
    };
    c.n_layer = config_int(need("n_layer"), at + "n_layer'");
    c.n_head = config_int(need("n_head"), at + "n_head'");
    c.n_embd = config_int(need("n_embd"), at + "n_embd'");
    c.vocab_size = config_int(need("vocab_size"), at + "vocab_size'");
    c.n_ctx = config_int(need("n_ctx"), at + "n_ctx'");
    c.lora_rank = j.contains("lora_rank") ? config_int(j["lora_rank"], at + "lora_rank'", 0) : 0;
    c.lora_alpha = 0;
    if (j.contains("lora_alpha")) {
      const json& a = j["lora_alpha"];
      if (!a.is_number() || !std::isfinite(a.get<double>()) || a.get<double>() < 0)
        throw Error(at + "lora_alpha' is " + shown_json(a) + ", not a finite number >= 0");
      c.lora_alpha = a.get<double>();
    }
    c.lora_targets.clear();
    if (j.contains("lora_targets")) {
      const json& t = j["lora_targets"];
      if (!t.is_array()) throw Error(at + "lora_targets' is " + shown_json(t) + ", not a list of names");
      for (const auto& x : t) {
        if (!x.is_string()) throw Error(at + "lora_targets' holds " + shown_json(x) + ", not a name");
        LoraTarget lt;
        try {
          lt = parse_lora_target(x.get<std::string>());
        } catch (const Error& e) {
          throw Error(at + "lora_targets': " + e.what());
        }
        if (std::find(c.lora_targets.begin(), c.lora_targets.end(), lt) != c.lora_targets.end())
          throw Error(at + "lora_targets' lists '" + x.get<std::string>() + "' twice");
        c.lora_targets.push_back(lt);
      }
    }
    if (c.lora_rank > 0 && c.lora_targets.empty())
      throw Error(path + ": config metadata has lora_rank " + std::to_string(c.lora_rank) + " but no lora_targets");
    if (c.lora_rank == 0 && !c.lora_targets.empty())
      throw Error(path + ": config metadata lists lora_targets but its lora_rank is 0");
    if (c.lora_rank == 0) c.lora_targets = {LoraTarget::attn_c_attn};  // Config's default, unused
    if (c.lora() && c.lora_alpha == 0) c.lora_alpha = c.lora_rank;  // 0: the same as r
    check_stored_config(c, path + ": config metadata");
  } else {
    // No metadata: read the architecture off the shapes.
    const st::Record* wte = file.find("wte.weight");
    const st::Record* wpe = file.find("wpe.weight");
    if (!wte || !wpe) throw Error(path + ": no config metadata and no wte.weight/wpe.weight to infer it from");
    if (wte->shape.size() != 2 || wpe->shape.size() != 2)
      throw Error(path + ": wte.weight and wpe.weight must be 2-d");
    for (const auto* r : {wte, wpe})
      for (int64_t d : r->shape)
        if (d < 1 || d > kMaxDim)
          throw Error(path + ": tensor '" + r->name + "' has shape " + shape_str(r->shape) + ", dims must lie in 1 … " +
                      std::to_string(kMaxDim));
    c.vocab_size = static_cast<int>(wte->shape[0]);
    c.n_embd = static_cast<int>(wte->shape[1]);
    c.n_ctx = static_cast<int>(wpe->shape[0]);
    c.n_layer = layer_count(file, path);
    if (c.n_layer == 0) throw Error(path + ": no config metadata and no layers (h.0.*) to infer the model from");
    // GPT-2 keeps the head size at 64 (12 heads for the 124M shape); a flag may say otherwise.
    c.n_head = c.n_embd % 64 == 0 ? c.n_embd / 64 : 1;
    h.heads_known = false;
    if (auto nh = file.metadata.find("n_head"); nh != file.metadata.end()) {
      c.n_head = config_int_text(nh->second, path + ": metadata 'n_head'");
      h.heads_known = true;
    }
    c.lora_rank = 0;
    check_stored_config(c, path);
  }
  if (auto v = file.metadata.find("vocab"); v != file.metadata.end()) {
    try {
      const CharTokenizer t = CharTokenizer::from_vocab(v->second);
      if (t.size() > c.vocab_size)
        throw Error("it has " + std::to_string(t.size()) + " characters, more than vocab_size " +
                    std::to_string(c.vocab_size));
    } catch (const Error& e) {
      throw Error(path + ": metadata 'vocab' (the character vocabulary): " + e.what());
    }
    h.vocab = v->second;
  }
  c.seq_len = std::min(c.seq_len, std::max(c.n_ctx, 1));
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return h;
}

std::vector<std::pair<std::string, Shape>> parameter_shapes(const Config& c) {
  const int64_t C = c.n_embd, V = c.vocab_size;
  std::vector<std::pair<std::string, Shape>> out;
  out.push_back({"wte.weight", {V, C}});
  out.push_back({"wpe.weight", {c.n_ctx, C}});
  for (int l = 0; l < c.n_layer; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    out.push_back({p + "ln_1.weight", {C}});
    out.push_back({p + "ln_1.bias", {C}});
    out.push_back({p + "attn.c_attn.weight", {C, 3 * C}});
    out.push_back({p + "attn.c_attn.bias", {3 * C}});
    out.push_back({p + "attn.c_proj.weight", {C, C}});
    out.push_back({p + "attn.c_proj.bias", {C}});
    out.push_back({p + "ln_2.weight", {C}});
    out.push_back({p + "ln_2.bias", {C}});
    out.push_back({p + "mlp.c_fc.weight", {C, 4 * C}});
    out.push_back({p + "mlp.c_fc.bias", {4 * C}});
    out.push_back({p + "mlp.c_proj.weight", {4 * C, C}});
    out.push_back({p + "mlp.c_proj.bias", {C}});
  }
  out.push_back({"ln_f.weight", {C}});
  out.push_back({"ln_f.bias", {C}});
  if (c.lora())
    for (int l = 0; l < c.n_layer; ++l)
      for (LoraTarget t : {LoraTarget::attn_c_attn, LoraTarget::attn_c_proj, LoraTarget::mlp_c_fc, LoraTarget::mlp_c_proj}) {
        if (!c.lora_on(t)) continue;
        const int64_t in = t == LoraTarget::mlp_c_proj ? 4 * C : C;
        const int64_t o = t == LoraTarget::attn_c_attn ? 3 * C : t == LoraTarget::mlp_c_fc ? 4 * C : C;
        const std::string p = "h." + std::to_string(l) + "." + lora_target_name(t);
        out.push_back({p + ".lora_A", {in, c.lora_rank}});
        out.push_back({p + ".lora_B", {c.lora_rank, o}});
      }
  return out;
}

void check_checkpoint_tensors(const st::File& file, const Config& stored, const Config& run, const std::string& path) {
  auto targets_text = [](const Config& c) {
    std::string t;
    for (auto x : c.lora_targets) t += (t.empty() ? "" : ",") + std::string(lora_target_name(x));
    return t;
  };
  // The file's LoRA adapters are used as they are, or the flags that would change them refused.
  if (stored.lora()) {
    const std::string held = path + " holds LoRA adapters of rank " + std::to_string(stored.lora_rank) + " on " +
                             targets_text(stored);
    if (!run.lora())
      throw Error(held + "; --lora-rank 0 would drop them (leave --lora-rank out to use them)");
    if (run.lora_rank != stored.lora_rank)
      throw Error(held + "; --lora-rank " + std::to_string(run.lora_rank) + " disagrees with it");
    for (auto t : stored.lora_targets)
      if (!run.lora_on(t))
        throw Error(held + "; --lora-targets " + targets_text(run) + " would drop the adapters on " +
                    lora_target_name(t));
    if (run.lora_alpha != stored.lora_alpha) {
      char b[96];
      snprintf(b, sizeof b, "; --lora-alpha %g disagrees with its %g", run.lora_alpha, stored.lora_alpha);
      throw Error(held + b);
    }
  }
  // Every parameter of the run: present with its shape and a float dtype, except the LoRA
  // adapters the flags add on targets the file has none for (those start fresh: A random, B 0).
  std::unordered_map<std::string, const st::Record*> by_name;
  by_name.reserve(file.tensors.size() * 2);
  for (const auto& r : file.tensors) by_name.emplace(r.name, &r);
  std::unordered_map<std::string, bool> expected;
  const auto shapes = parameter_shapes(run);
  expected.reserve(shapes.size() * 2);
  for (const auto& [name, shape] : shapes) {
    expected.emplace(name, true);
    const auto found = by_name.find(name);
    const bool lora = name.find(".lora_") != std::string::npos;
    if (found == by_name.end()) {
      if (!lora) throw Error(path + ": missing tensor '" + name + "'");
      bool stored_target = false;
      for (auto t : stored.lora_targets)
        stored_target = stored_target || (stored.lora() && name.find(std::string(".") + lora_target_name(t) + ".") !=
                                                               std::string::npos);
      if (stored_target)
        throw Error(path + ": missing tensor '" + name + "' (its config says LoRA rank " +
                    std::to_string(stored.lora_rank) + " on " + targets_text(stored) + ")");
      continue;
    }
    const st::Record& r = *found->second;
    if (r.shape != shape)
      throw Error(path + ": tensor '" + name + "' has shape " + shape_str(r.shape) + ", expected " + shape_str(shape) +
                  (lora && !stored.lora() ? " (for --lora-rank " + std::to_string(run.lora_rank) + ")" : ""));
    if (r.dtype != st::DType::F32 && r.dtype != st::DType::F64 && r.dtype != st::DType::F16 &&
        r.dtype != st::DType::BF16)
      throw Error(path + ": tensor '" + name + "' has dtype " + st::dtype_name(r.dtype) +
                  ", expected a float type (F64, F32, F16 or BF16)");
  }
  // Nothing else, except what a dump adds (docs/cli.md): tokens, targets, loss, grad.<param>,
  // act.<op> and resid.<op>.
  for (const auto& r : file.tensors) {
    const std::string& n = r.name;
    if (expected.count(n) || n == "tokens" || n == "targets" || n == "loss" || n.rfind("act.", 0) == 0 ||
        n.rfind("resid.", 0) == 0 || (n.rfind("grad.", 0) == 0 && expected.count(n.substr(5))))
      continue;
    if (n.rfind("h.", 0) == 0) {
      const size_t dot = n.find('.', 2);
      int64_t k = -1;
      if (dot != std::string::npos) std::from_chars(n.data() + 2, n.data() + dot, k);
      if (k >= run.n_layer)
        throw Error(path + ": holds tensor '" + n + "' of layer " + std::to_string(k) + ", but its config says n_layer " +
                    std::to_string(run.n_layer));
    }
    if (n.find(".lora_") != std::string::npos)
      throw Error(path + ": holds LoRA tensor '" + n + "', which this model (" +
                  (run.lora() ? "LoRA rank " + std::to_string(run.lora_rank) + " on " + targets_text(run)
                              : std::string("no LoRA")) +
                  ") has no place for");
    throw Error(path + ": holds tensor '" + n + "', which is not a parameter of this model (nothing is ignored)");
  }
  // The file stays in memory while the model and its tape are built next to it.
  double file_bytes = 0;
  for (const auto& r : file.tensors) file_bytes += double(r.bytes.size());
  check_memory(run.estimated_bytes() + file_bytes, "building this model and its tape next to " + path);
}

// [SECTION] other formats

namespace {

// Hugging Face names → gradscope's; the attention buffers dropped, a tied head checked.
void normalize_hf(st::File& f, const std::string& path) {
  std::vector<st::Record> kept;
  std::set<std::string> names;
  std::optional<st::Record> head;
  for (auto& r : f.tensors) {
    std::string name = r.name;
    if (name.rfind("transformer.", 0) == 0) name = name.substr(12);
    if (ends_with(name, ".attn.bias") || ends_with(name, ".attn.masked_bias")) continue;  // the causal mask
    if (!names.insert(name).second) throw Error(path + ": tensor '" + name + "' appears twice (with and without prefix)");
    if (name == "lm_head.weight") {
      head = std::move(r);
      continue;
    }
    r.name = name;
    kept.push_back(std::move(r));
  }
  f.tensors = std::move(kept);
  if (head) {
    // GPT-2 ties its head to wte: a file whose head differs is another model. The two may be
    // stored in different precisions, so they must agree to the coarser one's last bit.
    const st::Record* wte = f.find("wte.weight");
    if (!wte) throw Error(path + ": has lm_head.weight but no wte.weight");
    if (wte->shape != head->shape)
      throw Error(path + ": lm_head.weight has shape " + shape_str(head->shape) + ", wte.weight " +
                  shape_str(wte->shape) + "; GPT-2 (and gradscope) ties the two");
    auto bits = [](st::DType d) {  // mantissa bits and the smallest step (subnormal) of a float type
      switch (d) {
        case st::DType::BF16: return std::pair<int, int>{7, -133};
        case st::DType::F16: return std::pair<int, int>{10, -24};
        case st::DType::F32: return std::pair<int, int>{23, -149};
        default: return std::pair<int, int>{52, -1074};
      }
    };
    const auto [m1, s1] = bits(wte->dtype);
    const auto [m2, s2] = bits(head->dtype);
    const int mant = std::min(m1, m2), step = std::max(s1, s2);
    const std::vector<double> a = st::to_double(*wte), b = st::to_double(*head);
    for (size_t i = 0; i < a.size(); ++i) {
      const double tol = std::max(std::ldexp(std::max(std::fabs(a[i]), std::fabs(b[i])), -mant), std::ldexp(1.0, step));
      if (!(std::fabs(a[i] - b[i]) <= tol)) {
        char v[96];
        snprintf(v, sizeof v, " (%.9g and %.9g at index %zu)", a[i], b[i], i);
        throw Error(path + ": lm_head.weight differs from wte.weight" + std::string(v) +
                    "; GPT-2 (and gradscope) ties the two");
      }
    }
  }
  // n_head from a config.json beside the file, as Hugging Face stores it; its other sizes must
  // agree with the tensors.
  if (f.metadata.count("config")) return;
  const size_t slash = path.find_last_of('/');
  const std::string cfg_path = (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/config.json";
  struct stat st {};
  if (::stat(cfg_path.c_str(), &st) != 0 && errno == ENOENT) return;
  const std::string text = io::read_text(cfg_path, 1 << 20, "a Hugging Face config.json");
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception&) {
    throw Error(cfg_path + ": not valid JSON");
  }
  if (!j.is_object()) throw Error(cfg_path + ": not a JSON object");
  const st::Record* wte = f.find("wte.weight");
  const st::Record* wpe = f.find("wpe.weight");
  const std::string file = path.substr(slash == std::string::npos ? 0 : slash + 1);
  // `says`: what the tensors say, as the message words it.
  auto agree = [&](const char* key, int64_t actual, const std::string& says) {
    if (!j.contains(key)) return;
    const int v = config_int(j[key], cfg_path + ": '" + key + "'");
    if (actual >= 0 && v != actual) throw Error(cfg_path + ": '" + key + "' is " + std::to_string(v) + ", but " + says);
  };
  const bool w2 = wte && wte->shape.size() == 2, p2 = wpe && wpe->shape.size() == 2;
  const std::string wte_says = file + "'s wte.weight is " + (w2 ? shape_str(wte->shape) : "");
  const std::string wpe_says = file + "'s wpe.weight is " + (p2 ? shape_str(wpe->shape) : "");
  agree("n_embd", w2 ? wte->shape[1] : -1, wte_says);
  agree("vocab_size", w2 ? wte->shape[0] : -1, wte_says);
  agree("n_positions", p2 ? wpe->shape[0] : -1, wpe_says);
  agree("n_ctx", p2 ? wpe->shape[0] : -1, wpe_says);
  const int layers = layer_count(f, path);
  agree("n_layer", layers, file + " holds " + std::to_string(layers) + " layers (h.0 … h." + std::to_string(layers - 1) + ")");
  if (j.contains("n_head")) f.metadata["n_head"] = std::to_string(config_int(j["n_head"], cfg_path + ": 'n_head'"));
}

uint32_t read_u32le(const unsigned char* p) { return p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24; }

// llm.c's 256-int header: sizes, and the file size they imply.
struct LlmcHeader {
  int64_t maxT, V, L, NH, C, Vp, esize, total;  // total: floats after the header
  uint64_t file_size() const { return 1024 + uint64_t(total) * uint64_t(esize); }
};

LlmcHeader llmc_header(const uint8_t* data, const std::string& path) {
  int32_t h[8];
  for (int i = 0; i < 8; ++i) h[i] = static_cast<int32_t>(read_u32le(data + 4 * i));
  if (h[0] != 20240326) throw Error(path + ": not an llm.c checkpoint (magic " + std::to_string(h[0]) + ")");
  if (h[1] != 3 && h[1] != 5)
    throw Error(path + ": llm.c version " + std::to_string(h[1]) + " is not supported (3: fp32, 5: bf16)");
  LlmcHeader x{h[2], h[3], h[4], h[5], h[6], h[7], h[1] == 3 ? 4 : 2, 0};
  auto sane = [&](const char* what, int64_t v, int64_t hi) {
    if (v <= 0 || v > hi) throw Error(path + ": header " + what + " = " + std::to_string(v) + " is out of range");
  };
  sane("max_seq_len", x.maxT, 1 << 20);
  sane("vocab_size", x.V, 1 << 24);
  sane("num_layers", x.L, 1024);
  sane("num_heads", x.NH, 4096);
  sane("channels", x.C, 1 << 16);
  sane("padded_vocab_size", x.Vp, 1 << 24);
  if (x.Vp < x.V)
    throw Error(path + ": padded vocab " + std::to_string(x.Vp) + " is smaller than vocab " + std::to_string(x.V));
  if (x.C % x.NH != 0)
    throw Error(path + ": channels " + std::to_string(x.C) + " not divisible by heads " + std::to_string(x.NH));
  const int64_t C = x.C, L = x.L;
  // wte, wpe, then per layer: ln_1 (2C), c_attn (3C·C + 3C), c_proj (C·C + C), ln_2 (2C),
  // c_fc (4C·C + 4C), mlp c_proj (4C·C + C); then ln_f (2C). Each factor is bounded above.
  x.total = x.Vp * C + x.maxT * C + L * (12 * C * C + 13 * C) + 2 * C;
  return x;
}

}  // namespace

st::File parse_llmc(const uint8_t* data, size_t size, const std::string& path) {
  if (size < 1024) throw Error(path + ": shorter than llm.c's 1024-byte header");
  const LlmcHeader x = llmc_header(data, path);
  const int64_t maxT = x.maxT, V = x.V, L = x.L, NH = x.NH, C = x.C, Vp = x.Vp, esize = x.esize;
  if (uint64_t(size) != x.file_size())
    throw Error(path + ": file is " + std::to_string(size) + " bytes, the header implies " +
                std::to_string(x.file_size()));
  // llm.c's order and shapes; its matrices are (out, in).
  struct Block { std::string name; int64_t count, rows, cols; };
  const std::vector<Block> order = {
      {"wte", 1, Vp, C},          {"wpe", 1, maxT, C},        {"ln_1.weight", L, 1, C},
      {"ln_1.bias", L, 1, C},     {"attn.c_attn.w", L, 3 * C, C}, {"attn.c_attn.bias", L, 1, 3 * C},
      {"attn.c_proj.w", L, C, C}, {"attn.c_proj.bias", L, 1, C}, {"ln_2.weight", L, 1, C},
      {"ln_2.bias", L, 1, C},     {"mlp.c_fc.w", L, 4 * C, C},  {"mlp.c_fc.bias", L, 1, 4 * C},
      {"mlp.c_proj.w", L, C, 4 * C}, {"mlp.c_proj.bias", L, 1, C}, {"ln_f.weight", 1, 1, C},
      {"ln_f.bias", 1, 1, C}};
  const uint8_t* at = data + 1024;
  st::File f;
  json cfg{{"n_layer", L}, {"n_head", NH}, {"n_embd", C}, {"vocab_size", V}, {"n_ctx", maxT}};
  f.metadata["config"] = cfg.dump();
  f.metadata["format"] = "llm.c";
  std::vector<float> vals;
  for (const auto& b : order) {
    const int64_t n = b.rows * b.cols;
    for (int64_t l = 0; l < b.count; ++l) {
      const uint8_t* raw = at;
      at += n * esize;
      vals.resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        uint32_t bits = esize == 4 ? read_u32le(&raw[4 * i]) : uint32_t(raw[2 * i] | raw[2 * i + 1] << 8) << 16;
        std::memcpy(&vals[i], &bits, 4);
      }
      const bool matrix = b.name.size() > 2 && b.name.compare(b.name.size() - 2, 2, ".w") == 0;
      std::string name = b.count == 1 ? b.name : "h." + std::to_string(l) + "." + b.name;
      std::vector<int64_t> shape;
      std::vector<float> out;
      if (matrix) {  // (out, in) → (in, out)
        name = name.substr(0, name.size() - 2) + ".weight";
        out.resize(vals.size());
        for (int64_t r = 0; r < b.rows; ++r)
          for (int64_t c = 0; c < b.cols; ++c) out[c * b.rows + r] = vals[r * b.cols + c];
        shape = {b.cols, b.rows};
      } else if (b.name == "wte") {  // the padding rows are the format's, not the model's
        name = "wte.weight";
        out.assign(vals.begin(), vals.begin() + V * C);
        shape = {V, C};
      } else if (b.name == "wpe") {
        name = "wpe.weight";
        out = vals;
        shape = {maxT, C};
      } else {
        out = vals;
        shape = {b.cols};
      }
      f.tensors.push_back(st::make_f32(name, shape, out.data()));
    }
  }
  return f;
}

st::File read_checkpoint(const std::string& path) {
  if (ends_with(path, ".bin")) {
    // The header first: the size it implies must be the file's, and fit in memory, before the
    // rest is read.
    io::Reader in(path);
    std::vector<uint8_t> bytes(static_cast<size_t>(std::min<uint64_t>(in.size(), 1024)));
    in.read_exact(bytes.data(), bytes.size());
    if (bytes.size() < 1024) return parse_llmc(bytes.data(), bytes.size(), path);  // the error for a short file
    const LlmcHeader x = llmc_header(bytes.data(), path);
    if (in.size() != x.file_size())
      throw Error(path + ": file is " + std::to_string(in.size()) + " bytes, the header implies " +
                  std::to_string(x.file_size()));
    check_memory(double(in.size()) + 4.0 * double(x.total), path + ": reading it as float32 tensors");
    bytes.resize(static_cast<size_t>(in.size()));
    in.read_exact(bytes.data() + 1024, bytes.size() - 1024);
    in.expect_end();
    return parse_llmc(bytes.data(), bytes.size(), path);
  }
  st::File f = st::read(path);
  normalize_hf(f, path);
  return f;
}

// [SECTION] loading and saving

template <class T>
void load_params(Model<T>& model, const st::File& file, const std::string& path) {
  // Validate everything first, so a bad file changes nothing.
  std::vector<std::pair<Param<T>*, const st::Record*>> plan;
  for (auto& p : model.params()) {
    const st::Record* r = file.find(p.name);
    const bool lora = p.name.find(".lora_") != std::string::npos;
    if (!r) {
      if (lora) continue;
      throw Error(path + ": missing tensor '" + p.name + "'");
    }
    if (r->shape != p.data.shape)
      throw Error(path + ": tensor '" + p.name + "' has shape " + shape_str(r->shape) + ", expected " +
                  shape_str(p.data.shape));
    if (r->dtype != st::DType::F32 && r->dtype != st::DType::F64 && r->dtype != st::DType::F16 &&
        r->dtype != st::DType::BF16)
      throw Error(path + ": tensor '" + p.name + "' has dtype " + st::dtype_name(r->dtype) +
                  ", expected a float type (F64, F32, F16 or BF16)");
    plan.emplace_back(&p, r);
  }
  // Converted to the run's type, then checked: a value finite in the file may not be in T.
  std::vector<std::vector<T>> values;
  values.reserve(plan.size());
  for (auto& [p, r] : plan) {
    const std::vector<double> v = st::to_double(*r);
    values.emplace_back(v.size());
    auto& out = values.back();
    for (size_t i = 0; i < v.size(); ++i) {
      out[i] = static_cast<T>(v[i]);
      if (!std::isfinite(out[i])) {
        if (std::isfinite(v[i])) {
          char b[64];
          snprintf(b, sizeof b, "%.9g", v[i]);
          throw Error(path + ": tensor '" + p->name + "' holds " + b + " at index " + std::to_string(i) +
                      ", beyond the range of " + dtype_name(model.config().dtype) + " (run with --dtype f64)");
        }
        throw Error(path + ": tensor '" + p->name + "' holds " + (std::isnan(v[i]) ? "NaN" : "Inf") + " at index " +
                    std::to_string(i));
      }
    }
  }
  for (size_t k = 0; k < plan.size(); ++k) std::copy(values[k].begin(), values[k].end(), plan[k].first->data.data);
}

namespace {

// Refuses to write a tensor with NaN or ±∞ (a file that could not be loaded back); `minus_inf_ok`:
// a causal mask's output, whose −∞ are its definition.
template <class T>
void check_finite(const std::string& path, const std::string& name, const T* v, int64_t n, bool minus_inf_ok = false) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i]) && !(minus_inf_ok && v[i] < 0 && std::isinf(v[i])))
      throw Error(path + ": not written: '" + name + "' holds " + (std::isnan(v[i]) ? "NaN" : v[i] > 0 ? "+Inf" : "-Inf") +
                  " at index " + std::to_string(i));
}

}  // namespace

template <class T>
void save_checkpoint(const std::string& path, const Model<T>& model, const std::string& vocab) {
  std::map<std::string, std::string> meta;
  meta["config"] = model.config().json();
  if (!vocab.empty()) meta["vocab"] = vocab;
  meta["format"] = "gradscope checkpoint";
  std::vector<st::TensorRef> refs;
  for (const auto& p : model.params()) {
    check_finite(path, p.name, p.data.data, p.data.size());
    refs.push_back(tensor_ref(p.name, p.data.shape, p.data.data, p.data.size()));
  }
  st::write(path, meta, refs);
}

template <class T>
void write_dump(const std::string& path, const Tape<T>& tape, bool activations) {
  const Model<T>& model = tape.model();
  Config cfg = model.config();
  if (cfg.is_gpt2()) {
    cfg.seq_len = tape.batch().T;
    cfg.batch = tape.batch().B;
  }
  std::map<std::string, std::string> meta;
  meta["config"] = cfg.json();
  // The tape's own buffers are written: nothing is copied (but the ids, stored as T, as I32).
  std::vector<st::TensorRef> refs;
  auto add = [&](const std::string& name, const Tensor<T>& t, bool minus_inf_ok = false) {
    check_finite(path, name, t.data, t.size(), minus_inf_ok);
    refs.push_back(tensor_ref(name, t.shape, t.data, t.size()));
  };
  for (const auto& p : model.params()) add(p.name, p.data);
  // Every input under its name: ids (GPT-2's tokens and targets, class ids) as I32.
  std::deque<std::vector<int32_t>> ids;
  for (int id : tape.inputs()) {
    const Value<T>& v = tape.value(id);
    if (!v.integer) {
      add(v.name, v.data);
      continue;
    }
    ids.emplace_back(v.data.begin(), v.data.end());
    refs.push_back({v.name, st::DType::I32, v.data.shape, ids.back().data(), ids.back().size() * sizeof(int32_t)});
  }
  const T loss = static_cast<T>(tape.loss());
  check_finite(path, "loss", &loss, 1);
  refs.push_back(tensor_ref<T>("loss", {}, &loss, 1));
  for (const auto& p : model.params())
    if (p.trainable) add("grad." + p.name, p.grad);
  if (model.program().input_grads_in_dump())
    for (int id : tape.inputs())
      if (const Value<T>& v = tape.value(id); !v.grad.empty()) add("grad." + v.name, v.grad);
  if (activations)
    for (const auto& op : tape.ops()) {
      const auto& v = tape.value(op.out);
      add("act." + op.name, v.data, op.type == OpType::causal_mask);
      if (!v.grad.empty()) add("resid." + op.name, v.grad);
    }
  st::write(path, meta, refs);
}

template void load_params(Model<float>&, const st::File&, const std::string&);
template void load_params(Model<double>&, const st::File&, const std::string&);
template void save_checkpoint(const std::string&, const Model<float>&, const std::string&);
template void save_checkpoint(const std::string&, const Model<double>&, const std::string&);
template void write_dump(const std::string&, const Tape<float>&, bool);
template void write_dump(const std::string&, const Tape<double>&, bool);

}  // namespace gs
