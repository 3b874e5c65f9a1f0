#include "gradscope/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "gradscope/error.h"
#include "gradscope/fileio.h"
#include "gradscope/memory.h"

namespace gs::st {

// Records hold little-endian bytes; the builders and to_double copy them straight to and from
// host values, which is only right on a little-endian host.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeader = 100'000'000;  // same cap as the reference implementation
constexpr const char* kMetadataKey = "__metadata__";

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

// The header's JSON read event by event (nlohmann's SAX interface): one pass over the text, no
// document built, no rescanning, so the time is linear in the header's size however many entries
// it lists. Each problem is reported where it is met.
class HeaderReader : public nlohmann::json_sax<json> {
 public:
  explicit HeaderReader(const std::string& what) : what_(what) {}

  std::map<std::string, std::string> metadata;
  std::vector<Entry> entries;
  // The first problem met. The parse goes on to the end (ignoring the rest) so that a syntax
  // error anywhere in the header is what is reported for a header that is not JSON at all.
  std::string error;
  std::string syntax_error;

  bool null() override { return value(Val(Kind::null_)); }
  bool boolean(bool) override { return value(Val(Kind::boolean)); }
  bool number_integer(number_integer_t v) override {
    Val x(Kind::integer);
    x.negative = v < 0;
    x.u = v < 0 ? 0 : static_cast<uint64_t>(v);
    x.text = std::to_string(v);
    return value(x);
  }
  bool number_unsigned(number_unsigned_t v) override {
    Val x(Kind::integer);
    x.u = v;
    x.text = std::to_string(v);
    return value(x);
  }
  bool number_float(number_float_t, const string_t& s) override {
    Val x(Kind::floating);
    x.text = s;
    return value(x);
  }
  bool string(string_t& s) override {
    Val x(Kind::string);
    x.text = std::move(s);
    return value(x);
  }
  bool binary(binary_t&) override { return value(Val(Kind::binary)); }
  bool start_object(std::size_t) override { return value(Val(Kind::object)); }
  bool start_array(std::size_t) override { return value(Val(Kind::array)); }

  bool key(string_t& k) override {
    if (!error.empty()) return true;
    switch (at_) {
      case At::top:
        name_ = std::move(k);
        if (name_ == kMetadataKey && seen_metadata_) return fail(what_ + ": header has duplicate key " + shown(name_));
        return true;
      case At::metadata:
        if (metadata.count(k)) return fail(what_ + ": header has duplicate key " + shown(k));
        meta_key_ = std::move(k);
        return true;
      case At::entry: {
        int f = -1;
        for (int i = 0; i < 3; ++i)
          if (k == kFields[i]) f = i;
        if (f < 0) return fail(entry_text() + " has unexpected key " + shown(k));
        if (seen_[f]) return fail(what_ + ": header has duplicate key " + shown(k));
        seen_[f] = true;
        field_ = f;
        return true;
      }
      default: return fail(what_ + ": header is not valid JSON");  // keys only come inside objects
    }
  }

  bool end_object() override {
    if (!error.empty()) return true;
    switch (at_) {
      case At::top: at_ = At::done; return true;
      case At::metadata: at_ = At::top; return true;
      case At::entry:
        for (int i = 0; i < 3; ++i)
          if (!seen_[i]) return fail(entry_text() + " is missing \"" + kFields[i] + "\"");
        entries.push_back(std::move(entry_));
        at_ = At::top;
        return true;
      default: return fail(what_ + ": header is not valid JSON");
    }
  }

  bool end_array() override {
    if (!error.empty()) return true;
    if (at_ == At::shape) {
      at_ = At::entry;
      return true;
    }
    if (at_ == At::offsets) {
      if (n_offsets_ != 2) return fail(entry_text() + " has data_offsets that are not a [begin, end] pair");
      at_ = At::entry;
      return true;
    }
    return fail(what_ + ": header is not valid JSON");
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) override {
    if (const auto* pe = dynamic_cast<const nlohmann::detail::parse_error*>(&ex))
      syntax_error =
          what_ + ": header is not valid JSON (syntax error at byte " + std::to_string(pe->byte) + " of the header)";
    else
      syntax_error = what_ + ": header is not valid JSON";
    return false;
  }

