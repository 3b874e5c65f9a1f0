// GPT-2's byte-level BPE tokenizer; see gradscope/bpe.h for the behaviour.
#include "gradscope/bpe.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "gradscope/error.h"
#include "gradscope/fileio.h"

namespace gs {
namespace {

// ---------------------------------------------------------------------------------------------
// The byte <-> symbol table. GPT-2's files write every token as text in which each byte is one
// printable code point: the bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves; the
// other 68 bytes (controls, space, 0x7F..0xA0, 0xAD) take the code points 256, 257, … in byte
// order (so the space 0x20 is U+0120 'Ġ' and the newline 0x0A is U+010A 'Ċ').

struct ByteTable {
  std::array<char32_t, 256> symbol{};  // byte -> code point
  std::array<int16_t, 324> byte{};     // code point (< 324) -> byte, or -1
  ByteTable() {
    byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool itself = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      symbol[b] = itself ? static_cast<char32_t>(b) : next++;
      byte[symbol[b]] = static_cast<int16_t>(b);
    }
  }
};

const ByteTable& byte_table() {
  static const ByteTable table;
  return table;
}

// ---------------------------------------------------------------------------------------------
// UTF-8 (strict, as Unicode's table 3-7: no overlong forms, surrogates or code points above
// U+10FFFF).

// At s[i]: the length of the well-formed sequence starting there (1..4), or 0 if there is none;
// in that case *prefix is the length of its maximal valid prefix (at least 1), the unit that one
// U+FFFD replaces.
size_t utf8_length(std::string_view s, size_t i, size_t* prefix) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  *prefix = 1;
  if (b0 < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  size_t k = 1;
  for (; k < need && i + k < s.size(); ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) break;
  }
  if (k == need) return need;
  *prefix = k;
  return 0;
}

// Decodes one well-formed sequence of length n at s[i].
char32_t utf8_code_point(std::string_view s, size_t i, size_t n) {
  const auto b = [&](size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (n) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

// Bytes as display text: every invalid part becomes U+FFFD.
std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t prefix;
    const size_t n = utf8_length(s, i, &prefix);
    if (n) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      i += prefix;
    }
  }
  return out;
}

// Text for an error message: one line, control characters and invalid bytes escaped, capped.
std::string shown(std::string_view s) {
  std::string out = "\"";
  const std::string clean = sanitize_utf8(s.substr(0, 80));
  for (const unsigned char c : clean) {
    if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 80) out += "…";
  return out + "\"";
}

// GPT-2 symbol text (as in encoder.json / vocab.bpe) -> the bytes it stands for. Returns the
// first code point that is not a byte symbol in *bad (and false), or true.
bool symbols_to_bytes(std::string_view text, std::string* bytes, char32_t* bad) {
  const ByteTable& t = byte_table();
  bytes->clear();
  for (size_t i = 0; i < text.size();) {
    size_t prefix;
    const size_t n = utf8_length(text, i, &prefix);
    if (!n) {
      *bad = 0xFFFD;
      return false;
    }
    const char32_t cp = utf8_code_point(text, i, n);
    if (cp >= t.byte.size() || t.byte[cp] < 0) {
      *bad = cp;
      return false;
    }
    bytes->push_back(static_cast<char>(t.byte[cp]));
    i += n;
  }
  return true;
}

std::string code_point_name(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

// A vocabulary or merges file: a regular file of at most 64 MiB (GPT-2's are 1 MB and 456 KB).
std::string read_file(const std::string& path) { return io::read_text(path, 64 << 20, "a GPT-2 vocabulary file"); }

// ---------------------------------------------------------------------------------------------
// encoder.json / vocab.json: one JSON object {"token": id, …}, read with nlohmann's SAX parser so
// that duplicate keys and non-integer values are caught rather than silently merged.

class VocabReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::vector<std::pair<std::string, int64_t>> entries;
  std::string error;  // set when a callback returns false

  bool null() override { return bad_value("null"); }
  bool boolean(bool) override { return bad_value("a boolean"); }
  bool number_integer(number_integer_t v) override {
    if (v < 0) return bad_value("negative (" + std::to_string(v) + ")");
    return value(static_cast<uint64_t>(v));
  }
  bool number_unsigned(number_unsigned_t v) override { return value(v); }
  bool number_float(number_float_t, const string_t& s) override {
    return bad_value("not an integer (" + s + ")");
  }
  bool string(string_t&) override { return bad_value("a string"); }
  bool binary(binary_t&) override { return bad_value("binary"); }
  bool start_object(std::size_t) override {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    return bad_value("an object");
  }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    depth_ = 0;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) {
      error = "expected a JSON object mapping token text to ids, got an array";
      return false;
    }
    return bad_value("an array");
  }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) override {
    std::string msg = ex.what();
    if (const size_t p = msg.find("] "); msg.rfind("[json.exception", 0) == 0 && p != std::string::npos)
      msg = msg.substr(p + 2);
    error = "bad JSON: " + msg;
    return false;
  }

 private:
  bool value(uint64_t v) {
    if (depth_ != 1) {
      error = "expected a JSON object mapping token text to ids, got a number";
      return false;
    }
    constexpr uint64_t kMaxId = (1u << 24) - 1;
    if (v > kMaxId) {
      error = "token " + shown(key_) + " has id " + std::to_string(v) + ", above the limit " +
              std::to_string(kMaxId);
      return false;
    }
    entries.emplace_back(std::move(key_), static_cast<int64_t>(v));
    return true;
  }
  bool bad_value(const std::string& what) {
    error = depth_ == 0 ? "expected a JSON object mapping token text to ids, got " + what
                        : "the id of token " + shown(key_) + " is " + what +
                              ", expected a non-negative integer";
    return false;
  }
  int depth_ = 0;
  std::string key_;
};

