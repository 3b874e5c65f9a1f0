// libFuzzer: GPT-2 BPE encoding of arbitrary bytes must round-trip exactly. Uses the real
// vocabulary from $GRADSCOPE_GPT2_VOCAB when it is there, else a small byte-level one.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "gradscope/bpe.h"
#include "gradscope/error.h"

static std::string byte_level_vocab() {
  // GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest to 256 + n.
  char t[] = "/tmp/fuzz_bpe_vocab_XXXXXX";
  const std::string dir = mkdtemp(t);
  std::string json = "{";
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    const bool direct = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
    const unsigned cp = direct ? b : 256 + n++;
    std::string u;
    if (cp < 0x80) {
      u = std::string(1, static_cast<char>(cp));
      if (cp == '"' || cp == '\\') u = "\\" + u;
    } else {
      u += static_cast<char>(0xc0 | (cp >> 6));
      u += static_cast<char>(0x80 | (cp & 0x3f));
    }
    json += (b ? "," : "") + std::string("\"") + u + "\":" + std::to_string(b);
  }
  json += ",\"he\":256,\"ll\":257,\"hell\":258}";
  std::ofstream(dir + "/encoder.json") << json;
  std::ofstream(dir + "/vocab.bpe") << "#version: 0.2\nh e\nl l\nhe ll\n";
  return dir;
}

static const gs::Gpt2Tokenizer& tokenizer() {
  static const gs::Gpt2Tokenizer t = [] {
    const char* env = std::getenv("GRADSCOPE_GPT2_VOCAB");
    if (env && *env && access((std::string(env) + "/encoder.json").c_str(), R_OK) == 0)
      return gs::Gpt2Tokenizer::load(env);
    return gs::Gpt2Tokenizer::load(byte_level_vocab());
  }();
  return t;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto ids = tokenizer().encode(text);
  for (int32_t id : ids)
    if (id < 0 || id >= tokenizer().size()) std::abort();
  if (tokenizer().decode(ids) != text) std::abort();
  return 0;
}
