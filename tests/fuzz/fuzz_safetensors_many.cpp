// libFuzzer: the safetensors header parser on headers of many entries, built from a short input,
// to keep it linear. The input's first byte picks N (1 024 … 131 072 entries), its second the
// entry's form, the rest is the stem of every tensor name. Parsing 131 072 entries takes well
// under a second with a linear parser; one that rescans at each entry (what nlohmann's callback
// parser did) takes minutes, and libFuzzer's -timeout (scripts/test) reports it as a failure.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "gradscope/error.h"
#include "gradscope/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t n = size_t(1) << (10 + data[0] % 8);
  const int form = data[1] % 4;
  const std::string stem(reinterpret_cast<const char*>(data + 2), size - 2 > 32 ? 32 : size - 2);
  std::string h = form == 3 ? "{\"__metadata__\":{\"k\":\"v\"}" : "{";
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    if (h.size() > 1) h += ',';
    const std::string name = "\"" + stem + std::to_string(i) + "\"";
    const size_t len = form == 1 ? 0 : form == 2 ? 4 : 1;
    const char* entry = form == 1 ? "{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":["
                        : form == 2 ? "{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":["
                                    : "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[";
    h += name + ":" + entry + std::to_string(bytes) + "," + std::to_string(bytes + len) + "]}";
    bytes += len;
  }
  h += "}";
  std::vector<uint8_t> file(8 + h.size() + bytes, 0);
  for (int i = 0; i < 8; ++i) file[i] = static_cast<uint8_t>(uint64_t(h.size()) >> (8 * i));
  std::copy(h.begin(), h.end(), file.begin() + 8);
  try {
    const gs::st::File f = gs::st::parse(file.data(), file.size(), "fuzz.safetensors");
    if (f.tensors.size() != n) std::abort();  // a valid header lists every entry
  } catch (const gs::Error&) {
    // A stem that breaks the JSON or repeats a name: rejected, which is fine.
  }
  return 0;
}
