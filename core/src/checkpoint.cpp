#include "gradscope/checkpoint.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "gradscope/error.h"

namespace gs {

namespace {

template <class T>
st::Record make_record(const std::string& name, const Shape& shape, const T* data) {
  if constexpr (std::is_same_v<T, double>)
    return st::make_f64(name, shape, data);
  else
    return st::make_f32(name, shape, data);
}

int json_int(const nlohmann::json& j, const char* key, const std::string& path) {
  if (!j.contains(key)) throw Error(path + ": config metadata has no '" + key + "'");
  if (!j[key].is_number_integer()) throw Error(path + ": config metadata '" + key + "' is not an integer");
  const auto v = j[key].get<int64_t>();
  if (v < 0 || v > (int64_t(1) << 30)) throw Error(path + ": config metadata '" + key + "' is out of range");
  return static_cast<int>(v);
}

}  // namespace

CheckpointHeader checkpoint_header(const st::File& file, const std::string& path) {
  CheckpointHeader h;
  Config& c = h.config;
  c.preset = "checkpoint";
  auto it = file.metadata.find("config");
  if (it != file.metadata.end()) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(it->second);
    } catch (const std::exception&) {
      throw Error(path + ": the config metadata is not valid JSON");
    }
    if (!j.is_object()) throw Error(path + ": the config metadata is not a JSON object");
    c.n_layer = json_int(j, "n_layer", path);
    c.n_head = json_int(j, "n_head", path);
    c.n_embd = json_int(j, "n_embd", path);
    c.vocab_size = json_int(j, "vocab_size", path);
    c.n_ctx = json_int(j, "n_ctx", path);
    if (j.contains("lora_rank") && j["lora_rank"].is_number_integer()) c.lora_rank = j["lora_rank"].get<int>();
    if (j.contains("lora_alpha") && j["lora_alpha"].is_number()) c.lora_alpha = j["lora_alpha"].get<double>();
    if (c.lora_rank > 0 && j.contains("lora_targets") && j["lora_targets"].is_array()) {
      c.lora_targets.clear();
      for (const auto& t : j["lora_targets"]) {
        if (!t.is_string()) throw Error(path + ": lora_targets holds a non-string");
        c.lora_targets.push_back(parse_lora_target(t.get<std::string>()));
      }
    }
  } else {
    // No metadata: read the architecture off the shapes.
    const st::Record* wte = file.find("wte.weight");
    const st::Record* wpe = file.find("wpe.weight");
    if (!wte || !wpe) throw Error(path + ": no config metadata and no wte.weight/wpe.weight to infer it from");
    if (wte->shape.size() != 2 || wpe->shape.size() != 2)
      throw Error(path + ": wte.weight and wpe.weight must be 2-d");
    c.vocab_size = static_cast<int>(wte->shape[0]);
    c.n_embd = static_cast<int>(wte->shape[1]);
    c.n_ctx = static_cast<int>(wpe->shape[0]);
    int L = 0;
    while (file.find("h." + std::to_string(L) + ".ln_1.weight")) ++L;
    c.n_layer = L;
    // GPT-2 keeps the head size at 64 (12 heads for the 124M shape); a flag may say otherwise.
    c.n_head = c.n_embd % 64 == 0 ? c.n_embd / 64 : 1;
    h.heads_known = false;
    if (auto nh = file.metadata.find("n_head"); nh != file.metadata.end()) {
      c.n_head = std::atoi(nh->second.c_str());
      h.heads_known = true;
    }
    c.lora_rank = 0;
  }
  if (auto v = file.metadata.find("vocab"); v != file.metadata.end()) h.vocab = v->second;
  c.seq_len = std::min(c.seq_len, std::max(c.n_ctx, 1));
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return h;
}

// [SECTION] other formats

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Hugging Face names → gradscope's; buffers and the tied head dropped.
void normalize_hf(st::File& f, const std::string& path) {
  std::vector<st::Record> kept;
  std::set<std::string> names;
  for (auto& r : f.tensors) {
    std::string name = r.name;
    if (name.rfind("transformer.", 0) == 0) name = name.substr(12);
    if (ends_with(name, ".attn.bias") || ends_with(name, ".attn.masked_bias") || name == "lm_head.weight") continue;
    if (!names.insert(name).second) throw Error(path + ": tensor '" + name + "' appears twice (with and without prefix)");
    r.name = name;
    kept.push_back(std::move(r));
  }
  f.tensors = std::move(kept);
  // n_head from a config.json beside the file, as Hugging Face stores it.
  if (f.metadata.count("config")) return;
  const size_t slash = path.find_last_of('/');
  const std::string cfg_path = (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/config.json";
  std::ifstream in(cfg_path);
  if (!in) return;
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception&) {
    throw Error(cfg_path + ": not valid JSON");
  }
  if (j.is_object() && j.contains("n_head") && j["n_head"].is_number_integer())
    f.metadata["n_head"] = std::to_string(j["n_head"].get<int>());
}

uint32_t read_u32le(const unsigned char* p) { return p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24; }

}  // namespace

