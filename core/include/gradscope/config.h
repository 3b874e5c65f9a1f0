#pragma once
// The run's settings: which program the tape records (GPT-2 or a lesson model, program.h) and
// its sizes. GPT-2's shape uses the letters of docs/model.md (L, H, C, V, n_ctx, T, B, r); a
// lesson program keeps its own sizes (n, m, p, P …) and the values set with --set.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gradscope/tensor.h"

namespace gs {

enum class DType { f32, f64 };

// The four linears LoRA may adapt, by their names in docs/model.md.
enum class LoraTarget { attn_c_attn, attn_c_proj, mlp_c_fc, mlp_c_proj };
const char* lora_target_name(LoraTarget t);     // "attn.c_attn"
LoraTarget parse_lora_target(const std::string&);  // throws gs::Error naming the bad target
std::vector<LoraTarget> parse_lora_targets(const std::string& comma_list);
// "a, b,,c" → {"a", "b", "", "c"}: the items of a comma-separated list, spaces around each
// trimmed, empty items kept (callers reject or skip them). "" → {""}.
std::vector<std::string> split_comma_list(const std::string& s);

struct Config {
  // The program the tape records: "gpt2" (the fields below describe it) or a lesson model.
  std::string program = "gpt2";
  // Lesson programs: their sizes by name (n, m, p, K, C, T, d, P), and values given with
  // --set NAME=V,… (one value: every entry; else every entry row-major), by parameter or input.
  std::map<std::string, int64_t> dims;
  std::map<std::string, std::vector<double>> values;
  // The shape a value was written in, where it says one: a list is a vector, a list of rows a
  // matrix (a model of one's own takes its leaves' shapes from their values). Absent: one number
  // for one value, a vector for several.
  std::map<std::string, Shape> value_shapes;
  // A program's own settings beyond sizes and values (Program::configure): the custom program's
  // model text ("model") and the leaves that are data ("inputs", comma-separated).
  std::map<std::string, std::string> settings;

  std::string preset = "tiny";
  int n_layer = 2;      // L
  int n_head = 2;       // H
  int n_embd = 16;      // C
  int vocab_size = 0;   // V (0: the char tokenizer's vocabulary)
  int n_ctx = 32;       // max positions
  int seq_len = 8;      // T
  int batch = 1;        // B
  uint64_t seed = 1337;
  DType dtype = DType::f64;
  int lora_rank = 0;    // r; 0 = full fine-tuning (the lora_linear program: its r)
  double lora_alpha = 0;  // 0 = same as r (scale 1)
  std::vector<LoraTarget> lora_targets{LoraTarget::attn_c_attn};

  bool is_gpt2() const;  // the program is GPT-2 (program.h: is_gpt2_program)
  int64_t dim(const std::string& name) const;  // a lesson program's size; throws gs::Error if it has none
  int head_size() const { return n_embd / n_head; }  // d
  bool lora() const { return lora_rank > 0; }
  double lora_scale() const { return lora_alpha / lora_rank; }  // α / r
  bool lora_on(LoraTarget t) const;
  // Throws gs::Error with one line naming the first problem (C % H != 0, T > n_ctx, sizes <= 0 ...).
  void validate() const;
  // The dump's and checkpoint's `config` metadata: "program" and, for GPT-2, its shape and LoRA
  // settings; for a lesson program, its sizes (and r, α for lora_linear).
  std::string json() const;
  // A generous estimate of the bytes a model and its tape take (parameters, gradients, AdamW
  // moments, every stored value, gradient and share; LoRA's adapters and their values too).
  double estimated_bytes() const;
  double lora_params() const;  // entries of every LoRA A and B (0 without LoRA)
  // Throws gs::Error when estimated_bytes() exceeds most of this machine's memory (gs::check_memory).
  void check_fits_in_memory() const;
};

// tiny | small | gpt2; throws gs::Error for anything else.
Config preset_config(const std::string& name);

const char* dtype_name(DType d);  // "f32" / "f64"

}  // namespace gs
