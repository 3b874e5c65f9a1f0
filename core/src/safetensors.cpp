#include "gradscope/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "gradscope/error.h"

namespace gs::st {

// Records hold little-endian bytes; the builders and to_double copy them straight to and from
// host values, which is only right on a little-endian host.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeader = 100'000'000;  // same cap as the reference implementation
constexpr const char* kMetadataKey = "__metadata__";

std::string errno_text(int err) { return std::strerror(err); }

// A tensor name or key for a one-line message: control and non-ASCII bytes become \xNN,
// and very long names are cut short.
std::string shown(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 120) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + "'";
}

bool parse_dtype(const std::string& s, DType& out) {
  for (auto d : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64, DType::I32, DType::I16, DType::I8,
                 DType::U8, DType::BOOL})
    if (s == dtype_name(d)) {
      out = d;
      return true;
    }
  return false;
}

// Element count of `shape`, or false when a dim is negative or the product (or the byte count
// numel * elem_size) does not fit in int64.
bool checked_numel(const std::vector<int64_t>& shape, size_t elem_size, int64_t& numel, int64_t& nbytes) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  bool zero = false;
  for (int64_t d : shape) {
    if (d < 0) return false;
    zero = zero || d == 0;
  }
  uint64_t n = 1;
  if (zero) {
    n = 0;
  } else {
    for (int64_t d : shape)
      if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n) || n > kMax) return false;
  }
  uint64_t b = 0;
  if (__builtin_mul_overflow(n, static_cast<uint64_t>(elem_size), &b) || b > kMax) return false;
  numel = static_cast<int64_t>(n);
  nbytes = static_cast<int64_t>(b);
  return true;
}

// Offset of the first byte that is not well-formed UTF-8 (overlongs, surrogates and code points
// past U+10FFFF included), or npos.
size_t invalid_utf8_at(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return i;
    }
    if (n - i < len) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) return i;
    i += len;
  }
  return std::string::npos;
}

// A JSON integer that fits in int64 and is >= 0, or -1 when `v` is not one.
int64_t non_negative_int(const json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? -1 : static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return std::max<int64_t>(v.get<int64_t>(), -1);
  return -1;
}

// Half-precision bits → double, exactly: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
double f16_to_double(uint16_t h) {
  const bool neg = h & 0x8000;
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(static_cast<double>(mant), -24);  // zero or subnormal: mant * 2^-24
  else if (exp == 31)
    v = mant == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  else
    v = std::ldexp(static_cast<double>(mant | 0x400), exp - 25);  // 1.mant * 2^(exp-15)
  return neg ? -v : v;
}

// bfloat16 bits → double, exactly: 1 sign, 8 exponent (bias 127), 7 mantissa bits.
double bf16_to_double(uint16_t h) {
  const bool neg = h & 0x8000;
  const int exp = (h >> 7) & 0xff;
  const int mant = h & 0x7f;
  double v;
  if (exp == 0)
    v = std::ldexp(static_cast<double>(mant), -133);  // zero or subnormal: mant * 2^-133
  else if (exp == 255)
    v = mant == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  else
    v = std::ldexp(static_cast<double>(mant | 0x80), exp - 134);  // 1.mant * 2^(exp-127)
  return neg ? -v : v;
}

template <class T>
void widen(const Record& r, std::vector<double>& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    T x;
    std::memcpy(&x, r.bytes.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<double>(x);
  }
}

Record make_record(const std::string& name, DType dtype, std::vector<int64_t> shape, const void* v) {
  Record r;
  r.name = name;
  r.dtype = dtype;
  r.shape = std::move(shape);
  int64_t numel = 0, nbytes = 0;
  if (!checked_numel(r.shape, dtype_size(dtype), numel, nbytes))
    throw Error("tensor " + shown(name) + ": shape has a negative dim or too many elements");
  r.bytes.resize(static_cast<size_t>(nbytes));
  if (nbytes > 0) std::memcpy(r.bytes.data(), v, r.bytes.size());
  return r;
}

