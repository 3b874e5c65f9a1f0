#pragma once
// What the rows and columns of a map are (no ImGui, no GL), from the letters the program
// recorded for each dimension (Value::axes, Param::axes: {"B","T","C"}, {"B","H","T","T"},
// {"V","C"}, a lesson's {"n","p"} …): the shape spelled out ("B 1 · T 8 · C 16"), a label for
// every row and column of the map (a position with its token, a head, a channel, a character of
// the vocabulary …), and an entry or a row in words ("head 0 · query 7 'e' · key 3 'm'").
//
// Letters besides the programs' own: Tq and Tk, a query or a key position said outright (the
// views label a Jacobian over one row's keys {"Tk","Tk"}).
//
// A map flattens every dimension but the last into its rows (tensor_grid.h): the innermost of
// those names each row, the outer ones (batch rows, heads) mark blocks of rows.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gradscope/tensor.h"

namespace gs::app {

// What the views know of the text the model reads: GPT-2's tokens x and targets y (B×T, row-major)
// and how to write one token. Empty for programs without tokens.
struct TokenText {
  int B = 0, T = 0;
  std::vector<int32_t> x, y;
  std::function<std::string(int32_t)> glyph;  // one token as the chips show it ("␣model"); null: ids only
  int vocab = 0;                              // ids of a V axis are tokens when it has this size
  bool empty() const { return T == 0; }
};

// One dimension: its letter, what it is in words, its size.
struct AxisInfo {
  std::string letter;  // "T"
  std::string name;    // "position", "query", "key", "head", "channel" …
  int64_t size = 0;
};
// The dimensions in words; letters missing (or of the wrong count) read as "dim 0", "dim 1" ….
std::vector<AxisInfo> describe_axes(const Shape& shape, const std::vector<std::string>& axes);

// "B 1 · T 8 · C 16" ("" for a 0-d tensor).
std::string shape_words(const Shape& shape, const std::vector<std::string>& axes);

// A label of one row or column: the main text (a token's glyph, an index, "q3") and, for tokens,
// the position or id beside it.
struct Label {
  std::string main, sub;
  bool token = false;  // main is a token's text
};

struct GridLabels {
  std::string rows_title, cols_title;  // "position", "channel"; "" when the map has one row
  std::vector<Label> rows, cols;       // one per row / column of the full (unpooled) grid
  std::vector<std::string> blocks;     // per row: "head 1" at the first row of each block, else ""
};
// Labels of the map of a tensor (transposed: the map of its 2-D flattening, transposed).
GridLabels grid_labels(const Shape& shape, const std::vector<std::string>& axes, bool transposed, const TokenText& tok);

// The same one label at a time, for a view that draws only some (a map of 50257 rows):
// row `r` / column `c` of the map, and the block a row starts ("" when it starts none), in
// words ("head 1") and short ("h1").
class MapLabels {
 public:
  MapLabels(const Shape& shape, const std::vector<std::string>& axes, bool transposed, const TokenText& tok);
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  Label row(int64_t r) const;
  Label col(int64_t c) const;
  std::string block(int64_t r, bool short_form = false) const;
  // Every how many rows a new block starts (0: no blocks), e.g. T for (B,H,T,d).
  int64_t block_rows() const { return block_; }
  // The letters of the rows' and the columns' dimension ("T", "C"), for a corner mark.
  const std::string& row_letter() const { return row_letter_; }
  const std::string& col_letter() const { return col_letter_; }
  std::string rows_title() const;
  std::string cols_title() const;

 private:
  Label lead_label(int64_t r) const;
  Label last_label(int64_t c) const;
  Shape shape_;
  std::vector<std::string> letters_;
  std::vector<AxisInfo> info_;
  bool transposed_ = false;
  TokenText tok_, no_text_;
  int batch_ = -1;
  int64_t rows_ = 1, cols_ = 1, block_ = 0;
  std::string row_letter_, col_letter_;
};

// Entry `flat` in words: "position 3 ('m', predicts 'o') · channel 5"; "head 1 · query 7 'e' · key 2 'h'".
std::string entry_words(const Shape& shape, const std::vector<std::string>& axes, int64_t flat, const TokenText& tok);

// Row `row` of the map (every dimension but the last) in words, for a row picker: "head 0, query 7 'e'".
std::string row_words(const Shape& shape, const std::vector<std::string>& axes, int64_t row, const TokenText& tok);

}  // namespace gs::app
