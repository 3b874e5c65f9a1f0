#pragma once
// From a model description (the MODEL flags of docs/cli.md) to a ready tape: program, preset,
// checkpoint, overrides, tokenizer and batch (or a lesson program's --set values) resolved in
// one place, for the CLI and the app alike.
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
  std::string program = "gpt2";      // --program: gpt2 or a lesson model (program.h)
  std::vector<std::string> sets;     // --set NAME=V[,V…], in the order given (lesson programs)
  // The custom program (a model of one's own, model_text.h): its text (--model), or the file that
  // holds it (--model-file), and the leaves that are data (--inputs NAME,…).
  std::optional<std::string> model_text, model_file, inputs;
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
  Batch batch;                       // GPT-2's token windows (empty for a lesson program)
  Inputs inputs;                     // the tape's leaf inputs (GPT-2: tokens and targets from the batch)
  std::shared_ptr<st::File> checkpoint;  // parsed file when one was given
  std::string checkpoint_path;
};

// Throws gs::Error with one line naming the first problem.
ResolvedSpec resolve(const ModelSpec& spec);
// The GPT-2 flags a spec sets ("--layers", "--text" …): a lesson program refuses them.
std::vector<std::string> gpt2_flags_set(const ModelSpec& spec);
// The flags of a spec that belong to some programs only (Program::own_flags: "--lora-rank",
// "--model" …), those it sets.
std::vector<std::string> program_flags_set(const ModelSpec& spec);
DType resolve_dtype(const ModelSpec& spec);
std::vector<int32_t> parse_token_list(const std::string& s);
Mistake parse_mistake(const std::string& id);

template <class T>
struct Session;

// What a copy of a session is made from, taken quickly (plain copies of its buffers) so that the
// copy itself can be built elsewhere (a worker thread): the settings and tokenizers, the inputs as
// the tape holds them now, every parameter's values (and gradients and AdamW moments, where there
// are any), and the planted mistakes.
template <class T>
struct SessionSnapshot {
  ResolvedSpec spec;
  std::vector<std::vector<T>> data, grad, m, v;  // per parameter, in order (empty: none)
  std::vector<std::pair<int, Mistake>> mistakes;
};

template <class T>
struct Session {
  explicit Session(const ModelSpec& spec) : Session(resolve(spec)) {}
  explicit Session(const ResolvedSpec& r);

  // "op.name=mistake_id": plants a mistake (gs::Error for an unknown op or an unsupported kind).
  void plant(const std::string& op_eq_kind);
  // Another session with the same program, config, inputs, tokenizers, parameters (values,
  // gradients, AdamW moments) and planted mistakes; its tape not computed yet. What background
  // work (training, planting, checks) runs on: copy(), or snapshot() now and restore() elsewhere.
  std::unique_ptr<Session> copy() const { return restore(snapshot()); }
  // `training_state`: the gradients and AdamW moments too (what an optimiser step goes on from).
  SessionSnapshot<T> snapshot(bool training_state = true) const;
  static std::unique_ptr<Session> restore(const SessionSnapshot<T>& s);

  std::unique_ptr<Model<T>> model;
  std::unique_ptr<Tape<T>> tape;
  std::optional<CharTokenizer> tokenizer;
  std::optional<Gpt2Tokenizer> bpe;
  Inputs inputs;  // as the tape was built on

  // One token as text, by whichever tokenizer the model has ("#id" if none).
  std::string token_text(int32_t id) const;
};

extern template struct Session<float>;
extern template struct Session<double>;

}  // namespace gs