// One tensor entry of the header, before its bytes are copied out.
struct Entry {
  Record rec;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& name, const json& v, const std::string& what) {
  const std::string t = what + ": tensor " + shown(name);
  if (!v.is_object()) throw Error(t + " is not a JSON object");
  for (const auto& [key, _] : v.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets") throw Error(t + " has unexpected key " + shown(key));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) throw Error(t + " is missing \"" + key + "\"");

  Entry e;
  e.rec.name = name;
  const json& dt = v["dtype"];
  if (!dt.is_string()) throw Error(t + " has a dtype that is not a string");
  if (!parse_dtype(dt.get<std::string>(), e.rec.dtype))
    throw Error(t + " has unknown dtype " + shown(dt.get<std::string>()) +
                " (expected F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL)");

  const json& shape = v["shape"];
  if (!shape.is_array()) throw Error(t + " has a shape that is not an array");
  for (size_t i = 0; i < shape.size(); ++i) {
    const json& d = shape[i];
    const std::string at = " at shape[" + std::to_string(i) + "]";
    if (!d.is_number_integer())
      throw Error(t + " has a dim that is not an integer (" + (d.is_number() ? d.dump() : std::string("a ") + d.type_name()) +
                  ")" + at);
    const int64_t n = non_negative_int(d);
    if (n < 0)
      throw Error(t + " has a " + (d.is_number_unsigned() ? "too large" : "negative") + " dim " + d.dump() + at);
    e.rec.shape.push_back(n);
  }

  const json& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2) throw Error(t + " has data_offsets that are not a [begin, end] pair");
  int64_t o[2];
  for (int k = 0; k < 2; ++k) {
    o[k] = non_negative_int(off[k]);
    if (o[k] < 0) throw Error(t + " has data_offsets that are not non-negative integers");
  }
  e.begin = static_cast<uint64_t>(o[0]);
  e.end = static_cast<uint64_t>(o[1]);
  return e;
}

// write(2) all of [p, p+n), retrying short writes and EINTR; 0 or the errno.
int write_all(int fd, const void* p, size_t n) {
  auto* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    c += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

}  // namespace

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F64: return "F64";
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::BOOL: return "BOOL";
  }
  return "?";
}

size_t dtype_size(DType d) {
  switch (d) {
    case DType::F64:
    case DType::I64: return 8;
    case DType::F32:
    case DType::I32: return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16: return 2;
    case DType::I8:
    case DType::U8:
    case DType::BOOL: return 1;
  }
  return 0;
}

int64_t Record::numel() const {
  int64_t n = 0, nbytes = 0;
  if (!checked_numel(shape, 1, n, nbytes))
    throw Error("tensor " + shown(name) + ": shape has a negative dim or too many elements");
  return n;
}

const Record* File::find(const std::string& name) const {
  for (const auto& r : tensors)
    if (r.name == name) return &r;
  return nullptr;
}

