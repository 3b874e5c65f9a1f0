// libFuzzer: llm.c's .bin reader.
#include <cstdint>

#include "gradscope/checkpoint.h"
#include "gradscope/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    gs::st::File f = gs::parse_llmc(data, size, "fuzz.bin");
    (void)gs::checkpoint_header(f, "fuzz.bin");
  } catch (const gs::Error&) {
  }
  return 0;
}
