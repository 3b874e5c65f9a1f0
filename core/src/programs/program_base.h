#pragma once
// Shared by the program files: the float/double plumbing of the Program interface, and the
// base of the lesson models (parameters and inputs from their slots).
#include <cmath>

#include "gradscope/error.h"
#include "gradscope/program.h"
#include "gradscope/rng.h"

namespace gs::prog {

// Implements Program's per-type virtuals with the derived class's templates
// declare_t<T>(Model<T>&) and record_t<T>(Recorder<T>&, const Config&).
template <class Derived>
class ProgramOf : public Program {
 public:
  void declare(Model<float>& m) const override { self().declare_t(m); }
  void declare(Model<double>& m) const override { self().declare_t(m); }
  void record(Recorder<float>& r, const Config& c) const override { self().record_t(r, c); }
  void record(Recorder<double>& r, const Config& c) const override { self().record_t(r, c); }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

// A lesson model: a handful of named parameters and inputs (slots), a few ops.
template <class Derived>
class Lesson : public ProgramOf<Derived> {
 public:
  template <class T>
  void declare_t(Model<T>& m) const {
    for (const Slot& s : resolved_slots(*this, m.config())) {
      if (s.input) continue;
      Param<T>& p = m.add(s.name, s.shape, s.trainable);
      for (int64_t i = 0; i < p.data.size(); ++i) p.data[i] = static_cast<T>(s.values[i]);
      p.label = s.label.empty() ? s.name : s.label;
      p.axes = s.axes;
    }
  }
  void validate(const Config& cfg) const override {
    for (const DimInfo& d : this->dims()) {
      const int64_t v = cfg.dim(d.name);
      if (v < 1 || v > kMaxDim)
        throw Error(std::string(this->name()) + ": size " + d.name + " must lie in 1 … " + std::to_string(kMaxDim) +
                    ", got " + std::to_string(v));
    }
  }
  double estimated_bytes(const Config& cfg) const override {
    double n = 0;
    for (const Slot& s : this->slots(cfg)) n += double(numel(s.shape));
    // Every value, gradient and share on the tape is a few times the largest operand.
    return 64.0 * n * (cfg.dtype == DType::f64 ? 8 : 4) + 65536;
  }
  // Lesson models are for reading: no size beyond what a screen shows.
  static constexpr int64_t kMaxDim = 4096;
};

// Seeded values a class can read: normal(0, std), rounded to two decimals.
inline std::vector<double> seeded(Rng& rng, int64_t n, double std, double mean = 0) {
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& x : v) x = std::round((mean + rng.normal(0.0, std)) * 100.0) / 100.0 + 0.0;  // + 0.0: no −0
  return v;
}

}  // namespace gs::prog