 private:
  enum class Kind { null_, boolean, integer, floating, string, binary, object, array };
  struct Val {
    explicit Val(Kind k) : kind(k) {}
    Kind kind;
    bool negative = false;
    uint64_t u = 0;
    std::string text;
  };
  enum class At { start, top, metadata, entry, shape, offsets, done };
  static constexpr const char* kFields[3] = {"dtype", "shape", "data_offsets"};
  enum Field { dtype_field, shape_field, offsets_field };

  static std::string kind_text(const Val& v) {
    switch (v.kind) {
      case Kind::null_: return "null";
      case Kind::boolean: return "a boolean";
      case Kind::integer:
      case Kind::floating: return v.text;
      case Kind::string: return "a string";
      case Kind::binary: return "binary";
      case Kind::object: return "an object";
      case Kind::array: return "an array";
    }
    return "?";
  }
  std::string entry_text() const { return what_ + ": tensor " + shown(entry_.rec.name); }
  bool fail(std::string msg) {
    if (error.empty()) error = std::move(msg);
    return true;  // go on reading (and ignoring) to the end: see `error`
  }

  // Every value the parser meets (and the start of every object and array), by where it is.
  bool value(const Val& v) {
    if (!error.empty()) return true;
    constexpr uint64_t kMaxI64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    switch (at_) {
      case At::start:
        if (v.kind != Kind::object) return fail(what_ + ": header is not a JSON object");
        at_ = At::top;
        return true;
      case At::top:
        if (name_ == kMetadataKey) {
          if (v.kind != Kind::object) return fail(what_ + ": __metadata__ is not a JSON object");
          seen_metadata_ = true;
          at_ = At::metadata;
          return true;
        }
        entry_ = Entry{};
        entry_.rec.name = std::move(name_);
        if (v.kind != Kind::object) return fail(entry_text() + " is not a JSON object");
        seen_[0] = seen_[1] = seen_[2] = false;
        at_ = At::entry;
        return true;
      case At::metadata:
        if (v.kind != Kind::string) return fail(what_ + ": metadata value for " + shown(meta_key_) + " is not a string");
        metadata.emplace(std::move(meta_key_), v.text);
        return true;
      case At::entry:
        if (field_ == dtype_field) {
          if (v.kind != Kind::string) return fail(entry_text() + " has a dtype that is not a string");
          if (!parse_dtype(v.text, entry_.rec.dtype))
            return fail(entry_text() + " has unknown dtype " + shown(v.text) +
                        " (expected F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL)");
          return true;
        }
        if (field_ == shape_field) {
          if (v.kind != Kind::array) return fail(entry_text() + " has a shape that is not an array");
          at_ = At::shape;
          return true;
        }
        if (v.kind != Kind::array) return fail(entry_text() + " has data_offsets that are not a [begin, end] pair");
        n_offsets_ = 0;
        at_ = At::offsets;
        return true;
      case At::shape: {
        const std::string where = " at shape[" + std::to_string(entry_.rec.shape.size()) + "]";
        if (v.kind != Kind::integer)
          return fail(entry_text() + " has a dim that is not an integer (" + kind_text(v) + ")" + where);
        if (v.negative) return fail(entry_text() + " has a negative dim " + v.text + where);
        if (v.u > kMaxI64) return fail(entry_text() + " has a too large dim " + v.text + where);
        entry_.rec.shape.push_back(static_cast<int64_t>(v.u));
        return true;
      }
      case At::offsets:
        if (n_offsets_ >= 2) return fail(entry_text() + " has data_offsets that are not a [begin, end] pair");
        if (v.kind != Kind::integer || v.negative || v.u > kMaxI64)
          return fail(entry_text() + " has data_offsets that are not non-negative integers");
        (n_offsets_++ == 0 ? entry_.begin : entry_.end) = v.u;
        return true;
      case At::done: return fail(what_ + ": header is not valid JSON");
    }
    return false;
  }

