#pragma once
// What the rows and columns of a map are (no ImGui, no GL), from the letters the program
// recorded for each dimension (Value::axes, Param::axes: {"B","T","C"}, {"B","H","T","T"},
// {"V","C"}, a lesson's {"n","p"} …): the shape spelled out ("B 1 · T 8 · C 16"), a label for
// every row and column of the map (a position with its token, a head, a channel, a character of
// the vocabulary …), and an entry or a row in words ("head 0 · query 7 'e' · key 3 'm'").
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

// Entry `flat` in words: "position 3 ('m', predicts 'o') · channel 5"; "head 1 · query 7 'e' · key 2 'h'".
std::string entry_words(const Shape& shape, const std::vector<std::string>& axes, int64_t flat, const TokenText& tok);

// Row `row` of the map (every dimension but the last) in words, for a row picker: "head 0, query 7 'e'".
std::string row_words(const Shape& shape, const std::vector<std::string>& axes, int64_t row, const TokenText& tok);

}  // namespace gs::app