// Layout: [u64 LE header length N][N bytes of JSON, maybe space-padded][data section].
File parse(const uint8_t* data, size_t size, const std::string& what) {
  if (size == 0) throw Error(what + ": file is empty");
  if (size < 8)
    throw Error(what + ": file is " + std::to_string(size) + " bytes, too short for the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > size - 8)
    throw Error(what + ": header length " + std::to_string(n) + " runs past the end of the file (" +
                std::to_string(size) + " bytes)");
  if (n > kMaxHeader)
    throw Error(what + ": header length " + std::to_string(n) + " is over the limit of " + std::to_string(kMaxHeader) +
                " bytes");
  if (n < 2) throw Error(what + ": header length " + std::to_string(n) + " is too small for a JSON object");

  const uint8_t* hdr = data + 8;
  if (size_t bad = invalid_utf8_at(hdr, n); bad != std::string::npos)
    throw Error(what + ": header is not valid UTF-8 (byte " + std::to_string(bad) + " of the header)");

  // nlohmann keeps the last of repeated keys; track the keys of every open object to reject them.
  std::vector<std::set<std::string>> open_keys;
  std::string duplicate;
  auto on_event = [&](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start) {
      open_keys.emplace_back();
    } else if (ev == json::parse_event_t::object_end) {
      if (!open_keys.empty()) open_keys.pop_back();
    } else if (ev == json::parse_event_t::key && !open_keys.empty() && parsed.is_string()) {
      if (!open_keys.back().insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json h;
  try {
    h = json::parse(hdr, hdr + n, on_event);
  } catch (const json::parse_error& e) {
    throw Error(what + ": header is not valid JSON (syntax error at byte " + std::to_string(e.byte) +
                " of the header)");
  } catch (const json::exception&) {
    throw Error(what + ": header is not valid JSON");
  }
  if (!h.is_object()) throw Error(what + ": header is not a JSON object");
  if (!duplicate.empty()) throw Error(what + ": header has duplicate key " + shown(duplicate));

  File file;
  std::vector<Entry> entries;
  for (const auto& [name, v] : h.items()) {
    if (name == kMetadataKey) {
      if (!v.is_object()) throw Error(what + ": __metadata__ is not a JSON object");
      for (const auto& [k, mv] : v.items()) {
        if (!mv.is_string()) throw Error(what + ": metadata value for " + shown(k) + " is not a string");
        file.metadata[k] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(name, v, what));
  }

  // The data section must be covered exactly: no holes, no overlaps, nothing left over.
  const uint64_t data_size = size - 8 - n;
  const uint8_t* base = hdr + n;
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  uint64_t cursor = 0;
  for (auto& e : entries) {
    const std::string t = what + ": tensor " + shown(e.rec.name);
    const std::string range = "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
    if (e.begin > e.end) throw Error(t + " has data_offsets " + range + " with begin after end");
    if (e.end > data_size)
      throw Error(t + " has data_offsets " + range + " out of range of the " + std::to_string(data_size) +
                  "-byte data section");
    int64_t numel = 0, nbytes = 0;
    if (!checked_numel(e.rec.shape, dtype_size(e.rec.dtype), numel, nbytes))
      throw Error(t + " has a shape whose element count overflows");
    if (e.end - e.begin != static_cast<uint64_t>(nbytes))
      throw Error(t + " has data_offsets " + range + " spanning " + std::to_string(e.end - e.begin) +
                  " bytes, but its shape and dtype need " + std::to_string(nbytes));
    if (e.begin != cursor)
      throw Error(t + " has data_offsets " + range + (e.begin < cursor ? " overlapping" : " leaving a gap after") +
                  " the previous tensor (which ends at " + std::to_string(cursor) + ")");
    cursor = e.end;
    e.rec.bytes.assign(base + e.begin, base + e.end);
    file.tensors.push_back(std::move(e.rec));
  }
  if (cursor != data_size)
    throw Error(what + ": data section is " + std::to_string(data_size) + " bytes but the tensors cover only " +
                std::to_string(cursor));
  return file;
}

File read(const std::string& path) {
  int fd;
  do fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) throw Error(path + ": cannot open: " + errno_text(errno));
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(path + ": cannot stat: " + errno_text(err));
  }
  if (S_ISDIR(sb.st_mode)) {
    ::close(fd);
    throw Error(path + ": is a directory, not a safetensors file");
  }
  std::vector<uint8_t> buf;
  if (S_ISREG(sb.st_mode) && sb.st_size > 0) buf.reserve(static_cast<size_t>(sb.st_size));
  uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw Error(path + ": cannot read: " + errno_text(err));
    }
    if (got == 0) break;
    buf.insert(buf.end(), chunk, chunk + got);
  }
  ::close(fd);
  return parse(buf.data(), buf.size(), path);
}

