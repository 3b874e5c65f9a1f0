#pragma once
// gradscope's checkpoints and dumps: safetensors files with parameters under their Hugging Face
// names and a `config` JSON string in the metadata (plus `vocab` for the char tokenizer).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/config.h"
#include "gradscope/model.h"
#include "gradscope/safetensors.h"
#include "gradscope/tape.h"

namespace gs {

struct CheckpointHeader {
  Config config;           // architecture (and LoRA settings) as stored or inferred
  std::string vocab;       // the char tokenizer's characters in id order; empty if not stored
  bool heads_known = true;  // false: n_head was guessed from the shapes (a flag may set it)
};

// Reads any checkpoint gradscope knows, as a safetensors File under gradscope's names:
//  - gradscope's own .safetensors (train --save, dump);
//  - Hugging Face GPT-2 model.safetensors: an optional "transformer." prefix is dropped, the
//    attn.bias / attn.masked_bias buffers and a tied lm_head.weight are ignored, F16/BF16 are
//    widened on load; n_head comes from a config.json beside the file when there is one;
//  - llm.c's gpt2_124M.bin (256-int header, fp32 or bf16, padded vocabulary): its (out, in)
//    weights are transposed to the (in, out) Conv1D layout.
// Throws gs::Error naming the file and the problem.
st::File read_checkpoint(const std::string& path);
// llm.c's format from memory (what read_checkpoint does for a .bin); `path` names it in errors.
st::File parse_llmc(const uint8_t* data, size_t size, const std::string& path);

// Reads the architecture of a checkpoint: from its `config` metadata when present, else from
// the tensor shapes. Strict: every value it uses must be there with the right JSON type and in
// range (n_head 2^32+2 is not 2); a bad value is named by file and key, never as a flag.
// Throws gs::Error naming the file and the problem.
CheckpointHeader checkpoint_header(const st::File& file, const std::string& path);

// Every parameter of GPT-2 at `cfg` (LoRA adapters included), by name and shape, in the order a
// Model lays them out; nothing is allocated.
std::vector<std::pair<std::string, Shape>> parameter_shapes(const Config& cfg);

// Before anything is built: the file's tensors against the model that will run (`run`: its
// config after the flags) and what the file says it is (`stored`: checkpoint_header's). Throws
// gs::Error naming the file and what disagrees: a missing parameter, a shape or dtype, a tensor
// the model has no place for (layer K past n_layer, an adapter on another target, anything
// else but a dump's tokens/targets/loss/grad.*/act.*/resid.*), flags that would drop or
// reinterpret the file's LoRA adapters (--lora-rank 0, another rank, targets or alpha), or a
// model, tape and file that would not fit in memory together. Adapters the flags add on targets
// the file has none for start fresh (A random, B = 0).
void check_checkpoint_tensors(const st::File& file, const Config& stored, const Config& run, const std::string& path);

// Loads every base parameter (and the LoRA ones the file has; missing LoRA ones keep their
// fresh initialisation). Checks names, shapes, dtypes and finiteness (after the conversion to
// T: an F64 value beyond float's range is refused in f32) before changing anything.
template <class T>
void load_params(Model<T>& model, const st::File& file, const std::string& path);

// Both refuse to write NaN or ±∞ (the causal mask's −∞ excepted), and write the tensors from
// where they are (no copy), whole or not at all (gradscope/fileio.h).
template <class T>
void save_checkpoint(const std::string& path, const Model<T>& model, const std::string& vocab);

// The dump of docs/cli.md: parameters, inputs, loss, grad.<name> of every trainable parameter;
// with activations also act.<op> (each op's output) and resid.<op> (∂L/∂ that output).
template <class T>
void write_dump(const std::string& path, const Tape<T>& tape, bool activations);

}  // namespace gs
