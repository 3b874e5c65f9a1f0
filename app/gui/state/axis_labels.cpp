#include "axis_labels.h"

#include <algorithm>

namespace gs::app {

namespace {

// A position of the text: T (its role from its place: one T is a position, two are query and
// key), or Tq / Tk, a query or key position said outright (a Jacobian over one row's keys).
bool is_position(const std::string& letter) { return letter == "T" || letter == "Tq" || letter == "Tk"; }

std::string name_of(const std::string& letter, int t_seen, int t_total) {
  if (letter == "T") return t_total >= 2 ? (t_seen == 0 ? "query" : "key") : "position";
  if (letter == "Tq") return "query";
  if (letter == "Tk") return "key";
  static const struct {
    const char* letter;
    const char* name;
  } names[] = {{"B", "batch row"}, {"H", "head"},   {"C", "channel"}, {"3C", "qkv column"}, {"4C", "hidden unit"},
               {"d", "head channel"}, {"r", "rank"}, {"V", "token"},  {"n_ctx", "position"},  {"P", "point"},
               {"n", "row"},        {"m", "input"}, {"p", "output"}, {"K", "class"}};
  for (const auto& n : names)
    if (letter == n.letter) return n.name;
  return letter;
}

// Row-major multi-index of `flat`.
std::vector<int64_t> unflatten(const Shape& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    const int64_t n = std::max<int64_t>(shape[d], 1);
    idx[d] = flat % n;
    flat /= n;
  }
  return idx;
}

struct Axes {
  std::vector<AxisInfo> info;
  int batch = -1;              // the B axis, if any
  std::vector<int> t_axes;     // the T axes, in order
};

Axes axes_of(const Shape& shape, const std::vector<std::string>& letters) {
  Axes a;
  a.info = describe_axes(shape, letters);
  for (size_t d = 0; d < a.info.size(); ++d) {
    if (a.info[d].letter == "B") a.batch = static_cast<int>(d);
    if (is_position(a.info[d].letter)) a.t_axes.push_back(static_cast<int>(d));
  }
  return a;
}

// The token at position t of batch row b, when the text has one there.
bool token_at(const TokenText& tok, int64_t b, int64_t t, int32_t& id, int32_t* target = nullptr) {
  if (tok.empty() || b < 0 || b >= tok.B || t < 0 || t >= tok.T) return false;
  const size_t at = static_cast<size_t>(b * tok.T + t);
  if (at >= tok.x.size()) return false;
  id = tok.x[at];
  if (target) *target = at < tok.y.size() ? tok.y[at] : -1;
  return true;
}

std::string glyph(const TokenText& tok, int32_t id) { return tok.glyph ? tok.glyph(id) : "#" + std::to_string(id); }

// Whether a T axis of this size reads the text (and which batch row a label may use).
bool t_has_tokens(const TokenText& tok, const AxisInfo& ax) { return !tok.empty() && ax.size == tok.T; }

Label label_of(const Axes& a, int d, int64_t i, int64_t batch, const TokenText& tok) {
  const AxisInfo& ax = a.info[d];
  Label l;
  l.main = std::to_string(i);
  if (is_position(ax.letter) && t_has_tokens(tok, ax)) {
    int32_t id = 0;
    if (token_at(tok, batch, i, id)) {
      l.main = glyph(tok, id);
      l.sub = std::to_string(i);
      l.token = true;
    }
  } else if (ax.letter == "V" && tok.glyph && tok.vocab > 0 && ax.size == tok.vocab) {
    l.main = glyph(tok, static_cast<int32_t>(i));
    l.sub = std::to_string(i);
    l.token = true;
  } else if (ax.letter == "3C" && ax.size % 3 == 0 && ax.size > 0) {
    const int64_t C = ax.size / 3;
    l.main = std::string(1, "qkv"[std::min<int64_t>(i / C, 2)]) + std::to_string(i % C);
  }
  return l;
}

std::string quoted(const std::string& g) { return "'" + g + "'"; }

// One axis of an entry in words.
std::string axis_words(const Axes& a, int d, int64_t i, int64_t batch, const TokenText& tok, bool targets = true) {
  const AxisInfo& ax = a.info[d];
  std::string s = ax.name + " " + std::to_string(i);
  if (is_position(ax.letter) && t_has_tokens(tok, ax)) {
    int32_t id = 0, y = -1;
    if (token_at(tok, batch, i, id, &y)) {
      s += " " + quoted(glyph(tok, id));
      if (targets && a.t_axes.size() == 1 && y >= 0) s += ", predicts " + quoted(glyph(tok, y));
    }
  } else if (ax.letter == "V" && tok.glyph && tok.vocab > 0 && ax.size == tok.vocab) {
    s = "token " + quoted(glyph(tok, static_cast<int32_t>(i))) + " (id " + std::to_string(i) + ")";
  } else if (ax.letter == "3C" && ax.size % 3 == 0 && ax.size > 0) {
    const int64_t C = ax.size / 3;
    s = "channel " + std::to_string(i % C) + " of " + std::string(1, "qkv"[std::min<int64_t>(i / C, 2)]);
  }
  return s;
}

std::string words(const Axes& a, const std::vector<int64_t>& idx, size_t upto, const char* sep, const TokenText& tok,
                  bool targets = true) {
  const int64_t batch = a.batch >= 0 ? idx[a.batch] : 0;
  std::string s;
  for (size_t d = 0; d < upto; ++d) {
    if (a.info[d].size <= 1) continue;  // a batch of one, a single head: nothing to tell apart
    if (!s.empty()) s += sep;
    s += axis_words(a, static_cast<int>(d), idx[d], batch, tok, targets);
  }
  return s;
}

}  // namespace

