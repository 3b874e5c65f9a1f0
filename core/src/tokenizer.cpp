#include "gradscope/tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "gradscope/datadir.h"
#include "gradscope/error.h"
#include "gradscope/fileio.h"

namespace gs {

std::u32string utf8_decode(const std::string& s) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0) throw Error("invalid UTF-8 lead byte " + std::to_string(c) + " at byte " + std::to_string(i));
    char32_t cp = n == 0 ? c : c & (0x3f >> n);
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size()) throw Error("truncated UTF-8 sequence at byte " + std::to_string(i));
      const unsigned char cc = s[i + k];
      if ((cc >> 6) != 2) throw Error("invalid UTF-8 continuation at byte " + std::to_string(i + k));
      cp = (cp << 6) | (cc & 0x3f);
    }
    static const char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      throw Error("invalid UTF-8 code point at byte " + std::to_string(i));
    out.push_back(cp);
    i += n + 1;
  }
  return out;
}

std::string utf8_encode(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xc0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xe0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (c & 0x3f));
  }
  return s;
}

static std::string describe(char32_t c) {
  char hex[16];
  snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(c));
  if (c == '\n') return std::string("'\\n' (") + hex + ")";
  if (c < 0x20) return hex;
  return "'" + utf8_encode(c) + "' (" + hex + ")";
}

CharTokenizer CharTokenizer::from_corpus(const std::string& corpus) {
  std::u32string cps = utf8_decode(corpus);
  std::sort(cps.begin(), cps.end());
  cps.erase(std::unique(cps.begin(), cps.end()), cps.end());
  if (cps.empty()) throw Error("the corpus is empty: no characters to build a vocabulary from");
  CharTokenizer t;
  t.chars_.assign(cps.begin(), cps.end());
  t.build_index();
  return t;
}

CharTokenizer CharTokenizer::from_vocab(const std::string& chars) {
  std::u32string cps = utf8_decode(chars);
  if (cps.empty()) throw Error("empty character vocabulary");
  CharTokenizer t;
  t.chars_.assign(cps.begin(), cps.end());
  t.build_index();
  return t;
}

void CharTokenizer::build_index() {
  index_.clear();
  index_.reserve(chars_.size());
  for (size_t i = 0; i < chars_.size(); ++i) index_.emplace_back(chars_[i], static_cast<int32_t>(i));
  std::sort(index_.begin(), index_.end());
  for (size_t i = 1; i < index_.size(); ++i)
    if (index_[i].first == index_[i - 1].first)
      throw Error("character vocabulary lists " + describe(index_[i].first) + " twice");
}

std::vector<int32_t> CharTokenizer::encode(const std::string& text) const {
  std::u32string cps = utf8_decode(text);
  std::vector<int32_t> ids;
  ids.reserve(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) {
    const auto it = std::lower_bound(index_.begin(), index_.end(), std::make_pair(cps[i], int32_t{0}));
    if (it == index_.end() || it->first != cps[i])
      throw Error("character " + describe(cps[i]) + " at position " + std::to_string(i) +
                  " is not in the vocabulary of " + std::to_string(size()) + " characters");
    ids.push_back(it->second);
  }
  return ids;
}

std::string CharTokenizer::token(int32_t id) const {
  if (id < 0 || id >= size()) return "?";
  return utf8_encode(chars_[id]);
}

std::string CharTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string s;
  for (int32_t id : ids) s += token(id);
  return s;
}

std::string CharTokenizer::vocab_string() const {
  std::string s;
  for (char32_t c : chars_) s += utf8_encode(c);
  return s;
}

std::string asset_path(const std::string& name) { return data_dir() + "/" + name; }

std::string read_text_file(const std::string& path) {
  // A corpus becomes code points and token ids (4 bytes each per character): 256 MiB of text
  // is about 2 GiB of work.
  return io::read_text(path, 256 << 20, "a text file (corpus)");
}

const std::string& default_corpus() {
  static const std::string corpus = read_text_file(asset_path("corpus.txt"));
  return corpus;
}

}  // namespace gs
