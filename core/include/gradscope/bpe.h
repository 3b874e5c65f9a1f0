#pragma once
// GPT-2's byte-level BPE tokenizer (the "gpt2" / r50k vocabulary of 50 257 tokens).
//
// Encoding: the text is split into pre-tokens by GPT-2's regular expression
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (PCRE2, UTF + UCP), each pre-token's UTF-8 bytes become one-byte symbols, and the merges of
// the merge list are applied by rank (lowest first; each step merges every non-overlapping
// occurrence of the best pair, left to right) until none applies. Every byte has a token, so
// any byte string encodes and decode(encode(s)) == s.
//
// Invalid UTF-8 in encode's input is not an error: GPT-2 works on bytes. The input is cut into
// maximal valid UTF-8 runs and maximal runs of bytes that are not part of a valid sequence
// (overlong forms, surrogates, code points above U+10FFFF, stray continuation bytes, truncated
// sequences). Each valid run is pre-tokenised by the regex as if it were a text of its own; each
// invalid run is one pre-token, merged like any other. Valid UTF-8 is cut exactly as GPT-2
// cuts it (but see the note on \s below).
//
// \s, \p{L} and \p{N} are PCRE2's (UCP). Its \s is the Unicode White_Space set of OpenAI's Python
// encoder plus U+180E; the JavaScript port (npm gpt-3-encoder) differs on U+0085 (not space
// there) and U+FEFF (space there). Letters and digits follow the Unicode tables of the PCRE2 in
// use (10.42 in Debian 12), so characters newer than those may split differently elsewhere.
//
// The special token <|endoftext|> (50256) is an ordinary vocabulary entry here: decode gives its
// text, but encode never produces it from text (as GPT-2's own encoder does not).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gs {

class Gpt2Tokenizer {
 public:
  // Reads `dir`/encoder.json + `dir`/vocab.bpe (OpenAI's names) or `dir`/vocab.json +
  // `dir`/merges.txt (Hugging Face's names; same formats). Throws gs::Error, one line naming the
  // file and the problem: a missing file, bad JSON, a token that is not byte-level text, a
  // duplicate id, a malformed or duplicate merge, a merge whose parts or result are not tokens,
  // a single byte without a token.
  static Gpt2Tokenizer load(const std::string& dir);

  // Any bytes at all; throws only for a single pre-token over 2 GiB (and std::bad_alloc).
  std::vector<int32_t> encode(const std::string& utf8) const;
  // The bytes of the tokens, concatenated (may be invalid UTF-8 if the ids cut a character).
  // Throws gs::Error naming the first id that is out of range or not in the vocabulary.
  std::string decode(const std::vector<int32_t>& ids) const;
  // One token's text for display: its bytes with every invalid UTF-8 part (a token may hold half
  // a character) replaced by U+FFFD. Throws gs::Error for an id not in the vocabulary.
  std::string token(int32_t id) const;
  int size() const;  // 1 + the largest id (50257 for GPT-2)

  Gpt2Tokenizer(const Gpt2Tokenizer&) = default;
  Gpt2Tokenizer(Gpt2Tokenizer&&) noexcept = default;
  Gpt2Tokenizer& operator=(const Gpt2Tokenizer&) = default;
  Gpt2Tokenizer& operator=(Gpt2Tokenizer&&) noexcept = default;
  ~Gpt2Tokenizer();

  struct Data;  // the vocabulary and merges, immutable once loaded (copies share it)

 private:
  explicit Gpt2Tokenizer(std::shared_ptr<const Data> d);
  std::shared_ptr<const Data> d_;
};

}  // namespace gs
