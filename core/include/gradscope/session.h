#pragma once
// From a model description (DESIGN.md's MODEL flags) to a ready tape: preset, checkpoint,
// overrides, tokenizer and batch resolved in one place, for the CLI and the app alike.
#include <memory>
#include <optional>
#include <string>

#include "gradscope/bpe.h"
#include "gradscope/config.h"
#include "gradscope/model.h"
#include "gradscope/safetensors.h"
#include "gradscope/tape.h"
#include "gradscope/tokenizer.h"

namespace gs {

struct ModelSpec {
  std::string preset = "tiny";
  std::optional<int> layers, heads, embd, vocab, ctx, seq, batch;
  std::optional<uint64_t> seed;
  std::optional<std::string> dtype;           // "f32" | "f64"
  std::optional<std::string> text, tokens;    // tokens: "1,2,3"
  std::optional<int> lora_rank;
  std::optional<double> lora_alpha;
  std::optional<std::string> lora_targets;    // "attn.c_attn,mlp.c_fc"
  std::string checkpoint;
  std::optional<std::string> tokenizer;  // "char" | "gpt2" (default: char where the model has one)
  std::string vocab_dir;                 // GPT-2 vocabulary files (default: $GRADSCOPE_GPT2_VOCAB, then the cache)
  int threads = 0;
};

// Where GPT-2's vocabulary is looked for when no directory is given: $GRADSCOPE_GPT2_VOCAB,
// else ${XDG_CACHE_HOME:-$HOME/.cache}/gradscope/gpt2-vocab (what scripts/fetch-gpt2-vocab fills).
std::string default_gpt2_vocab_dir();

struct ResolvedSpec {
  Config config;
  std::optional<CharTokenizer> tokenizer;
  std::optional<Gpt2Tokenizer> bpe;  // with --tokenizer gpt2
  Batch batch;
  std::shared_ptr<st::File> checkpoint;  // parsed file when one was given
  std::string checkpoint_path;
};

// Throws gs::Error with one line naming the first problem.
ResolvedSpec resolve(const ModelSpec& spec);
DType resolve_dtype(const ModelSpec& spec);
std::vector<int32_t> parse_token_list(const std::string& s);
Mistake parse_mistake(const std::string& id);

template <class T>
struct Session {
  explicit Session(const ModelSpec& spec) : Session(resolve(spec)) {}
  explicit Session(const ResolvedSpec& r);

  // "op.name=mistake_id": plants a mistake (gs::Error for an unknown op or an unsupported kind).
  void plant(const std::string& op_eq_kind);

  std::unique_ptr<Model<T>> model;
  std::unique_ptr<Tape<T>> tape;
  std::optional<CharTokenizer> tokenizer;
  std::optional<Gpt2Tokenizer> bpe;

  // One token as text, by whichever tokenizer the model has ("#id" if none).
  std::string token_text(int32_t id) const;
};

extern template struct Session<float>;
extern template struct Session<double>;

}  // namespace gs
