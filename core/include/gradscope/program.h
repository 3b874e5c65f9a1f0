#pragma once
// Programs: what the tape records. GPT-2 (core/src/programs/gpt2.cpp) is one; the lesson models
// that lead up to it are the others (core/src/programs/lessons.cpp), from y = a·x + b to one
// causal attention head and a LoRA linear — the path of the backprop tutorial (docs/sources.md).
//
// A program declares its parameters (into a Model) and the inputs it reads, and records its ops
// through the Recorder, the tape's one recording point. Every program ends in a scalar loss.
// Names, shapes, op order and the loss of each program are a contract (docs/programs.md): the
// dump's keys are these names, and outside checks recompute the numbers by hand.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/config.h"
#include "gradscope/tape.h"

namespace gs {

struct ModelSpec;

// A parameter or input of a lesson program, with its default values.
struct Slot {
  std::string name;            // "a", "W", "ln.weight", "X", "target", "y"
  bool input = false;          // a leaf input of the tape rather than a parameter
  bool trainable = true;       // parameters: false for frozen ones (lora_linear's W and b)
  bool integer = false;        // class ids: whole numbers in [0, id_limit)
  int64_t id_limit = 0;
  Shape shape;                 // {} for a scalar
  std::vector<std::string> axes;
  std::vector<double> values;  // every entry, row-major (fixed defaults or seeded)
  std::string label;           // its symbol in the views ("γ"); "" = the name
  std::string what;            // one line: what it is
  bool grad = false;           // inputs: compute ∂L/∂input (shown, never trained; Input::grad)
};

// A size of a lesson program (n, m, p …), settable with --set NAME=V.
struct DimInfo {
  std::string name;
  int64_t fallback;
  std::string what;
};

class Program {
 public:
  virtual ~Program() = default;
  virtual const char* name() const = 0;         // "line"
  virtual const char* description() const = 0;  // one line: "y = a·x + b: one weight and one bias"
  virtual bool is_gpt2() const { return false; }
  // Sizes --set may change, with their defaults.
  virtual std::vector<DimInfo> dims() const { return {}; }
  // Sizes implied by the values given (line's P from the length of x and t); called before slots().
  virtual void infer_dims(Config&) const {}
  // The parameters and inputs for cfg.dims, with their default values (seeded from cfg.seed),
  // before cfg.values are applied.
  virtual std::vector<Slot> slots(const Config& cfg) const = 0;
  // Puts the parameters into `model` (GPT-2: its own initialisation; lessons: their slots).
  virtual void declare(Model<float>& model) const = 0;
  virtual void declare(Model<double>& model) const = 0;
  // Records the forward pass, ending in the scalar loss.
  virtual void record(Recorder<float>& r, const Config& cfg) const = 0;
  virtual void record(Recorder<double>& r, const Config& cfg) const = 0;
  // The closed form of the backward FLOPs, where the program has one (GPT-2); -1 otherwise.
  virtual int64_t closed_form_bwd(const Config&, int /*B*/, int /*T*/) const { return -1; }
  virtual int64_t full_finetune_bwd(const Config&, int /*B*/, int /*T*/) const { return -1; }
  // Throws gs::Error naming the first problem with cfg (sizes, LoRA settings).
  virtual void validate(const Config& cfg) const = 0;
  // A generous estimate of the bytes a model and its tape take.
  virtual double estimated_bytes(const Config& cfg) const = 0;

  // [SECTION] what a program carries beyond the MODEL flags every program takes
  // (--set, --seed, --dtype): its own flags, how they become settings, and how it is made.

  // Its own MODEL flags ("--lora-rank", "--model" …); another program refuses them, naming those
  // that take them.
  virtual std::vector<std::string> own_flags() const { return {}; }
  // Applies its own flags of `spec` to `cfg` and checks them (one line naming the flag).
  virtual void configure(const ModelSpec&, Config&) const {}
  // Its settings as (key, JSON value) pairs for the dump's `config` and for `info`.
  virtual std::vector<std::pair<std::string, std::string>> settings_record(const Config&) const { return {}; }
  // A program made from the settings (the custom program parses its text); nullptr: this object
  // serves every config.
  virtual std::shared_ptr<const Program> make(const Config&) const { return nullptr; }
  // The names --set and a lesson's [values] may give: parameters, inputs and sizes.
  virtual std::vector<std::string> value_names(const Config& cfg) const;
  // The model is a line y = a·x + b with parameters a and b fitted to points (x, t): the views may
  // draw the fit and the loss over the plane of (a, b).
  virtual bool line_fit() const { return false; }
  // The dump holds grad.<input> for its inputs too (a model of one's own: every leaf's gradient).
  virtual bool input_grads_in_dump() const { return false; }
};

// Every program, in the order of the lessons (gpt2 last; custom, made from text, before it).
const std::vector<const Program*>& programs();
// Whether `name` is GPT-2's program (false for an unknown name): what the callers that hold only
// a name ask, instead of comparing it with a string.
bool is_gpt2_program(const std::string& name);
// The program a config records: programs() by name, or one made from its settings (custom).
// Throws gs::Error for an unknown name or bad settings.
std::shared_ptr<const Program> program_for(const Config& cfg);
// The program of that name; throws gs::Error listing the names for an unknown one.
const Program& program(const std::string& name);

// A lesson program's slots for cfg with cfg.values applied: a value list must have one entry
// (it fills the tensor) or one per entry; integer slots take whole numbers in range. Throws
// gs::Error naming the `--set` that is wrong.
std::vector<Slot> resolved_slots(const Program& p, const Config& cfg);
// The inputs (the slots marked input) of a lesson program for cfg.
Inputs program_inputs(const Program& p, const Config& cfg);

// "x=1,2,3" → name and values; throws gs::Error for a missing '=', an empty name or a value
// that is not a finite number.
std::pair<std::string, std::vector<double>> parse_set(const std::string& item);
// The same, with rows: "W=1,2;3,4" is a 2×2 matrix (shape set); without ';' no shape is said.
struct SetItem {
  std::string name;
  std::vector<double> values;
  std::optional<Shape> shape;
};
SetItem parse_set_shaped(const std::string& item);

}  // namespace gs
