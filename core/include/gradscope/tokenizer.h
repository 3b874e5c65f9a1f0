#pragma once
// The character-level tokenizer of the tiny and small presets: one token per Unicode code
// point of a vocabulary string (sorted, unique), taken from a corpus.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gs {

class CharTokenizer {
 public:
  // The vocabulary: every distinct code point of `corpus`, sorted. Throws gs::Error on bad UTF-8.
  static CharTokenizer from_corpus(const std::string& corpus);
  // A vocabulary given as the string of its characters in id order (as checkpoints store it).
  static CharTokenizer from_vocab(const std::string& chars);

  int size() const { return static_cast<int>(chars_.size()); }
  // Throws gs::Error naming the first character not in the vocabulary and its position.
  std::vector<int32_t> encode(const std::string& text) const;
  std::string decode(const std::vector<int32_t>& ids) const;  // ids out of range become '?'
  std::string token(int32_t id) const;                         // one token as UTF-8
  std::string vocab_string() const;                             // all tokens in id order

 private:
  void build_index();  // throws gs::Error naming a character listed twice
  std::vector<char32_t> chars_;
  std::vector<std::pair<char32_t, int32_t>> index_;  // sorted: encode looks each character up in log V
};

// UTF-8 helpers (strict: overlong forms, surrogates and truncated sequences are errors).
std::u32string utf8_decode(const std::string& s);
std::string utf8_encode(char32_t c);

// Path of a file in the data folder (datadir.h: assets/ in the build tree, share/gradscope
// installed; GRADSCOPE_ASSETS overrides both).
std::string asset_path(const std::string& name);
// A regular text file of at most 256 MiB; throws gs::Error naming the file.
std::string read_text_file(const std::string& path);
// The project's own training text, assets/corpus.txt.
const std::string& default_corpus();

}  // namespace gs