// ---------------------------------------------------------------------------------------------
// The pre-tokenisation regex, compiled once (UTF + UCP, JIT when available).

constexpr const char* kPattern =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";

struct Regex {
  pcre2_code* code = nullptr;
  Regex() {
    int err = 0;
    PCRE2_SIZE offset = 0;
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED,
                         PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      throw Error("GPT-2 pre-tokenizer regex does not compile at offset " + std::to_string(offset) +
                  ": " + reinterpret_cast<const char*>(msg));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional: pcre2_match falls back without it
  }
  ~Regex() { pcre2_code_free(code); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
};

const Regex& regex() {
  static const Regex r;
  return r;
}

struct MatchData {
  pcre2_match_data* md;
  explicit MatchData(const pcre2_code* code) : md(pcre2_match_data_create_from_pattern(code, nullptr)) {
    if (!md) throw std::bad_alloc();
  }
  ~MatchData() { pcre2_match_data_free(md); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
};

// Calls emit(begin, length) for each pre-token of `text`, which must be valid UTF-8. The
// pre-tokens tile the text exactly (a stretch the regex skipped would be emitted as well, though
// GPT-2's pattern matches every character).
template <class Emit>
void split_valid(std::string_view text, MatchData& m, Emit&& emit) {
  const pcre2_code* code = regex().code;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  uint32_t options = PCRE2_NO_UTF_CHECK;
  while (pos < text.size()) {
    int rc = pcre2_match(code, subject, text.size(), pos, options, m.md, nullptr);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH && !(options & PCRE2_NO_JIT)) {
      options |= PCRE2_NO_JIT;  // e.g. the JIT stack ran out: retry with the interpreter
      continue;
    }
    if (rc == PCRE2_ERROR_NOMATCH) {
      emit(pos, text.size() - pos);
      return;
    }
    if (rc < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof msg);
      throw Error(std::string("GPT-2 pre-tokenizer: regex match failed: ") +
                  reinterpret_cast<const char*>(msg));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(m.md);
    size_t start = ov[0], end = ov[1];
    if (start > pos) emit(pos, start - pos);
    if (end == start) {  // cannot happen with this pattern; step one character to be safe
      size_t prefix;
      end = start + std::max<size_t>(1, utf8_length(text, start, &prefix));
      if (end > text.size()) end = text.size();
    }
    emit(start, end - start);
    pos = end;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Gpt2Tokenizer::Data {
  std::vector<std::string> bytes;  // id -> the token's bytes
  std::vector<char> present;       // id -> 1 if the id is a token (ids may have gaps)
  std::array<int32_t, 256> byte_id{};

  // The merges: (left id, right id) -> rank and result, in an open-addressing table (linear
  // probing, at most half full); ids are below 2^24, so the all-ones key marks an empty slot.
  struct Merge {
    uint64_t key = ~uint64_t{0};
    int32_t rank = -1;
    int32_t merged = -1;
  };
  std::vector<Merge> table;
  int shift = 64;

  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  size_t slot(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift); }
  void reserve(size_t n) {
    int bits = 4;
    while ((size_t{1} << bits) < 2 * n) ++bits;
    table.assign(size_t{1} << bits, Merge{});
    shift = 64 - bits;
  }
  // Returns false if the pair is there already.
  bool insert(int32_t a, int32_t b, int32_t rank, int32_t merged) {
    const uint64_t key = pair_key(a, b);
    const size_t mask = table.size() - 1;
    for (size_t i = slot(key);; i = (i + 1) & mask) {
      if (table[i].key == key) return false;
      if (table[i].rank < 0) {
        table[i] = {key, rank, merged};
        return true;
      }
    }
  }
  const Merge* find(int32_t a, int32_t b) const {
    const uint64_t key = pair_key(a, b);
    const size_t mask = table.size() - 1;
    for (size_t i = slot(key);; i = (i + 1) & mask) {
      if (table[i].key == key) return &table[i];
      if (table[i].rank < 0) return nullptr;
    }
  }
};

namespace {

// Work space of one encode() call, reused across its pre-tokens.
struct Scratch {
  struct Cand {  // a pair of adjacent symbols with a merge rank, at node `pos`
    int32_t rank, pos, left, right, merged;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::vector<int32_t> id, next, prev;
  std::vector<Cand> heap, pending;
};

// BPE on one pre-token's bytes. GPT-2's rule: find the adjacent pair with the lowest merge rank,
// merge all its non-overlapping occurrences left to right, and repeat until no pair has a rank.
// Done with a linked list of symbols and a heap of candidate pairs ordered by (rank, position):
// the candidates of the lowest rank are taken together, in position order, and the pairs they
// create join the heap only afterwards. Candidates whose symbols have since changed are skipped.
void bpe_word(const Gpt2Tokenizer::Data& d, std::string_view w, Scratch& s, std::vector<int32_t>& out) {
  if (w.size() > static_cast<size_t>(INT32_MAX))
    throw Error("GPT-2 tokenizer: a single pre-token of " + std::to_string(w.size()) +
                " bytes is too long (limit 2 GiB)");
  const int32_t n = static_cast<int32_t>(w.size());
  if (n == 1) {
    out.push_back(d.byte_id[static_cast<unsigned char>(w[0])]);
    return;
  }
  s.id.resize(n);
  s.next.resize(n);
  s.prev.resize(n);
  s.heap.clear();
  for (int32_t i = 0; i < n; ++i) {
    s.id[i] = d.byte_id[static_cast<unsigned char>(w[i])];
    s.next[i] = i + 1 < n ? i + 1 : -1;
    s.prev[i] = i - 1;
  }
  for (int32_t i = 0; i + 1 < n; ++i)
    if (const auto* m = d.find(s.id[i], s.id[i + 1]))
      s.heap.push_back({m->rank, i, s.id[i], s.id[i + 1], m->merged});
  const auto cmp = std::greater<Scratch::Cand>();
  std::make_heap(s.heap.begin(), s.heap.end(), cmp);

  while (!s.heap.empty()) {
    const int32_t rank = s.heap.front().rank;
    s.pending.clear();
    while (!s.heap.empty() && s.heap.front().rank == rank) {
      std::pop_heap(s.heap.begin(), s.heap.end(), cmp);
      const Scratch::Cand c = s.heap.back();
      s.heap.pop_back();
      const int32_t p = c.pos, q = s.next[p];
      if (s.id[p] != c.left || q < 0 || s.id[q] != c.right) continue;  // stale
      s.id[p] = c.merged;
      s.id[q] = -1;
      s.next[p] = s.next[q];
      if (s.next[q] >= 0) s.prev[s.next[q]] = p;
      if (const int32_t a = s.prev[p]; a >= 0)
        if (const auto* m = d.find(s.id[a], c.merged))
          s.pending.push_back({m->rank, a, s.id[a], c.merged, m->merged});
      if (const int32_t b = s.next[p]; b >= 0)
        if (const auto* m = d.find(c.merged, s.id[b]))
          s.pending.push_back({m->rank, p, c.merged, s.id[b], m->merged});
    }
    for (const auto& c : s.pending) {
      s.heap.push_back(c);
      std::push_heap(s.heap.begin(), s.heap.end(), cmp);
    }
  }
  for (int32_t i = 0; i >= 0; i = s.next[i]) out.push_back(s.id[i]);
}

std::string join(const std::string& dir, const char* name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// Whether something is there (a file, or a directory or FIFO that reading will refuse by name).
bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Gpt2Tokenizer::Gpt2Tokenizer(std::shared_ptr<const Data> d) : d_(std::move(d)) {}
Gpt2Tokenizer::~Gpt2Tokenizer() = default;

Gpt2Tokenizer Gpt2Tokenizer::load(const std::string& dir) {
  {
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) throw Error(dir + ": no such directory (GPT-2 vocabulary)");
    if (!std::filesystem::is_directory(dir, ec)) throw Error(dir + ": not a directory (GPT-2 vocabulary)");
  }
  std::string vocab_path, merges_path;
  const std::string oa_vocab = join(dir, "encoder.json"), oa_merges = join(dir, "vocab.bpe");
  const std::string hf_vocab = join(dir, "vocab.json"), hf_merges = join(dir, "merges.txt");
  if (is_file(oa_vocab) && is_file(oa_merges)) {
    vocab_path = oa_vocab, merges_path = oa_merges;
  } else if (is_file(hf_vocab) && is_file(hf_merges)) {
    vocab_path = hf_vocab, merges_path = hf_merges;
  } else if (is_file(oa_vocab)) {
    throw Error(oa_merges + ": missing file (encoder.json needs vocab.bpe beside it)");
  } else if (is_file(oa_merges)) {
    throw Error(oa_vocab + ": missing file (vocab.bpe needs encoder.json beside it)");
  } else if (is_file(hf_vocab)) {
    throw Error(hf_merges + ": missing file (vocab.json needs merges.txt beside it)");
  } else if (is_file(hf_merges)) {
    throw Error(hf_vocab + ": missing file (merges.txt needs vocab.json beside it)");
  } else {
    throw Error(join(dir, "encoder.json") +
                ": missing file (a GPT-2 vocabulary is encoder.json + vocab.bpe, or vocab.json + "
                "merges.txt)");
  }

  auto d = std::make_shared<Data>();

  // --- the vocabulary
  std::unordered_map<std::string, int32_t> by_bytes;
  {
    const std::string text = read_file(vocab_path);
    VocabReader reader;
    const bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &reader);
    if (!ok || !reader.error.empty())
      throw Error(vocab_path + ": " + (reader.error.empty() ? "bad JSON" : reader.error));
    if (reader.entries.empty()) throw Error(vocab_path + ": no tokens");
    // Each entry checked in file order (nothing sized by the ids yet) ...
    int64_t max_id = 0;
    std::unordered_map<int64_t, const std::string*> key_of;
    key_of.reserve(reader.entries.size() * 2);
    by_bytes.reserve(reader.entries.size() * 2);
    std::vector<std::string> entry_bytes(reader.entries.size());
    for (size_t i = 0; i < reader.entries.size(); ++i) {
      const auto& [key, id] = reader.entries[i];
      std::string& bytes = entry_bytes[i];
      if (key.empty()) throw Error(vocab_path + ": empty token text (id " + std::to_string(id) + ")");
      char32_t bad;
      if (!symbols_to_bytes(key, &bytes, &bad))
        throw Error(vocab_path + ": token " + shown(key) + " (id " + std::to_string(id) +
                    ") is not byte-level text: " + code_point_name(bad) +
                    " is not one of GPT-2's 256 byte symbols");
      if (const auto [it, fresh] = key_of.emplace(id, &key); !fresh)
        throw Error(vocab_path + ": duplicate id " + std::to_string(id) + " (tokens " + shown(*it->second) + " and " +
                    shown(key) + ")");
      if (!by_bytes.emplace(bytes, static_cast<int32_t>(id)).second)
        throw Error(vocab_path + ": duplicate token " + shown(key) + " (ids " +
                    std::to_string(by_bytes[bytes]) + " and " + std::to_string(id) + ")");
      max_id = std::max(max_id, id);
    }
    // ... then the table of ids. Ids may skip some numbers, but every id up to the largest
    // becomes a row of the model's embedding and logits: a vocabulary mostly of holes is refused.
    if (static_cast<uint64_t>(max_id) + 1 > 2 * reader.entries.size())
      throw Error(vocab_path + ": the largest id is " + std::to_string(max_id) + " but only " +
                  std::to_string(reader.entries.size()) + " ids are tokens; a vocabulary of " +
                  std::to_string(max_id + 1) + " ids would be mostly holes (at most as many missing ids as tokens)");
    d->bytes.resize(static_cast<size_t>(max_id) + 1);
    d->present.assign(static_cast<size_t>(max_id) + 1, 0);
    for (size_t i = 0; i < reader.entries.size(); ++i) {
      const int64_t id = reader.entries[i].second;
      d->present[id] = 1;
      d->bytes[id] = std::move(entry_bytes[i]);
    }
    const ByteTable& t = byte_table();
    for (int b = 0; b < 256; ++b) {
      const auto it = by_bytes.find(std::string(1, static_cast<char>(b)));
      if (it == by_bytes.end()) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02X", b);
        throw Error(vocab_path + ": byte " + buf + " (symbol " + code_point_name(t.symbol[b]) +
                    ") has no token; a byte-level vocabulary needs all 256");
      }
      d->byte_id[b] = it->second;
    }
  }

