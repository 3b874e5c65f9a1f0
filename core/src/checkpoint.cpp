#include "gradscope/checkpoint.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
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
    c.n_head = c.n_embd % 64 == 0 ? c.n_embd / 64 : 1;  // GPT-2 uses head size 64
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
  cfg.seq_len = tape.batch().T;
  cfg.batch = tape.batch().B;
  st::File f;
  f.metadata["config"] = cfg.json();
  for (const auto& p : model.params()) f.tensors.push_back(make_record(p.name, p.data.shape, p.data.data));
  const Shape bt{tape.batch().B, tape.batch().T};
  f.tensors.push_back(st::make_i32("tokens", bt, tape.batch().x.data()));
  f.tensors.push_back(st::make_i32("targets", bt, tape.batch().y.data()));
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
