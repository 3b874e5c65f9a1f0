// libFuzzer: UTF-8 decoding and the char tokenizer (vocabulary from the first half of the
// input, text from the second); a successful encode must decode back to the text.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gradscope/error.h"
#include "gradscope/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const std::string vocab = all.substr(0, size / 2), text = all.substr(size / 2);
  try {
    const gs::CharTokenizer t = gs::CharTokenizer::from_corpus(vocab);
    const auto ids = t.encode(text);
    if (t.decode(ids) != text) std::abort();
  } catch (const gs::Error&) {
  }
  return 0;
}
