#include "typed_model.h"

#include <algorithm>
#include <cstdio>

#include "gradscope/config.h"
#include "gradscope/model_text.h"

namespace gs::app {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

}  // namespace

std::string set_name(const std::string& item) {
  std::string n = item.substr(0, item.find('='));
  while (!n.empty() && n.back() == ' ') n.pop_back();
  while (!n.empty() && n.front() == ' ') n.erase(0, 1);
  return n;
}

ModelSpec with_model_text(ModelSpec spec, const std::string& text) {
  spec.model_text = text;
  spec.model_file.reset();
  ModelText m;
  try {
    m = parse_model_text(text);
  } catch (const ModelTextError&) {
    return spec;
  }
  auto leaf = [&](const std::string& n) { return std::find(m.leaves.begin(), m.leaves.end(), n) != m.leaves.end(); };
  std::erase_if(spec.sets, [&](const std::string& x) { return !leaf(set_name(x)); });
  for (const std::string& l : m.leaves)
    if (std::none_of(spec.sets.begin(), spec.sets.end(), [&](const std::string& x) { return set_name(x) == l; }))
      spec.sets.push_back(l + "=1");
  if (spec.inputs) {
    std::vector<std::string> kept;
    for (const std::string& n : split_comma_list(*spec.inputs))
      if (leaf(n)) kept.push_back(n);
    if (kept.empty())
      spec.inputs.reset();
    else
      spec.inputs = join(kept);
  }
  return spec;
}

ModelSpec with_input(ModelSpec spec, const std::string& name, bool data) {
  std::vector<std::string> v;
  if (spec.inputs)
    for (const std::string& n : split_comma_list(*spec.inputs))
      if (n != name && !n.empty()) v.push_back(n);
  if (data) v.push_back(name);
  if (v.empty())
    spec.inputs.reset();
  else
    spec.inputs = join(v);
  return spec;
}

std::string values_text(const std::vector<double>& values, const Shape& shape, bool exact) {
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t cols = shape.size() == 2 && shape[0] > 1 ? shape[1] : n;
  std::string s;
  for (int64_t i = 0; i < n; ++i) {
    char b[40];
    snprintf(b, sizeof b, exact ? "%.17g" : "%.6g", values[i]);
    if (i) s += i % cols ? "," : ";";
    s += b;
  }
  return s;
}

std::string one_assignment_a_line(const std::string& text) {
  if (text.find('\n') != std::string::npos || text.find('#') != std::string::npos) return text;
  std::string t;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != ';') {
      t += text[i];
      continue;
    }
    while (!t.empty() && t.back() == ' ') t.pop_back();
    t += '\n';
    while (i + 1 < text.size() && text[i + 1] == ' ') ++i;
  }
  return t;
}

}  // namespace gs::app
