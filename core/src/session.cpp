#include "gradscope/session.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "gradscope/checkpoint.h"
#include "gradscope/error.h"
#include "gradscope/program.h"

namespace gs {

std::vector<int32_t> parse_token_list(const std::string& s) {
  std::vector<int32_t> ids;
  for (const std::string& item : split_comma_list(s)) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size())
      throw Error("--tokens: '" + item + "' (item " + std::to_string(ids.size()) + ") is not an integer token id");
    if (v < 0 || v > INT32_MAX) throw Error("--tokens: token id " + item + " is out of range");
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

Mistake parse_mistake(const std::string& id) {
  // "none" is no mistake to plant (a repair restores the correct backward).
  for (int m = 1; m < kNumMistakes; ++m)
    if (id == kMistakeInfo[m].id) return static_cast<Mistake>(m);
  std::string all;
  for (int m = 1; m < kNumMistakes; ++m) all += std::string(m > 1 ? ", " : "") + kMistakeInfo[m].id;
  throw Error((id.empty() ? std::string("no mistake named") : "unknown mistake '" + printable(id) + "'") + " (expected one of " +
              all + ")");
}

DType resolve_dtype(const ModelSpec& spec) {
  if (spec.dtype) {
    if (*spec.dtype == "f32") return DType::f32;
    if (*spec.dtype == "f64") return DType::f64;
    throw Error("unknown dtype '" + *spec.dtype + "' (expected f32 or f64)");
  }
  if (!is_gpt2_program(spec.program)) return DType::f64;  // lesson programs: every number exact
  return preset_config(spec.preset).dtype;
}

std::string default_gpt2_vocab_dir() {
  if (const char* e = std::getenv("GRADSCOPE_GPT2_VOCAB"); e && *e) return e;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/gradscope/gpt2-vocab";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/gradscope/gpt2-vocab";
  return "gpt2-vocab";
}

std::vector<std::string> gpt2_flags_set(const ModelSpec& s) {
  std::vector<std::string> f;
  if (s.preset != "tiny") f.push_back("--preset");
  if (s.layers) f.push_back("--layers");
  if (s.heads) f.push_back("--heads");
  if (s.embd) f.push_back("--embd");
  if (s.vocab) f.push_back("--vocab");
  if (s.ctx) f.push_back("--ctx");
  if (s.seq) f.push_back("--seq");
  if (s.batch) f.push_back("--batch");
  if (s.text) f.push_back("--text");
  if (s.tokens) f.push_back("--tokens");
  if (s.lora_targets) f.push_back("--lora-targets");
  if (!s.checkpoint.empty()) f.push_back("--checkpoint");
  if (s.tokenizer) f.push_back("--tokenizer");
  if (!s.vocab_dir.empty()) f.push_back("--vocab-dir");
  return f;
}

std::vector<std::string> program_flags_set(const ModelSpec& s) {
  std::vector<std::string> f;
  if (s.lora_rank) f.push_back("--lora-rank");
  if (s.lora_alpha) f.push_back("--lora-alpha");
  if (s.model_text) f.push_back("--model");
  if (s.model_file) f.push_back("--model-file");
  if (s.inputs) f.push_back("--inputs");
  return f;
}

namespace {

// A flag of some programs only, given to one that does not take it: names the programs that do.
void refuse_foreign_flags(const ModelSpec& spec, const Program& p) {
  for (const std::string& flag : program_flags_set(spec)) {
    const auto own = p.own_flags();
    if (std::find(own.begin(), own.end(), flag) != own.end()) continue;
    std::string takers;
    for (const Program* q : programs()) {
      const auto f = q->own_flags();
      if (std::find(f.begin(), f.end(), flag) != f.end()) takers += std::string(takers.empty() ? "" : " and ") + q->name();
    }
    throw Error(flag + " applies to " + takers + ", not to " + p.name());
  }
}

// A lesson program: its sizes and values from the defaults and --set, checked in full.
ResolvedSpec resolve_lesson(const ModelSpec& spec) {
  const Program& p = program(spec.program);
  if (const auto f = gpt2_flags_set(spec); !f.empty())
    throw Error(f[0] + " is a GPT-2 flag; program " + spec.program + " takes --set NAME=V (see gradscope-cli --help)");
  refuse_foreign_flags(spec, p);
  ResolvedSpec r;
  Config& c = r.config;
  c.program = spec.program;
  c.preset = spec.program;
  c.dtype = resolve_dtype(spec);
  if (spec.seed) c.seed = *spec.seed;
  p.configure(spec, c);
  for (const std::string& item : spec.sets) {
    auto [name, values, shape] = parse_set_shaped(item);
    if (shape) c.value_shapes[name] = *shape;
    if (c.values.count(name) || c.dims.count(name)) throw Error("--set " + name + " is given twice");
    bool is_dim = false;
    for (const DimInfo& d : p.dims()) is_dim = is_dim || d.name == name;
    if (is_dim) {
      if (values.size() != 1 || values[0] != std::floor(values[0]) || values[0] < 1 || values[0] > 4096)
        throw Error("--set " + name + ": the size " + name + " takes one whole number in 1 … 4096");
      c.dims[name] = static_cast<int64_t>(values[0]);
    } else {
      c.values[name] = values;
    }
  }
  p.infer_dims(c);
  for (const DimInfo& d : p.dims()) c.dims.try_emplace(d.name, d.fallback);
  c.validate();
  c.check_fits_in_memory();
  r.inputs = program_inputs(*program_for(c), c);  // checks every --set against the slots
  return r;
}

}  // namespace

ResolvedSpec resolve(const ModelSpec& spec) {
  if (!is_gpt2_program(spec.program)) return resolve_lesson(spec);
  refuse_foreign_flags(spec, program(spec.program));
  if (!spec.sets.empty()) throw Error("--set is for the lesson programs; gpt2 takes its shape from --preset and its flags");
  ResolvedSpec r;
  Config c = preset_config(spec.preset);
  c.dtype = resolve_dtype(spec);
  std::string vocab_chars;
  Config stored_config;  // what the checkpoint says it is
  if (!spec.checkpoint.empty()) {
    r.checkpoint = std::make_shared<st::File>(read_checkpoint(spec.checkpoint));
    r.checkpoint_path = spec.checkpoint;
    const CheckpointHeader h = checkpoint_header(*r.checkpoint, spec.checkpoint);
    stored_config = h.config;
    auto same = [&](const char* flag, const std::optional<int>& given, int stored) {
      if (given && *given != stored)
        throw Error(std::string(flag) + " " + std::to_string(*given) + " disagrees with the checkpoint's " +
                    std::to_string(stored));
    };
    same("--layers", spec.layers, h.config.n_layer);
    if (h.heads_known) same("--heads", spec.heads, h.config.n_head);
    same("--embd", spec.embd, h.config.n_embd);
    same("--vocab", spec.vocab, h.config.vocab_size);
    same("--ctx", spec.ctx, h.config.n_ctx);
    c.n_layer = h.config.n_layer;
    c.n_head = !h.heads_known && spec.heads ? *spec.heads : h.config.n_head;
    c.n_embd = h.config.n_embd;
    c.vocab_size = h.config.vocab_size;
    c.n_ctx = h.config.n_ctx;
    c.lora_rank = h.config.lora_rank;
    c.lora_alpha = h.config.lora_alpha;
    c.lora_targets = h.config.lora_targets;
    c.preset = "checkpoint";
    // Without --dtype, a checkpoint runs in the precision it was stored in: f64 for F64
    // (gradscope's tiny checkpoints), f32 for F32/F16/BF16 (GPT-2's own weights).
    if (!spec.dtype) {
      const st::Record* w = r.checkpoint->find("wte.weight");
      c.dtype = w && w->dtype == st::DType::F64 ? DType::f64 : DType::f32;
    }
    c.seq_len = std::min(c.seq_len, c.n_ctx);
    vocab_chars = h.vocab;
  } else {
    if (spec.layers) c.n_layer = *spec.layers;
    if (spec.heads) c.n_head = *spec.heads;
    if (spec.embd) c.n_embd = *spec.embd;
    if (spec.ctx) c.n_ctx = *spec.ctx;
    if (spec.vocab) c.vocab_size = *spec.vocab;
  }
  // The char tokenizer: the checkpoint's own vocabulary, else the default corpus's for the
  // char-level presets.
  if (!vocab_chars.empty())
    r.tokenizer = CharTokenizer::from_vocab(vocab_chars);
  else if (spec.checkpoint.empty() && spec.preset != "gpt2")
    r.tokenizer = CharTokenizer::from_corpus(default_corpus());
  if (spec.tokenizer && *spec.tokenizer != "char" && *spec.tokenizer != "gpt2")
    throw Error("unknown tokenizer '" + *spec.tokenizer + "' (expected char or gpt2)");
  if (spec.tokenizer && *spec.tokenizer == "gpt2") {
    r.tokenizer.reset();
    r.bpe = Gpt2Tokenizer::load(spec.vocab_dir.empty() ? default_gpt2_vocab_dir() : spec.vocab_dir);
    if (c.vocab_size == 0) c.vocab_size = r.bpe->size();
    if (r.bpe->size() > c.vocab_size)
      throw Error("the GPT-2 tokenizer has " + std::to_string(r.bpe->size()) + " tokens but the model's vocab_size is " +
                  std::to_string(c.vocab_size));
  }
  if (c.vocab_size == 0) c.vocab_size = r.tokenizer ? r.tokenizer->size() : 0;
  if (r.tokenizer && r.tokenizer->size() > c.vocab_size) r.tokenizer.reset();  // ids would not fit
  if (spec.tokenizer && *spec.tokenizer == "char" && !r.tokenizer)
    throw Error("this model has no character vocabulary (V=" + std::to_string(c.vocab_size) + "); use --tokenizer gpt2 or --tokens");

  if (spec.seed) c.seed = *spec.seed;
  if (spec.lora_rank) c.lora_rank = *spec.lora_rank;
  if (spec.lora_alpha) c.lora_alpha = *spec.lora_alpha;
  if (spec.lora_targets) c.lora_targets = parse_lora_targets(*spec.lora_targets);
  if (c.lora() && c.lora_alpha == 0 && !spec.lora_alpha) c.lora_alpha = c.lora_rank;
  if (spec.batch) c.batch = *spec.batch;

  std::optional<std::vector<int32_t>> stream;
  if (spec.text) {
    if (r.bpe)
      stream = r.bpe->encode(*spec.text);
    else if (r.tokenizer)
      stream = r.tokenizer->encode(*spec.text);
    else
      throw Error("--text needs a tokenizer, and this model (V=" + std::to_string(c.vocab_size) +
                  ") has no character vocabulary; pass --tokenizer gpt2 or --tokens");
  } else if (spec.tokens) {
    stream = parse_token_list(*spec.tokens);
  }
  if (spec.seq) {
    c.seq_len = *spec.seq;
  } else if (stream) {
    if (c.batch <= 0) throw Error("--batch (B) must be positive, got " + std::to_string(c.batch));
    if (stream->size() < 2) throw Error("the input has " + std::to_string(stream->size()) +
                                        " token(s); it needs at least 2 (one input and its next-token target)");
    c.seq_len = static_cast<int>((stream->size() - 1) / c.batch);
    if (c.seq_len < 1) throw Error("the input is too short for batch " + std::to_string(c.batch));
  }
  if (r.checkpoint) check_checkpoint_tensors(*r.checkpoint, stored_config, c, spec.checkpoint);  // before building
  c.validate();
  c.check_fits_in_memory();
  r.batch = stream ? batch_from_stream(*stream, c.batch, c.seq_len, c.vocab_size)
                   : random_batch(c.seed, c.batch, c.seq_len, c.vocab_size);
  validate_batch(r.batch, c);
  r.config = c;
  r.inputs = gpt2_inputs(r.batch, c.vocab_size);
  return r;
}

template <class T>
std::string Session<T>::token_text(int32_t id) const {
  if (bpe && id >= 0 && id < bpe->size()) return bpe->token(id);
  if (tokenizer) return tokenizer->token(id);
  return "#" + std::to_string(id);
}

template <class T>
Session<T>::Session(const ResolvedSpec& r) : tokenizer(r.tokenizer), bpe(r.bpe), inputs(r.inputs) {
  model = std::make_unique<Model<T>>(r.config);
  if (r.checkpoint) load_params(*model, *r.checkpoint, r.checkpoint_path);
  tape = std::make_unique<Tape<T>>(*model, inputs);
}

template <class T>
SessionSnapshot<T> Session<T>::snapshot(bool training_state) const {
  SessionSnapshot<T> s;
  s.spec.config = model->config();
  s.spec.tokenizer = tokenizer;
  s.spec.bpe = bpe;
  s.spec.inputs = inputs;
  // The inputs as the tape holds them now (GPT-2's training moves its token windows).
  for (Input& in : s.spec.inputs)
    if (const int id = tape->find_input(in.name); id >= 0)
      for (size_t i = 0; i < in.values.size(); ++i) in.values[i] = static_cast<double>(tape->value(id).data[int64_t(i)]);
  auto vec = [](const Tensor<T>& t) { return t.empty() ? std::vector<T>{} : std::vector<T>(t.begin(), t.end()); };
  for (const auto& p : model->params()) {
    s.data.push_back(vec(p.data));
    s.grad.push_back(training_state ? vec(p.grad) : std::vector<T>{});
    s.m.push_back(training_state ? vec(p.m) : std::vector<T>{});
    s.v.push_back(training_state ? vec(p.v) : std::vector<T>{});
  }
  for (int k = 0; k < tape->size(); ++k)
    if (tape->op(k).mistake != Mistake::none) s.mistakes.emplace_back(k, tape->op(k).mistake);
  return s;
}

template <class T>
std::unique_ptr<Session<T>> Session<T>::restore(const SessionSnapshot<T>& snap) {
  auto s = std::make_unique<Session<T>>(snap.spec);
  auto& ps = s->model->params();
  if (ps.size() != snap.data.size()) throw Error("the copy of the model has a different parameter list");
  auto put = [](const std::vector<T>& from, const Tensor<T>& to, const std::string& name) {
    if (static_cast<int64_t>(from.size()) != to.size()) throw Error("the copy of the model differs in " + name);
    std::copy(from.begin(), from.end(), to.data);
  };
  for (size_t i = 0; i < ps.size(); ++i) {
    put(snap.data[i], ps[i].data, ps[i].name);
    if (!snap.grad[i].empty() && !ps[i].grad.empty()) put(snap.grad[i], ps[i].grad, ps[i].name);
    if (!snap.m[i].empty()) {
      ps[i].m = s->model->alloc(ps[i].data.shape);
      ps[i].v = s->model->alloc(ps[i].data.shape);
      put(snap.m[i], ps[i].m, ps[i].name);
      put(snap.v[i], ps[i].v, ps[i].name);
    }
  }
  for (const auto& [k, m] : snap.mistakes) s->tape->set_mistake(k, m);
  return s;
}

template <class T>
void Session<T>::plant(const std::string& op_eq_kind) {
  const size_t eq = op_eq_kind.find('=');
  if (eq == std::string::npos) throw Error("--mistake '" + printable(op_eq_kind) + "' is not of the form OP=KIND");
  const std::string name = op_eq_kind.substr(0, eq);
  const int k = tape->find_op(name);
  if (k < 0) throw Error("--mistake: no op named '" + printable(name) + "' on the tape (see gradscope-cli ops)");
  try {
    tape->set_mistake(k, parse_mistake(op_eq_kind.substr(eq + 1)));
  } catch (const Error& e) {
    throw Error(std::string("--mistake: ") + e.what());
  }
}

template struct Session<float>;
template struct Session<double>;

}  // namespace gs
