#pragma once
// A model of one's own as Model & input edits it (no ImGui): the text in its box made into the
// spec to build, a leaf made data or a parameter, a leaf's values as one line of --set text.
#include <string>
#include <vector>

#include "gradscope/session.h"
#include "gradscope/tensor.h"

namespace gs::app {

// `spec` with `text` as its model: the values and inputs of the leaves the text still has are
// kept, those of names that are no longer leaves dropped, and a new leaf starts at 1 (its value
// is then edited). A text that does not parse is put in as it is: the rebuild says where it is
// wrong (and the model on screen stays).
ModelSpec with_model_text(ModelSpec spec, const std::string& text);

// `spec` with leaf `name` made data (an input) or a parameter.
ModelSpec with_input(ModelSpec spec, const std::string& name, bool data);

// Values as --set writes them: a matrix's rows (shape [n,m], n > 1) separated by ';', else a
// comma list. `exact`: every digit (%.17g), else six significant ones.
std::string values_text(const std::vector<double>& values, const Shape& shape, bool exact);

// A text with ';' between its lines (a command line's) as one assignment a line; a text with
// line breaks or a comment (where ';' may be a word) as it is.
std::string one_assignment_a_line(const std::string& text);

// The name of a --set item ("W = 1,2" → "W").
std::string set_name(const std::string& item);

}  // namespace gs::app
