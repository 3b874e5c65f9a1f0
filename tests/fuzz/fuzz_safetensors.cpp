// libFuzzer: the safetensors reader and gradscope's checkpoint reading of what it accepts.
#include <cstdint>

#include "gradscope/checkpoint.h"
#include "gradscope/error.h"
#include "gradscope/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    gs::st::File f = gs::st::parse(data, size, "fuzz.safetensors");
    for (const auto& r : f.tensors) (void)gs::st::to_double(r);
    const gs::CheckpointHeader h = gs::checkpoint_header(f, "fuzz.safetensors");
    if (h.config.estimated_bytes() < 64e6) {
      gs::Model<float> m(h.config);
      gs::load_params(m, f, "fuzz.safetensors");
    }
  } catch (const gs::Error&) {
  }
  return 0;
}