void write(const std::string& path, const File& file) {
  // Header: {"__metadata__": {...} (only if any), name: {dtype, shape, data_offsets}, ...}, with
  // offsets laying the tensors out back to back in the order given.
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!file.metadata.empty()) {
    auto& m = h[kMetadataKey] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : file.metadata) m[k] = v;
  }
  uint64_t offset = 0;
  std::set<std::string> names;
  for (const auto& r : file.tensors) {
    const std::string t = path + ": tensor " + shown(r.name);
    if (r.name == kMetadataKey) throw Error(t + " uses the reserved name");
    if (!names.insert(r.name).second) throw Error(t + " appears twice");
    int64_t numel = 0, nbytes = 0;
    if (!checked_numel(r.shape, dtype_size(r.dtype), numel, nbytes))
      throw Error(t + " has a negative dim or too many elements");
    if (r.bytes.size() != static_cast<uint64_t>(nbytes))
      throw Error(t + " holds " + std::to_string(r.bytes.size()) + " bytes, but its shape and dtype need " +
                  std::to_string(nbytes));
    h[r.name] = {{"dtype", dtype_name(r.dtype)}, {"shape", r.shape}, {"data_offsets", {offset, offset + nbytes}}};
    offset += static_cast<uint64_t>(nbytes);
  }
  std::string header;
  try {
    header = h.dump();
  } catch (const nlohmann::ordered_json::exception&) {
    throw Error(path + ": a tensor name or metadata string is not valid UTF-8");
  }
  header.append((8 - header.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));

  // Create a fresh temporary beside the target (O_EXCL, so never someone else's file).
  static std::atomic<unsigned> counter{0};
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    const auto tick = std::chrono::steady_clock::now().time_since_epoch().count();
    tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
          std::to_string(static_cast<uint64_t>(tick) % 1000000);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    const int err = fd < 0 ? errno : 0;
    if (fd < 0 && err != EINTR && !(err == EEXIST && attempt < 100))
      throw Error(path + ": cannot create a temporary file to write: " + errno_text(err));
  }
  auto fail = [&](const char* doing, int err) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw Error(path + ": " + doing + ": " + errno_text(err));
  };
  int err = write_all(fd, len, sizeof len);
  if (!err) err = write_all(fd, header.data(), header.size());
  for (const auto& r : file.tensors)
    if (!err) err = write_all(fd, r.bytes.data(), r.bytes.size());
  if (err) fail("cannot write", err);
  if (::fsync(fd) != 0) fail("cannot sync", errno);
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) fail("cannot close", errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename the temporary file into place", errno);
}

std::vector<double> to_double(const Record& r) {
  const int64_t n = r.numel();
  if (r.bytes.size() != static_cast<uint64_t>(n) * dtype_size(r.dtype))
    throw Error("tensor " + shown(r.name) + " holds " + std::to_string(r.bytes.size()) +
                " bytes, but its shape and dtype need " + std::to_string(static_cast<uint64_t>(n) * dtype_size(r.dtype)));
  std::vector<double> out(static_cast<size_t>(n));
  switch (r.dtype) {
    case DType::F64: widen<double>(r, out); break;
    case DType::F32: widen<float>(r, out); break;
    case DType::I64: widen<int64_t>(r, out); break;
    case DType::I32: widen<int32_t>(r, out); break;
    case DType::I16: widen<int16_t>(r, out); break;
    case DType::I8: widen<int8_t>(r, out); break;
    case DType::U8: widen<uint8_t>(r, out); break;
    case DType::BOOL:
      for (size_t i = 0; i < out.size(); ++i) out[i] = r.bytes[i] != 0 ? 1.0 : 0.0;
      break;
    case DType::F16:
    case DType::BF16:
      for (size_t i = 0; i < out.size(); ++i) {
        const uint16_t bits = static_cast<uint16_t>(r.bytes[2 * i] | (r.bytes[2 * i + 1] << 8));
        out[i] = r.dtype == DType::F16 ? f16_to_double(bits) : bf16_to_double(bits);
      }
      break;
  }
  return out;
}

Record make_f64(const std::string& name, std::vector<int64_t> shape, const double* v) {
  return make_record(name, DType::F64, std::move(shape), v);
}
Record make_f32(const std::string& name, std::vector<int64_t> shape, const float* v) {
  return make_record(name, DType::F32, std::move(shape), v);
}
Record make_i32(const std::string& name, std::vector<int64_t> shape, const int32_t* v) {
  return make_record(name, DType::I32, std::move(shape), v);
}

}  // namespace gs::st