std::vector<AxisInfo> describe_axes(const Shape& shape, const std::vector<std::string>& letters) {
  std::vector<AxisInfo> out(shape.size());
  const bool have = letters.size() == shape.size();
  const int t_total = have ? static_cast<int>(std::count(letters.begin(), letters.end(), "T")) : 0;
  int t_seen = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    out[d].size = shape[d];
    if (have) {
      out[d].letter = letters[d];
      out[d].name = name_of(letters[d], t_seen, t_total);
      if (letters[d] == "T") ++t_seen;
    } else {
      out[d].letter = "dim " + std::to_string(d);
      out[d].name = out[d].letter;
    }
  }
  return out;
}

std::string shape_words(const Shape& shape, const std::vector<std::string>& letters) {
  if (letters.size() != shape.size()) return "";
  std::string s;
  for (size_t d = 0; d < shape.size(); ++d)
    s += (d ? " · " : "") + (is_position(letters[d]) ? std::string("T") : letters[d]) + " " + std::to_string(shape[d]);
  return s;
}

MapLabels::MapLabels(const Shape& shape, const std::vector<std::string>& letters, bool transposed, const TokenText& tok)
    : shape_(shape), letters_(letters), transposed_(transposed), tok_(tok), no_text_(tok) {
  const Axes a = axes_of(shape, letters);
  info_ = a.info;
  batch_ = a.batch;
  no_text_.T = 0;  // the vocabulary still names a V axis
  if (shape.empty()) return;
  const int last = static_cast<int>(shape.size()) - 1;
  int64_t lead = 1;
  for (int d = 0; d < last; ++d) lead *= shape[d];
  rows_ = transposed ? shape.back() : lead;
  cols_ = transposed ? lead : shape.back();
  if (!transposed && last >= 2) block_ = shape[last - 1];
  if (block_ > 0 && block_ >= rows_) block_ = 0;  // one block: nothing to mark
  const std::string lead_letter = last > 0 ? info_[last - 1].letter : "", last_letter = info_[last].letter;
  row_letter_ = transposed ? last_letter : lead_letter;
  col_letter_ = transposed ? lead_letter : last_letter;
}