  const std::string& what_;
  At at_ = At::start;
  std::string name_, meta_key_;
  bool seen_metadata_ = false;
  Entry entry_;
  bool seen_[3] = {false, false, false};
  int field_ = 0;
  int n_offsets_ = 0;
};

// The 8-byte header length of a file of `size` (>= 8) bytes, checked against the file and the cap.
uint64_t header_length(const uint8_t* first8, uint64_t size, const std::string& what) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | first8[i];
  if (n > size - 8)
    throw Error(what + ": header length " + std::to_string(n) + " runs past the end of the file (" +
                std::to_string(size) + " bytes)");
  if (n > kMaxHeader)
    throw Error(what + ": header length " + std::to_string(n) + " is over the limit of " + std::to_string(kMaxHeader) +
                " bytes");
  if (n < 2) throw Error(what + ": header length " + std::to_string(n) + " is too small for a JSON object");
  return n;
}

struct Header {
  std::map<std::string, std::string> metadata;
  std::vector<Entry> entries;  // in data order, covering the data section exactly
};

// The header's n bytes, for a data section of `data_size` bytes: every entry valid and the data
// section covered exactly (no holes, no overlaps, nothing left over).
Header parse_header(const uint8_t* hdr, uint64_t n, uint64_t data_size, const std::string& what) {
  if (size_t bad = invalid_utf8_at(hdr, n); bad != std::string::npos)
    throw Error(what + ": header is not valid UTF-8 (byte " + std::to_string(bad) + " of the header)");
  HeaderReader reader(what);
  const char* text = reinterpret_cast<const char*>(hdr);
  bool ok = false;
  try {
    ok = json::sax_parse(text, text + n, &reader);
  } catch (const json::exception&) {
    ok = false;
  }
  if (!reader.syntax_error.empty()) throw Error(reader.syntax_error);
  if (!reader.error.empty()) throw Error(reader.error);
  if (!ok) throw Error(what + ": header is not valid JSON");

  Header h;
  h.metadata = std::move(reader.metadata);
  h.entries = std::move(reader.entries);
  {
    // Repeated tensor names, found by sorting (n log n, whatever the names).
    std::vector<const std::string*> names;
    names.reserve(h.entries.size());
    for (const auto& e : h.entries) names.push_back(&e.rec.name);
    std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    for (size_t i = 1; i < names.size(); ++i)
      if (*names[i] == *names[i - 1]) throw Error(what + ": header has duplicate key " + shown(*names[i]));
  }
  std::stable_sort(h.entries.begin(), h.entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  for (const auto& e : h.entries) {
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
  }
  if (cursor != data_size)
    throw Error(what + ": data section is " + std::to_string(data_size) + " bytes but the tensors cover only " +
                std::to_string(cursor));
  return h;
}

// A JSON string literal for the header; invalid UTF-8 is refused (nlohmann throws).
std::string quoted(const std::string& s) { return json(s).dump(); }

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
  const uint64_t n = header_length(data, size, what);
  Header h = parse_header(data + 8, n, size - 8 - n, what);
  const uint8_t* base = data + 8 + n;
  File file;
  file.metadata = std::move(h.metadata);
  file.tensors.reserve(h.entries.size());
  for (auto& e : h.entries) {
    e.rec.bytes.assign(base + e.begin, base + e.end);
    file.tensors.push_back(std::move(e.rec));
  }
  return file;
}

