// libFuzzer: GPT-2 tokenizer files. The input is split at the first NUL byte into encoder.json
// and vocab.bpe, written to a scratch directory and loaded; what loads must encode and decode.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gradscope/bpe.h"
#include "gradscope/error.h"

static const std::string& scratch() {
  static const std::string dir = [] {
    char t[] = "/tmp/fuzz_bpe_XXXXXX";
    return std::string(mkdtemp(t));
  }();
  return dir;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const size_t cut = all.find('\0');
  std::ofstream(scratch() + "/encoder.json", std::ios::binary) << all.substr(0, cut);
  std::ofstream(scratch() + "/vocab.bpe", std::ios::binary) << (cut == std::string::npos ? "" : all.substr(cut + 1));
  try {
    const gs::Gpt2Tokenizer t = gs::Gpt2Tokenizer::load(scratch());
    const std::string text = "hello world, héllo 123";
    if (t.decode(t.encode(text)) != text) std::abort();
  } catch (const gs::Error&) {
  }
  return 0;
}
