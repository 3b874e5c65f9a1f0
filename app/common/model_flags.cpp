#include "model_flags.h"

#include <limits>

#include "gradscope/error.h"
#include "gradscope/lesson.h"
#include "gradscope/program.h"

namespace gs::flags {

bool ModelFlags::given(const std::string& flag) const {
  // The same flag may be on several subcommands (the CLI's): given on any of them.
  const std::string name = flag.substr(flag.find_first_not_of('-'));
  for (const CLI::Option* o : options)
    if (o->check_lname(name) && o->count() > 0) return true;
  return false;
}

bool ModelFlags::any_given() const {
  for (const CLI::Option* o : options)
    if (o->count() > 0) return true;
  return false;
}

namespace {

// Checks whose messages state the rule. An empty path names no file (it is not "no file"), and
// "-1" for an unsigned flag would wrap around to 2^64 − 1.
const CLI::Validator kPath([](std::string& s) { return s.empty() ? std::string("an empty path names no file") : ""; },
                           "PATH");
const CLI::Validator kUnsigned(
    [](std::string& s) {
      return s.empty() || s.find_first_not_of("0123456789") != std::string::npos
                 ? "'" + s + "' is not a non-negative integer (0 … 18446744073709551615)"
                 : std::string();
    },
    "UINT");

}  // namespace

std::string programs_help() {
  std::string s = "Programs (--program NAME; default gpt2):\n";
  for (const Program* p : programs()) {
    std::string name = p->name();
    name.resize(std::max<size_t>(name.size() + 1, 13), ' ');
    s += "  " + name + p->description() + "\n";
  }
  return s;
}

void add_model_options(CLI::App& app, ModelFlags& f, const std::string& group, bool with_threads) {
  auto& s = f.spec;
  auto add = [&](CLI::Option* o) {
    if (!group.empty()) o->group(group);
    f.options.push_back(o);
    return o;
  };
  std::vector<std::string> names;
  for (const Program* p : programs()) names.push_back(p->name());
  add(app.add_option("--program", s.program, "the model on the tape: gpt2 (default) or a lesson model (see below)"))
      ->check(CLI::IsMember(names));
  add(app.add_option("--set", s.sets,
                     "a lesson program's parameter, input or size: NAME=V (every entry) or NAME=V,V,… (row-major; "
                     "rows of a matrix separated by ';'); repeatable"));
  add(app.add_option("--model", s.model_text,
                     "custom: the model's text, one assignment per line or ';' between them, e.g. 'q = x + y; f = q * z'"));
  add(app.add_option("--model-file", s.model_file, "custom: a file holding the model's text"))->check(kPath);
  add(app.add_option("--inputs", s.inputs, "custom: the leaves that are data (never trained), e.g. x,t"));
  add(app.add_option("--lesson", f.lesson,
                     "a lesson's program and values: its id (gradscope-cli lessons lists them) or a lesson file"))
      ->check(CLI::Validator(
          [](std::string& v) { return v.empty() ? std::string("an empty value names no lesson") : std::string(); },
          "ID|FILE"));
  add(app.add_option("--preset", s.preset, "gpt2: tiny | small | gpt2 (the 124M shape)"))
      ->check(CLI::IsMember({"tiny", "small", "gpt2"}));
  add(app.add_option("--layers", s.layers, "gpt2: n_layer L"));
  add(app.add_option("--heads", s.heads, "gpt2: n_head H"));
  add(app.add_option("--embd", s.embd, "gpt2: n_embd C"));
  add(app.add_option("--vocab", s.vocab, "gpt2: vocab_size V"))->check(CLI::Range(1, std::numeric_limits<int>::max()));
  add(app.add_option("--ctx", s.ctx, "gpt2: n_ctx (max positions)"));
  add(app.add_option("--seq", s.seq, "gpt2: sequence length T"));
  add(app.add_option("--batch", s.batch, "gpt2: batch size B"));
  add(app.add_option("--seed", s.seed, "initialisation and token seed"))->check(kUnsigned);
  add(app.add_option("--dtype", s.dtype, "f32 | f64 (default: f64 for tiny and the lesson programs, else f32)"))
      ->check(CLI::IsMember({"f32", "f64"}));
  auto* text = add(app.add_option("--text", s.text, "gpt2: input text, read by the tokenizer"));
  auto* toks = add(app.add_option("--tokens", s.tokens, "gpt2: input token ids, comma separated"));
  text->excludes(toks);
  add(app.add_option("--lora-rank", s.lora_rank, "LoRA rank r (gpt2: 0 = full fine-tuning; lora_linear: its r)"));
  add(app.add_option("--lora-alpha", s.lora_alpha, "LoRA alpha (default: r)"));
  add(app.add_option("--lora-targets", s.lora_targets, "gpt2: attn.c_attn,attn.c_proj,mlp.c_fc,mlp.c_proj"));
  add(app.add_option("--checkpoint", s.checkpoint,
                     "gpt2: a checkpoint: gradscope or Hugging Face .safetensors, or llm.c .bin"))
      ->check(kPath);
  if (with_threads) add(app.add_option("--threads", s.threads, "threads (default: all cores)"));
  add(app.add_option("--tokenizer", s.tokenizer,
                     "gpt2: char | gpt2 (default: char where the model has a character vocabulary)"));
  add(app.add_option("--vocab-dir", s.vocab_dir,
                     "gpt2: GPT-2's vocabulary: encoder.json + vocab.bpe, or vocab.json + merges.txt"))
      ->check(kPath);
}

ModelSpec effective_spec(const ModelFlags& f) {
  if (f.lesson.empty()) return f.spec;
  for (const CLI::Option* o : f.options) {
    if (o->count() == 0) continue;
    const std::string n = o->get_name();
    if (n != "--lesson" && n != "--dtype" && n != "--seed" && n != "--threads" && n != "--set")
      throw Error(n + " cannot be given with --lesson, which sets the model (beside it: --dtype, --seed, --set, --threads)");
  }
  ModelSpec s = find_lesson(f.lesson).spec;
  if (f.spec.dtype) s.dtype = f.spec.dtype;
  if (f.spec.seed) s.seed = f.spec.seed;
  s.threads = f.spec.threads;
  // A --set on top of the lesson replaces the lesson's value of that name.
  for (const std::string& item : f.spec.sets) {
    const std::string name = item.substr(0, item.find('='));
    std::erase_if(s.sets, [&](const std::string& x) { return x.substr(0, x.find('=')) == name; });
  }
  s.sets.insert(s.sets.end(), f.spec.sets.begin(), f.spec.sets.end());
  return s;
}

}  // namespace gs::flags