File read(const std::string& path) {
  // The header first: the layout it promises is checked against the file's real size, and the
  // memory the tensors need against the machine, before the data is read (straight into the
  // records, once).
  io::Reader in(path);
  const uint64_t size = in.size();
  if (size < 8) {
    uint8_t small[8];
    in.read_exact(small, static_cast<size_t>(size));
    return parse(small, static_cast<size_t>(size), path);
  }
  uint8_t len[8];
  in.read_exact(len, 8);
  const uint64_t n = header_length(len, size, path);
  std::vector<uint8_t> hdr(static_cast<size_t>(n));
  in.read_exact(hdr.data(), hdr.size());
  Header h = parse_header(hdr.data(), n, size - 8 - n, path);
  hdr = {};
  check_memory(double(size - 8 - n), path + ": reading its " + std::to_string(h.entries.size()) +
                                         (h.entries.size() == 1 ? " tensor" : " tensors"));
  File file;
  file.metadata = std::move(h.metadata);
  file.tensors.reserve(h.entries.size());
  for (auto& e : h.entries) {
    e.rec.bytes.resize(static_cast<size_t>(e.end - e.begin));
    in.read_exact(e.rec.bytes.data(), e.rec.bytes.size());
    file.tensors.push_back(std::move(e.rec));
  }
  in.expect_end();
  return file;
}

void write(const std::string& path, const std::map<std::string, std::string>& metadata,
           const std::vector<TensorRef>& tensors) {
  // Header: {"__metadata__": {...} (only if any), name: {dtype, shape, data_offsets}, ...}, with
  // offsets laying the tensors out back to back in the order given; built as text in one pass.
  std::string header = "{";
  try {
    if (!metadata.empty()) {
      header += "\"__metadata__\":{";
      bool first = true;
      for (const auto& [k, v] : metadata) {
        header += (first ? "" : ",") + quoted(k) + ":" + quoted(v);
        first = false;
      }
      header += "}";
    }
    uint64_t offset = 0;
    std::set<std::string_view> names;
    for (const auto& r : tensors) {
      const std::string t = path + ": tensor " + shown(r.name);
      if (r.name == kMetadataKey) throw Error(t + " uses the reserved name");
      if (!names.insert(r.name).second) throw Error(t + " appears twice");
      int64_t numel = 0, nbytes = 0;
      if (!checked_numel(r.shape, dtype_size(r.dtype), numel, nbytes))
        throw Error(t + " has a negative dim or too many elements");
      if (r.nbytes != static_cast<uint64_t>(nbytes))
        throw Error(t + " holds " + std::to_string(r.nbytes) + " bytes, but its shape and dtype need " +
                    std::to_string(nbytes));
      if (header.size() > 1) header += ",";
      header += quoted(r.name) + ":{\"dtype\":\"" + dtype_name(r.dtype) + "\",\"shape\":[";
      for (size_t i = 0; i < r.shape.size(); ++i) header += (i ? "," : "") + std::to_string(r.shape[i]);
      header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
      offset += static_cast<uint64_t>(nbytes);
    }
  } catch (const json::exception&) {
    throw Error(path + ": a tensor name or metadata string is not valid UTF-8");
  }
  header += "}";
  if (header.size() > kMaxHeader)
    throw Error(path + ": the header would be " + std::to_string(header.size()) + " bytes, over the limit of " +
                std::to_string(kMaxHeader));
  header.append((8 - header.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));
  io::write_atomically(path, [&](io::Sink& out) {
    out.write(len, sizeof len);
    out.write(header.data(), header.size());
    for (const auto& r : tensors)
      if (r.nbytes) out.write(r.data, r.nbytes);
  });
}

void write(const std::string& path, const File& file) {
  std::vector<TensorRef> refs;
  refs.reserve(file.tensors.size());
  for (const auto& r : file.tensors) refs.push_back({r.name, r.dtype, r.shape, r.bytes.data(), r.bytes.size()});
  write(path, file.metadata, refs);
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
