// The programs' registry and what every lesson model shares: --set values applied to slots.
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "gradscope/error.h"
#include "gradscope/program.h"

namespace gs {

namespace prog {
// Defined in gpt2.cpp and lessons.cpp.
const Program& gpt2();
const Program& custom();
std::vector<const Program*> lessons();
}  // namespace prog

const std::vector<const Program*>& programs() {
  static const std::vector<const Program*> all = [] {
    std::vector<const Program*> v = prog::lessons();
    v.push_back(&prog::custom());
    v.push_back(&prog::gpt2());
    return v;
  }();
  return all;
}

const Program& program(const std::string& name) {
  for (const Program* p : programs())
    if (name == p->name()) return *p;
  std::string names;
  for (const Program* p : programs()) names += std::string(names.empty() ? "" : ", ") + p->name();
  throw Error("unknown program '" + name + "' (expected one of " + names + ")");
}

bool is_gpt2_program(const std::string& name) {
  for (const Program* p : programs())
    if (name == p->name()) return p->is_gpt2();
  return false;
}

std::vector<std::string> Program::value_names(const Config& cfg) const {
  std::vector<std::string> v;
  for (const Slot& s : slots(cfg)) v.push_back(s.name);
  for (const DimInfo& d : dims()) v.push_back(d.name);
  return v;
}

std::shared_ptr<const Program> program_for(const Config& cfg) {
  const Program& p = program(cfg.program);
  if (auto made = p.make(cfg)) return made;
  return std::shared_ptr<const Program>(std::shared_ptr<const Program>{}, &p);  // registered: lives as long as the process
}

int64_t Config::dim(const std::string& name) const {
  if (auto it = dims.find(name); it != dims.end()) return it->second;
  for (const DimInfo& d : gs::program(program).dims())
    if (d.name == name) return d.fallback;
  throw Error("program " + program + " has no size '" + name + "'");
}

std::pair<std::string, std::vector<double>> parse_set(const std::string& item) {
  auto s = parse_set_shaped(item);
  return {s.name, s.values};
}

SetItem parse_set_shaped(const std::string& item) {
  const size_t eq = item.find('=');
  if (eq == std::string::npos) throw Error("--set '" + item + "' is not of the form NAME=V or NAME=V,V,…");
  std::string name = item.substr(0, eq);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  while (!name.empty() && name.front() == ' ') name.erase(0, 1);
  if (name.empty()) throw Error("--set '" + item + "' has no name before '='");
  // Rows separated by ';' make a matrix (--set 'W=1,2;3,4'); every row the same length.
  std::vector<std::string> rows;
  const std::string rhs = item.substr(eq + 1);
  for (size_t a = 0, b; a <= rhs.size(); a = b + 1) {
    b = rhs.find(';', a);
    if (b == std::string::npos) b = rhs.size();
    rows.push_back(rhs.substr(a, b - a));
  }
  // A ';' at the end closes the last row: 'W=1,2,3;' is a matrix of one row.
  if (rows.size() > 1 && rows.back().empty()) rows.pop_back();
  const bool matrix = rhs.find(';') != std::string::npos;
  std::vector<double> values;
  std::optional<Shape> shape;
  if (matrix) {
    size_t cols = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      const size_t n = split_comma_list(rows[r]).size();
      if (r == 0) cols = n;
      if (n != cols)
        throw Error("--set " + name + ": row " + std::to_string(r + 1) + " has " + std::to_string(n) + " values, row 1 has " +
                    std::to_string(cols) + " (a matrix's rows, separated by ';', must be the same length)");
    }
    shape = Shape{static_cast<int64_t>(rows.size()), static_cast<int64_t>(cols)};
  }
  std::string joined;
  for (const std::string& r : rows) joined += (joined.empty() ? "" : ",") + r;
  for (const std::string& v : split_comma_list(joined)) {
    double x = 0;
    const char* end = v.data() + v.size();
    auto [p, ec] = std::from_chars(v.data(), end, x);
    if (v.empty() || ec != std::errc() || p != end)
      throw Error("--set " + name + ": '" + v + "' (value " + std::to_string(values.size() + 1) + ") is not a number");
    if (!std::isfinite(x)) throw Error("--set " + name + ": '" + v + "' is not a finite number");
    values.push_back(x);
  }
  return {name, values, shape};
}

std::vector<Slot> resolved_slots(const Program& p, const Config& cfg) {
  std::vector<Slot> slots = p.slots(cfg);
  for (const auto& [name, vals] : cfg.values) {
    Slot* s = nullptr;
    for (Slot& x : slots)
      if (x.name == name) s = &x;
    if (!s) {
      std::string known;
      for (const Slot& x : slots) known += std::string(known.empty() ? "" : ", ") + x.name;
      for (const DimInfo& d : p.dims()) known += ", " + d.name + " (a size)";
      throw Error("--set " + name + ": program " + p.name() + " has no parameter, input or size '" + name + "' (it has " +
                  known + ")");
    }
    const int64_t n = numel(s->shape);
    if (vals.size() != 1 && static_cast<int64_t>(vals.size()) != n)
      throw Error("--set " + name + ": " + std::to_string(vals.size()) + " values, but " + name + " " +
                  shape_str(s->shape) + " has " + std::to_string(n) + " entries (give one value for all, or " +
                  std::to_string(n) + ")");
    for (size_t i = 0; i < vals.size(); ++i) {
      if (!s->integer) continue;
      if (vals[i] != std::floor(vals[i]) || vals[i] < 0 || vals[i] >= double(s->id_limit))
        throw Error("--set " + name + ": value " + std::to_string(i + 1) + " must be a class id, a whole number in 0 … " +
                    std::to_string(s->id_limit - 1));
    }
    s->values.assign(static_cast<size_t>(n), vals[0]);
    if (vals.size() > 1) s->values = vals;
  }
  return slots;
}

Inputs program_inputs(const Program& p, const Config& cfg) {
  Inputs in;
  for (const Slot& s : resolved_slots(p, cfg))
    if (s.input) in.push_back({s.name, s.shape, s.values, s.integer, s.id_limit, s.axes, s.grad});
  return in;
}

}  // namespace gs