  // --- the merges, one "left right" per line in rank order, after a "#version" line
  {
    const std::string text = read_file(merges_path);
    const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    d->reserve(lines);
    std::vector<int> line_of_rank;  // for the message about a duplicate merge
    std::string left, right;
    size_t line_no = 0;
    int32_t rank = 0;
    for (size_t pos = 0; pos < text.size();) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string_view line(text.data() + pos, end - pos);
      pos = end + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      if (line_no == 1 && line.rfind("#version", 0) == 0) continue;
      const std::string where = merges_path + " line " + std::to_string(line_no) + ": ";
      const size_t sp = line.find(' ');
      if (sp == std::string_view::npos || sp == 0 || sp + 1 == line.size() ||
          line.find(' ', sp + 1) != std::string_view::npos || line.find('\t') != std::string_view::npos)
        throw Error(where + "malformed merge " + shown(line) +
                    ", expected two tokens separated by one space");
      const std::string_view a = line.substr(0, sp), b = line.substr(sp + 1);
      char32_t bad;
      if (!symbols_to_bytes(a, &left, &bad) || !symbols_to_bytes(b, &right, &bad))
        throw Error(where + "merge " + shown(line) + " is not byte-level text: " +
                    code_point_name(bad) + " is not one of GPT-2's 256 byte symbols");
      const auto ia = by_bytes.find(left), ib = by_bytes.find(right);
      if (ia == by_bytes.end() || ib == by_bytes.end())
        throw Error(where + "merge " + shown(line) + ": " + shown(ia == by_bytes.end() ? a : b) +
                    " is not a token of " + vocab_path);
      const auto im = by_bytes.find(left + right);
      if (im == by_bytes.end())
        throw Error(where + "merge " + shown(line) + " makes " + shown(std::string(a) + std::string(b)) +
                    ", which is not a token of " + vocab_path);
      if (!d->insert(ia->second, ib->second, rank, im->second))
        throw Error(where + "duplicate merge " + shown(line) + " (first at line " +
                    std::to_string(line_of_rank[d->find(ia->second, ib->second)->rank]) + ")");
      line_of_rank.push_back(static_cast<int>(line_no));
      ++rank;
    }
  }
  regex();  // compile the pattern now, not in the first encode()
  return Gpt2Tokenizer(std::move(d));
}

std::vector<int32_t> Gpt2Tokenizer::encode(const std::string& utf8) const {
  std::vector<int32_t> out;
  out.reserve(utf8.size() / 3 + 8);
  Scratch scratch;
  MatchData m(regex().code);
  const std::string_view text(utf8);
  // Words repeat (Zipf): each distinct pre-token is merged once per call; later occurrences copy
  // the ids of the first from `out`.
  std::unordered_map<std::string_view, std::pair<size_t, size_t>> seen;
  auto word = [&](std::string_view w) {
    if (w.size() == 1) {
      out.push_back(d_->byte_id[static_cast<unsigned char>(w[0])]);
      return;
    }
    const auto [it, fresh] = seen.try_emplace(w, out.size(), 0);
    if (!fresh) {
      const auto [at, n] = it->second;
      for (size_t k = 0; k < n; ++k) out.push_back(out[at + k]);
      return;
    }
    bpe_word(*d_, w, scratch, out);
    it->second.second = out.size() - it->second.first;
  };

  // Cut into maximal valid-UTF-8 runs (pre-tokenised by the regex) and maximal invalid runs (one
  // pre-token each).
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i, prefix;
    while (j < text.size()) {
      const size_t n = utf8_length(text, j, &prefix);
      if (!n) break;
      j += n;
    }
    if (j > i) {
      const std::string_view run = text.substr(i, j - i);
      split_valid(run, m, [&](size_t b, size_t n) { word(run.substr(b, n)); });
    }
    size_t k = j;
    while (k < text.size() && !utf8_length(text, k, &prefix)) k += prefix;
    if (k > j) word(text.substr(j, k - j));
    i = k;
  }
  return out;
}

std::string Gpt2Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (const int32_t id : ids) {
    if (id < 0 || id >= size())
      throw Error("token id " + std::to_string(id) + " is out of range (vocabulary size " +
                  std::to_string(size()) + ")");
    if (!d_->present[id]) throw Error("token id " + std::to_string(id) + " is not in the vocabulary");
    out += d_->bytes[id];
  }
  return out;
}

std::string Gpt2Tokenizer::token(int32_t id) const {
  return sanitize_utf8(decode({id}));
}

int Gpt2Tokenizer::size() const { return static_cast<int>(d_->bytes.size()); }

}  // namespace gs
