#include "gradscope/session.h"

#include <charconv>
#include <cstdlib>

#include "gradscope/checkpoint.h"
#include "gradscope/error.h"

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
  for (int m = 0; m < kNumMistakes; ++m)
    if (id == kMistakeInfo[m].id) return static_cast<Mistake>(m);
  std::string all;
  for (int m = 1; m < kNumMistakes; ++m) all += std::string(m > 1 ? ", " : "") + kMistakeInfo[m].id;
  throw Error("unknown mistake '" + id + "' (expected one of " + all + ")");
}

DType resolve_dtype(const ModelSpec& spec) {
  if (spec.dtype) {
    if (*spec.dtype == "f32") return DType::f32;
    if (*spec.dtype == "f64") return DType::f64;
    throw Error("unknown dtype '" + *spec.dtype + "' (expected f32 or f64)");
  }
  return preset_config(spec.preset).dtype;
}

std::string default_gpt2_vocab_dir() {
  if (const char* e = std::getenv("GRADSCOPE_GPT2_VOCAB"); e && *e) return e;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/gradscope/gpt2-vocab";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/gradscope/gpt2-vocab";
  return "gpt2-vocab";
}

ResolvedSpec resolve(const ModelSpec& spec) {
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
  return r;
}

template <class T>
std::string Session<T>::token_text(int32_t id) const {
  if (bpe && id >= 0 && id < bpe->size()) return bpe->token(id);
  if (tokenizer) return tokenizer->token(id);
  return "#" + std::to_string(id);
}

template <class T>
Session<T>::Session(const ResolvedSpec& r) : tokenizer(r.tokenizer), bpe(r.bpe) {
  model = std::make_unique<Model<T>>(r.config);
  if (r.checkpoint) load_params(*model, *r.checkpoint, r.checkpoint_path);
  tape = std::make_unique<Tape<T>>(*model, r.batch);
}

template <class T>
void Session<T>::plant(const std::string& op_eq_kind) {
  const size_t eq = op_eq_kind.find('=');
  if (eq == std::string::npos) throw Error("--mistake '" + op_eq_kind + "' is not of the form OP=KIND");
  const std::string name = op_eq_kind.substr(0, eq);
  const int k = tape->find_op(name);
  if (k < 0) throw Error("--mistake: no op named '" + name + "' on the tape (see gradscope-cli ops)");
  tape->set_mistake(k, parse_mistake(op_eq_kind.substr(eq + 1)));
}

template struct Session<float>;
template struct Session<double>;

}  // namespace gs
