#pragma once
// The MODEL flags (docs/cli.md), one parser for the CLI and the app: --program and --set for the
// lesson models, GPT-2's preset, shape, input, LoRA, checkpoint and tokenizer flags.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "gradscope/session.h"

namespace gs::flags {

struct ModelFlags {
  ModelSpec spec;
  std::string lesson;                 // --lesson ID|FILE: that lesson's program and values
  std::vector<CLI::Option*> options;  // every model flag added, to ask which were given
  bool given(const std::string& flag) const;  // "--text"
  bool any_given() const;
};

// Adds every model flag to `app`, in `group` ("" : the default group). `with_threads`: --threads
// (the app sizes its own thread pool).
void add_model_options(CLI::App& app, ModelFlags& f, const std::string& group = "", bool with_threads = true);

// The programs, one line each, for --help.
std::string programs_help();

// The model the flags ask for: `spec`, or with --lesson that lesson's program and values, with
// --dtype, --seed, --threads and --set on top (any other model flag beside --lesson is an error).
// Throws gs::Error with one line.
ModelSpec effective_spec(const ModelFlags& f);

}  // namespace gs::flags