st::File parse_llmc(const uint8_t* data, size_t size, const std::string& path) {
  if (size < 1024) throw Error(path + ": shorter than llm.c's 1024-byte header");
  int32_t h[8];
  for (int i = 0; i < 8; ++i) h[i] = static_cast<int32_t>(read_u32le(data + 4 * i));
  if (h[0] != 20240326) throw Error(path + ": not an llm.c checkpoint (magic " + std::to_string(h[0]) + ")");
  if (h[1] != 3 && h[1] != 5)
    throw Error(path + ": llm.c version " + std::to_string(h[1]) + " is not supported (3: fp32, 5: bf16)");
  const int64_t maxT = h[2], V = h[3], L = h[4], NH = h[5], C = h[6], Vp = h[7];
  auto sane = [&](const char* what, int64_t v, int64_t hi) {
    if (v <= 0 || v > hi) throw Error(path + ": header " + what + " = " + std::to_string(v) + " is out of range");
  };
  sane("max_seq_len", maxT, 1 << 20);
  sane("vocab_size", V, 1 << 24);
  sane("num_layers", L, 1024);
  sane("num_heads", NH, 4096);
  sane("channels", C, 1 << 16);
  sane("padded_vocab_size", Vp, 1 << 24);
  if (Vp < V) throw Error(path + ": padded vocab " + std::to_string(Vp) + " is smaller than vocab " + std::to_string(V));
  if (C % NH != 0) throw Error(path + ": channels " + std::to_string(C) + " not divisible by heads " + std::to_string(NH));
  // llm.c's order and shapes; its matrices are (out, in).
  struct Block { std::string name; int64_t count, rows, cols; };
  const std::vector<Block> order = {
      {"wte", 1, Vp, C},          {"wpe", 1, maxT, C},        {"ln_1.weight", L, 1, C},
      {"ln_1.bias", L, 1, C},     {"attn.c_attn.w", L, 3 * C, C}, {"attn.c_attn.bias", L, 1, 3 * C},
      {"attn.c_proj.w", L, C, C}, {"attn.c_proj.bias", L, 1, C}, {"ln_2.weight", L, 1, C},
      {"ln_2.bias", L, 1, C},     {"mlp.c_fc.w", L, 4 * C, C},  {"mlp.c_fc.bias", L, 1, 4 * C},
      {"mlp.c_proj.w", L, C, 4 * C}, {"mlp.c_proj.bias", L, 1, C}, {"ln_f.weight", 1, 1, C},
      {"ln_f.bias", 1, 1, C}};
  int64_t total = 0;
  for (const auto& b : order) total += b.count * b.rows * b.cols;
  const int64_t esize = h[1] == 3 ? 4 : 2;
  const int64_t fsize = static_cast<int64_t>(size);
  if (fsize != 1024 + total * esize)
    throw Error(path + ": file is " + std::to_string(fsize) + " bytes, the header implies " +
                std::to_string(1024 + total * esize));
  const uint8_t* at = data + 1024;
  st::File f;
  nlohmann::json cfg{{"n_layer", L}, {"n_head", NH}, {"n_embd", C}, {"vocab_size", V}, {"n_ctx", maxT}};
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
      } else if (b.name == "wte") {  // drop the padding rows
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
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw Error(path + ": read error");
    return parse_llmc(bytes.data(), bytes.size(), path);
  }
  st::File f = st::read(path);
  normalize_hf(f, path);
  return f;
}

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
  std::vector<std::vector<double>> values;
  for (auto& [p, r] : plan) {
    values.push_back(st::to_double(*r));
    const auto& v = values.back();
    for (size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        throw Error(path + ": tensor '" + p->name + "' holds " + (std::isnan(v[i]) ? "NaN" : "Inf") + " at index " +
                    std::to_string(i));
  }
  for (size_t k = 0; k < plan.size(); ++k)
    for (size_t i = 0; i < values[k].size(); ++i) plan[k].first->data[i] = static_cast<T>(values[k][i]);
}

template <class T>
void save_checkpoint(const std::string& path, const Model<T>& model, const std::string& vocab) {
  st::File f;
  f.metadata["config"] = model.config().json();
  if (!vocab.empty()) f.metadata["vocab"] = vocab;
  f.metadata["format"] = "gradscope checkpoint";
  for (const auto& p : model.params()) f.tensors.push_back(make_record(p.name, p.data.shape, p.data.data));
  st::write(path, f);
}

template <class T>
void write_dump(const std::string& path, const Tape<T>& tape, bool activations) {
  const Model<T>& model = tape.model();
  Config cfg = model.config();
  if (cfg.is_gpt2()) {
    cfg.seq_len = tape.batch().T;
    cfg.batch = tape.batch().B;
  }
  st::File f;
  f.metadata["config"] = cfg.json();
  for (const auto& p : model.params()) f.tensors.push_back(make_record(p.name, p.data.shape, p.data.data));
  // Every input under its name: ids (GPT-2's tokens and targets, class ids) as I32.
  for (int id : tape.inputs()) {
    const Value<T>& v = tape.value(id);
    if (!v.integer) {
      f.tensors.push_back(make_record(v.name, v.data.shape, v.data.data));
      continue;
    }
    std::vector<int32_t> ids(v.data.begin(), v.data.end());
    f.tensors.push_back(st::make_i32(v.name, v.data.shape, ids.data()));
  }
  const T loss = static_cast<T>(tape.loss());
  f.tensors.push_back(make_record<T>("loss", {}, &loss));
  for (const auto& p : model.params())
    if (p.trainable) f.tensors.push_back(make_record("grad." + p.name, p.data.shape, p.grad.data));
  if (activations)
    for (const auto& op : tape.ops()) {
      const auto& v = tape.value(op.out);
      f.tensors.push_back(make_record("act." + op.name, v.data.shape, v.data.data));
      if (!v.grad.empty()) f.tensors.push_back(make_record("resid." + op.name, v.grad.shape, v.grad.data));
    }
  st::write(path, f);
}

template void load_params(Model<float>&, const st::File&, const std::string&);
template void load_params(Model<double>&, const st::File&, const std::string&);
template void save_checkpoint(const std::string&, const Model<float>&, const std::string&);
template void save_checkpoint(const std::string&, const Model<double>&, const std::string&);
template void write_dump(const std::string&, const Tape<float>&, bool);
template void write_dump(const std::string&, const Tape<double>&, bool);

}  // namespace gs