Label MapLabels::last_label(int64_t c) const {
  // The last dimension: the same labels on every row. A token axis there reads the text of
  // batch row 0 only when there is one batch row (else plain positions).
  const Axes a{info_, batch_, {}};
  const bool one_batch = batch_ < 0 || shape_[batch_] == 1 || tok_.B == 1;
  return label_of(a, static_cast<int>(shape_.size()) - 1, c, 0, one_batch ? tok_ : no_text_);
}

Label MapLabels::lead_label(int64_t r) const {
  const int last = static_cast<int>(shape_.size()) - 1;
  if (last <= 0) return {};
  const Axes a{info_, batch_, {}};
  Shape lead(shape_.begin(), shape_.end() - 1);
  const std::vector<int64_t> idx = unflatten(lead, r);
  const int64_t batch = batch_ >= 0 && batch_ < last ? idx[batch_] : 0;
  return label_of(a, last - 1, idx[last - 1], batch, tok_);
}

Label MapLabels::row(int64_t r) const {
  if (shape_.empty() || r < 0 || r >= rows_) return {};
  return transposed_ ? last_label(r) : lead_label(r);
}

Label MapLabels::col(int64_t c) const {
  if (shape_.empty() || c < 0 || c >= cols_) return {};
  return transposed_ ? lead_label(c) : last_label(c);
}

std::string MapLabels::block(int64_t r, bool short_form) const {
  const int last = static_cast<int>(shape_.size()) - 1;
  if (transposed_ || last < 2 || r < 0 || r >= rows_) return "";
  Shape lead(shape_.begin(), shape_.end() - 1);
  const std::vector<int64_t> idx = unflatten(lead, r);
  const int inner = last - 1;
  if (idx[inner] != 0) return "";
  std::string b;
  for (int d = 0; d < inner; ++d) {
    if (shape_[d] <= 1) continue;
    if (short_form) {
      const std::string& n = info_[d].name;
      b += (b.empty() ? "" : " ") + (n == "head" ? std::string("h") : n == "batch row" ? std::string("b") : n + " ") +
           std::to_string(idx[d]);
    } else {
      b += (b.empty() ? "" : " · ") + info_[d].name + " " + std::to_string(idx[d]);
    }
  }
  return b;
}

std::string MapLabels::rows_title() const {
  const int last = static_cast<int>(shape_.size()) - 1;
  if (last < 0) return "";
  if (transposed_) return info_[last].name;
  return last > 0 ? info_[last - 1].name : "";
}

std::string MapLabels::cols_title() const {
  const int last = static_cast<int>(shape_.size()) - 1;
  if (last < 0) return "";
  if (transposed_) return last > 0 ? info_[last - 1].name : "";
  return info_[last].name;
}

GridLabels grid_labels(const Shape& shape, const std::vector<std::string>& letters, bool transposed, const TokenText& tok) {
  GridLabels g;
  if (shape.empty()) return g;
  const MapLabels m(shape, letters, transposed, tok);
  g.rows_title = m.rows_title();
  g.cols_title = m.cols_title();
  for (int64_t r = 0; r < m.rows(); ++r) {
    g.rows.push_back(m.row(r));
    g.blocks.push_back(m.block(r));
  }
  for (int64_t c = 0; c < m.cols(); ++c) g.cols.push_back(m.col(c));
  return g;
}

std::string entry_words(const Shape& shape, const std::vector<std::string>& letters, int64_t flat, const TokenText& tok) {
  if (shape.empty()) return "";
  const Axes a = axes_of(shape, letters);
  return words(a, unflatten(shape, flat), shape.size(), " · ", tok);
}

std::string row_words(const Shape& shape, const std::vector<std::string>& letters, int64_t row, const TokenText& tok) {
  if (shape.size() < 2) return "";
  const Axes a = axes_of(shape, letters);
  Shape lead(shape.begin(), shape.end() - 1);
  std::vector<int64_t> idx = unflatten(lead, row);
  idx.push_back(0);
  return words(a, idx, shape.size() - 1, ", ", tok, false);
}

}  // namespace gs::app
