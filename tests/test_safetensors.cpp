// safetensors reading and writing: round trips, a hand-built file, exact F16/BF16 widening, and
// every kind of corrupt or unwritable file, each of which must give a one-line gs::Error that
// names the file and the problem.
#include "gradscope/safetensors.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gradscope/error.h"
#include "test_util.h"

namespace gs::st {
namespace {

namespace fs = std::filesystem;

using test::Scratch;

std::vector<std::string> dir_listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

std::vector<uint8_t> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// [u64 LE length][header][data]; `length` overrides the true header length when given.
std::vector<uint8_t> build(const std::string& header, const std::vector<uint8_t>& data = {},
                           std::optional<uint64_t> length = std::nullopt) {
  std::vector<uint8_t> out;
  put_u64(out, length.value_or(header.size()));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// Checks that `f` throws a gs::Error whose single-line message starts with "<what>: " and
// contains `phrase`.
testing::AssertionResult throws_error(const std::function<void()>& f, const std::string& what,
                                      const std::string& phrase) {
  try {
    f();
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(what + ": ", 0) != 0)
      return testing::AssertionFailure() << "message does not start with '" << what << ": ': " << msg;
    if (msg.find(phrase) == std::string::npos)
      return testing::AssertionFailure() << "message lacks '" << phrase << "': " << msg;
    if (msg.find('\n') != std::string::npos) return testing::AssertionFailure() << "message has a newline: " << msg;
    return testing::AssertionSuccess() << msg;
  } catch (const std::exception& e) {
    return testing::AssertionFailure() << "threw a non-gs::Error: " << e.what();
  }
  return testing::AssertionFailure() << "did not throw";
}

// parse() of in-memory bytes, expecting an error mentioning `phrase`.
testing::AssertionResult rejects(const std::vector<uint8_t>& bytes, const std::string& phrase) {
  return throws_error([&] { parse(bytes.data(), bytes.size(), "bad.safetensors"); }, "bad.safetensors", phrase);
}

// A one-tensor header: {"t": <entry>}.
std::vector<uint8_t> one_tensor(const std::string& entry, size_t data_bytes) {
  return build("{\"t\":" + entry + "}", std::vector<uint8_t>(data_bytes, 0));
}

Record f16_record(std::vector<uint16_t> bits, DType dtype) {
  Record r;
  r.name = "h";
  r.dtype = dtype;
  r.shape = {static_cast<int64_t>(bits.size())};
  for (uint16_t b : bits) {
    r.bytes.push_back(static_cast<uint8_t>(b & 0xff));
    r.bytes.push_back(static_cast<uint8_t>(b >> 8));
  }
  return r;
}

// [SECTION] round trips and layout

TEST(Safetensors, RoundTripF64) {
  const Scratch scratch;
  const fs::path& dir = scratch.dir;
  const std::string path = (dir / "m.safetensors").string();
  const double w[6] = {1.5, -2.25, 0.0, 1e300, -1e-300, std::numeric_limits<double>::denorm_min()};
  const double scalar = 3.25;
  File f;
  f.metadata["config"] = "{\"n_layer\":2}";
  f.metadata["note"] = "héllo";
  f.tensors.push_back(make_f64("w", {2, 3}, w));
  f.tensors.push_back(make_f64("loss", {}, &scalar));
  write(path, f);

  const File g = read(path);
  EXPECT_EQ(g.metadata, f.metadata);
  ASSERT_EQ(g.tensors.size(), 2u);
  const Record* rw = g.find("w");
  ASSERT_NE(rw, nullptr);
  EXPECT_EQ(rw->dtype, DType::F64);
  EXPECT_EQ(rw->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(rw->numel(), 6);
  const auto vw = to_double(*rw);
  ASSERT_EQ(vw.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(vw[i], w[i]) << i;
  const Record* rl = g.find("loss");
  ASSERT_NE(rl, nullptr);
  EXPECT_TRUE(rl->shape.empty());
  EXPECT_EQ(rl->numel(), 1);
  EXPECT_EQ(to_double(*rl), std::vector<double>{3.25});
  EXPECT_EQ(g.find("absent"), nullptr);
  EXPECT_EQ(dir_listing(dir), std::vector<std::string>{"m.safetensors"});  // no temp left behind
}

TEST(Safetensors, RoundTripF32AndI32) {
  const Scratch scratch;
  const fs::path& dir = scratch.dir;
  const std::string path = (dir / "d.safetensors").string();
  const float a[4] = {0.1f, -3.5f, std::numeric_limits<float>::infinity(), 65504.f};
  const int32_t t[6] = {0, 1, -1, 2147483647, -2147483647 - 1, 50256};
  const float s = -0.5f;
  File f;
  f.metadata["format"] = "test";
  f.tensors.push_back(make_f32("a", {4}, a));
  f.tensors.push_back(make_i32("tokens", {2, 3}, t));
  f.tensors.push_back(make_f32("scalar", {}, &s));
  write(path, f);

  const File g = read(path);
  ASSERT_EQ(g.tensors.size(), 3u);
  // Read back in data order, which is the order written.
  EXPECT_EQ(g.tensors[0].name, "a");
  EXPECT_EQ(g.tensors[1].name, "tokens");
  EXPECT_EQ(g.tensors[2].name, "scalar");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(g.tensors[i].dtype, f.tensors[i].dtype);
    EXPECT_EQ(g.tensors[i].shape, f.tensors[i].shape);
    EXPECT_EQ(g.tensors[i].bytes, f.tensors[i].bytes);
  }
  const auto va = to_double(g.tensors[0]);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(va[i], static_cast<double>(a[i])) << i;
  const auto vt = to_double(g.tensors[1]);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(vt[i], static_cast<double>(t[i])) << i;
  EXPECT_EQ(to_double(g.tensors[2]), std::vector<double>{-0.5});
  EXPECT_EQ(g.metadata.at("format"), "test");
}

TEST(Safetensors, RoundTripEmptyTensorAndOverwrite) {
  const Scratch scratch;
  const fs::path& dir = scratch.dir;
  const std::string path = (dir / "e.safetensors").string();
  File f;
  f.tensors.push_back(make_f32("empty", {0, 5}, nullptr));
  write(path, f);
  write(path, f);  // replacing an existing file works
  const File g = read(path);
  ASSERT_EQ(g.tensors.size(), 1u);
  EXPECT_EQ(g.tensors[0].shape, (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(g.tensors[0].numel(), 0);
  EXPECT_TRUE(to_double(g.tensors[0]).empty());
  EXPECT_TRUE(g.metadata.empty());
  EXPECT_EQ(dir_listing(dir), std::vector<std::string>{"e.safetensors"});
}

TEST(Safetensors, WriteLayout) {
  const Scratch scratch;
  const fs::path& dir = scratch.dir;
  const std::string path = (dir / "l.safetensors").string();
  const float a[3] = {1, 2, 3};
  const double b[1] = {4};
  File f;
  f.tensors.push_back(make_f32("z_first", {3}, a));
  f.tensors.push_back(make_f64("a_second", {1}, b));
  write(path, f);

  const auto bytes = slurp(path);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  EXPECT_EQ((8 + n) % 8, 0u) << "data must start 8-byte aligned";
  ASSERT_EQ(bytes.size(), 8 + n + 12 + 8);
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  EXPECT_EQ(header.find("__metadata__"), std::string::npos) << "no metadata key when metadata is empty";
  EXPECT_NE(header.find("\"z_first\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}"), std::string::npos)
      << header;
  EXPECT_NE(header.find("\"a_second\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[12,20]}"), std::string::npos)
      << header;
  const size_t close = header.rfind('}');
  EXPECT_EQ(header.find_first_not_of(' ', close + 1), std::string::npos) << "padding must be spaces";
  // Data back to back in the order given.
  EXPECT_EQ(0, std::memcmp(bytes.data() + 8 + n, a, 12));
  EXPECT_EQ(0, std::memcmp(bytes.data() + 8 + n + 12, b, 8));
}

// [SECTION] a hand-built file

TEST(Safetensors, ParseHandBuilt) {
  // Two tensors listed out of data order, plus metadata, header padded with spaces.
  std::string header =
      "{\"b\": {\"dtype\": \"I16\", \"shape\": [2], \"data_offsets\": [4, 8]},"
      " \"__metadata__\": {\"k\": \"v\"},"
      " \"a\": {\"dtype\": \"F16\", \"shape\": [1, 2], \"data_offsets\": [0, 4]}}";
  header.append(5, ' ');
  // a = [1.0, -2.5] as F16 (0x3C00, 0xC100); b = [-2, 300] as I16.
  const std::vector<uint8_t> data = {0x00, 0x3C, 0x00, 0xC1, 0xFE, 0xFF, 0x2C, 0x01};
  const auto bytes = build(header, data);
  const File f = parse(bytes.data(), bytes.size(), "hand.safetensors");
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].name, "a");  // ordered by data offset
  EXPECT_EQ(f.tensors[1].name, "b");
  EXPECT_EQ(f.tensors[0].dtype, DType::F16);
  EXPECT_EQ(f.tensors[0].shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(to_double(f.tensors[0]), (std::vector<double>{1.0, -2.5}));
  EXPECT_EQ(f.tensors[1].dtype, DType::I16);
  EXPECT_EQ(to_double(f.tensors[1]), (std::vector<double>{-2, 300}));
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"k", "v"}}));

  // The smallest legal file: an empty header object and no data.
  const auto empty = build("{}");
  const File e = parse(empty.data(), empty.size(), "empty-header");
  EXPECT_TRUE(e.tensors.empty());
  EXPECT_TRUE(e.metadata.empty());
}

// [SECTION] conversions

TEST(Safetensors, F16Conversion) {
  const auto v = to_double(f16_record({0x3C00, 0xC100, 0x7BFF, 0x0001, 0x03FF, 0x0400, 0x7C00, 0xFC00, 0x8000, 0x3555},
                                      DType::F16));
  EXPECT_EQ(v[0], 1.0);
  EXPECT_EQ(v[1], -2.5);
  EXPECT_EQ(v[2], 65504.0);
  EXPECT_EQ(v[3], std::ldexp(1.0, -24));            // smallest subnormal
  EXPECT_EQ(v[4], std::ldexp(1023.0, -24));         // largest subnormal
  EXPECT_EQ(v[5], std::ldexp(1.0, -14));            // smallest normal
  EXPECT_EQ(v[6], std::numeric_limits<double>::infinity());
  EXPECT_EQ(v[7], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(v[8], 0.0);
  EXPECT_TRUE(std::signbit(v[8]));
  EXPECT_EQ(v[9], 0x555 * std::ldexp(1.0, -12));    // 0.333251953125
  const auto nan = to_double(f16_record({0x7E00, 0x7C01}, DType::F16));
  EXPECT_TRUE(std::isnan(nan[0]));
  EXPECT_TRUE(std::isnan(nan[1]));
}

TEST(Safetensors, BF16Conversion) {
  const auto v = to_double(f16_record({0x3F80, 0xC020, 0x477F, 0x0001, 0x7F7F, 0x7F80, 0xFF80, 0x0080}, DType::BF16));
  EXPECT_EQ(v[0], 1.0);
  EXPECT_EQ(v[1], -2.5);
  EXPECT_EQ(v[2], 65280.0);                          // 65504 is not a bf16; its neighbour below
  EXPECT_EQ(v[3], std::ldexp(1.0, -133));            // smallest subnormal
  EXPECT_EQ(v[4], 255 * std::ldexp(1.0, 120));       // largest finite
  EXPECT_EQ(v[5], std::numeric_limits<double>::infinity());
  EXPECT_EQ(v[6], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(v[7], std::ldexp(1.0, -126));            // smallest normal
  EXPECT_TRUE(std::isnan(to_double(f16_record({0x7FC0}, DType::BF16))[0]));
  // bf16 is the top half of an f32: check against the float reinterpretation.
  for (uint32_t bits : {0x3E4Cu, 0xBF01u, 0x4049u, 0x0042u}) {
    const uint32_t f32 = bits << 16;
    float f;
    std::memcpy(&f, &f32, 4);
    EXPECT_EQ(to_double(f16_record({static_cast<uint16_t>(bits)}, DType::BF16))[0], static_cast<double>(f)) << bits;
  }
}

TEST(Safetensors, IntegerAndBoolConversion) {
  Record r;
  r.name = "i64";
  r.dtype = DType::I64;
  r.shape = {2};
  const int64_t i64[2] = {-(int64_t(1) << 40), 7};
  r.bytes.assign(reinterpret_cast<const uint8_t*>(i64), reinterpret_cast<const uint8_t*>(i64) + 16);
  EXPECT_EQ(to_double(r), (std::vector<double>{-1099511627776.0, 7}));

  r.dtype = DType::I8;
  r.shape = {3};
  r.bytes = {0xFF, 0x80, 0x7F};
  EXPECT_EQ(to_double(r), (std::vector<double>{-1, -128, 127}));
  r.dtype = DType::U8;
  EXPECT_EQ(to_double(r), (std::vector<double>{255, 128, 127}));
  r.dtype = DType::BOOL;
  r.bytes = {0, 1, 0};
  EXPECT_EQ(to_double(r), (std::vector<double>{0, 1, 0}));

  r.dtype = DType::F32;  // 3 bytes cannot be 3 floats
  EXPECT_THROW(to_double(r), Error);
}

TEST(Safetensors, DtypeNamesAndSizes) {
  const std::vector<std::pair<DType, std::pair<std::string, size_t>>> all = {
      {DType::F64, {"F64", 8}}, {DType::F32, {"F32", 4}}, {DType::F16, {"F16", 2}}, {DType::BF16, {"BF16", 2}},
      {DType::I64, {"I64", 8}}, {DType::I32, {"I32", 4}}, {DType::I16, {"I16", 2}}, {DType::I8, {"I8", 1}},
      {DType::U8, {"U8", 1}},   {DType::BOOL, {"BOOL", 1}}};
  for (const auto& [d, ns] : all) {
    EXPECT_EQ(dtype_name(d), ns.first);
    EXPECT_EQ(dtype_size(d), ns.second) << ns.first;
    // Each dtype parses back from its name.
    const std::string entry = "{\"dtype\":\"" + ns.first + "\",\"shape\":[3],\"data_offsets\":[0," +
                              std::to_string(3 * ns.second) + "]}";
    const auto bytes = one_tensor(entry, 3 * ns.second);
    EXPECT_EQ(parse(bytes.data(), bytes.size(), "x").tensors.at(0).dtype, d) << ns.first;
  }
}

TEST(Safetensors, NumelAndBuilders) {
  Record r;
  EXPECT_EQ(r.numel(), 1);  // 0-d
  r.shape = {2, 3, 4};
  EXPECT_EQ(r.numel(), 24);
  r.shape = {5, 0, 7};
  EXPECT_EQ(r.numel(), 0);
  r.shape = {2, -1};
  EXPECT_THROW(r.numel(), Error);
  const int32_t v[2] = {1, -1};
  const Record i = make_i32("i", {2}, v);
  EXPECT_EQ(i.bytes, (std::vector<uint8_t>{1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_THROW(make_f64("neg", {-1}, nullptr), Error);
}

// [SECTION] corrupt files

TEST(Safetensors, RejectsEmptyFile) { EXPECT_TRUE(rejects({}, "file is empty")); }

TEST(Safetensors, RejectsFileShorterThanLength) {
  EXPECT_TRUE(rejects({2, 0, 0, 0, 0}, "too short for the 8-byte header length"));
}

TEST(Safetensors, RejectsHeaderLengthPastEnd) {
  EXPECT_TRUE(rejects(build("{}", {}, 9999999), "header length 9999999 runs past the end of the file (10 bytes)"));
  EXPECT_TRUE(rejects(build("{}", {}, 3), "runs past the end"));
}

TEST(Safetensors, RejectsAbsurdHeaderLength) {
  EXPECT_TRUE(rejects(build("{}", {}, uint64_t(1) << 63), "header length 9223372036854775808 runs past the end"));
  EXPECT_TRUE(rejects(build("{}", {}, ~uint64_t(0)), "runs past the end"));
}

TEST(Safetensors, RejectsTinyHeaderLength) {
  EXPECT_TRUE(rejects(build("", {}, 0), "header length 0 is too small"));
  EXPECT_TRUE(rejects(build("{", {}, 1), "header length 1 is too small"));
}

TEST(Safetensors, RejectsBadJson) {
  EXPECT_TRUE(rejects(build("{\"a\": }"), "header is not valid JSON"));
  EXPECT_TRUE(rejects(build("{\"a\":1"), "header is not valid JSON"));
  EXPECT_TRUE(rejects(build("{}\n\n{}"), "header is not valid JSON"));
}

TEST(Safetensors, RejectsInvalidUtf8) {
  EXPECT_TRUE(rejects(build("{\"\xff\":1}"), "header is not valid UTF-8 (byte 2"));
  EXPECT_TRUE(rejects(build("{\"\xc0\x80\":1}"), "not valid UTF-8"));  // overlong NUL
}

TEST(Safetensors, RejectsHeaderNotObject) {
  EXPECT_TRUE(rejects(build("[1, 2]"), "header is not a JSON object"));
  EXPECT_TRUE(rejects(build("42"), "header is not a JSON object"));
}

TEST(Safetensors, RejectsDuplicateKeys) {
  EXPECT_TRUE(rejects(build("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                            "\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                            {1, 2}),
                      "duplicate key 't'"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"U8\",\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}", 1),
                      "duplicate key 'dtype'"));
}

TEST(Safetensors, RejectsMissingKeys) {
  EXPECT_TRUE(rejects(one_tensor("{\"shape\":[1],\"data_offsets\":[0,1]}", 1), "tensor 't' is missing \"dtype\""));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"U8\",\"data_offsets\":[0,1]}", 1), "tensor 't' is missing \"shape\""));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"U8\",\"shape\":[1]}", 1), "tensor 't' is missing \"data_offsets\""));
  EXPECT_TRUE(rejects(one_tensor("[1]", 1), "tensor 't' is not a JSON object"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":0}", 1),
                      "unexpected key 'x'"));
}

TEST(Safetensors, RejectsUnknownDtype) {
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}", 1),
                      "unknown dtype 'F8_E4M3'"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4), "unknown dtype 'f32'"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}", 4), "dtype that is not a string"));
}

TEST(Safetensors, RejectsBadDims) {
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"U8\",\"shape\":[2,-3],\"data_offsets\":[0,0]}", 0),
                      "negative dim -3 at shape[1]"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"U8\",\"shape\":[2.5],\"data_offsets\":[0,0]}", 0),
                      "dim that is not an integer"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"U8\",\"shape\":[\"2\"],\"data_offsets\":[0,2]}", 2),
                      "dim that is not an integer (a string) at shape[0]"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"U8\",\"shape\":3,\"data_offsets\":[0,3]}", 3),
                      "shape that is not an array"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"U8\",\"shape\":[18446744073709551615],\"data_offsets\":[0,0]}", 0),
                      "too large dim"));
  // Each dim fits, but the product does not.
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}", 0),
                      "element count overflows"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}", 0),
                      "element count overflows"));
}

TEST(Safetensors, RejectsOffsetsOutOfRange) {
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 4),
                      "data_offsets [0, 8] out of range of the 4-byte data section"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}", 4), "begin after end"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}", 4),
                      "data_offsets that are not non-negative integers"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}", 4),
                      "not a [begin, end] pair"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}", 4),
                      "data_offsets that are not non-negative integers"));
}

TEST(Safetensors, RejectsOffsetsNotMatchingShape) {
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}", 12),
                      "data_offsets [0, 12] spanning 12 bytes, but its shape and dtype need 16"));
  EXPECT_TRUE(rejects(one_tensor("{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,8]}", 8),
                      "spanning 8 bytes, but its shape and dtype need 4"));
}

TEST(Safetensors, RejectsHolesOverlapsAndTrailingBytes) {
  const std::string a = "\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":";
  const std::string b = "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":";
  EXPECT_TRUE(rejects(build("{" + a + "[0,2]}," + b + "[1,3]}}", std::vector<uint8_t>(3)), "overlapping"));
  EXPECT_TRUE(rejects(build("{" + a + "[0,2]}," + b + "[3,5]}}", std::vector<uint8_t>(5)), "leaving a gap"));
  EXPECT_TRUE(rejects(build("{" + a + "[0,2]}," + b + "[0,2]}}", std::vector<uint8_t>(2)), "overlapping"));
  EXPECT_TRUE(rejects(build("{" + a + "[0,2]}}", std::vector<uint8_t>(6)),
                      "data section is 6 bytes but the tensors cover only 2"));
  EXPECT_TRUE(rejects(build("{}", {0}), "data section is 1 bytes"));
}

TEST(Safetensors, RejectsBadMetadata) {
  EXPECT_TRUE(rejects(build("{\"__metadata__\":{\"epoch\":3}}"), "metadata value for 'epoch' is not a string"));
  EXPECT_TRUE(rejects(build("{\"__metadata__\":{\"a\":\"x\",\"b\":null}}"), "metadata value for 'b' is not a string"));
  EXPECT_TRUE(rejects(build("{\"__metadata__\":[\"x\"]}"), "__metadata__ is not a JSON object"));
}

TEST(Safetensors, MessagesStayOnOneLine) {
  // A tensor name with a newline and a control character is escaped in the message.
  const std::string header = "{\"a\\nb\\u0001\":{\"dtype\":\"XX\",\"shape\":[1],\"data_offsets\":[0,1]}}";
  EXPECT_TRUE(rejects(build(header, {0}), "tensor 'a\\x0ab\\x01' has unknown dtype 'XX'"));
}

TEST(Safetensors, TruncatedAndFlippedFilesNeverCrash) {
  // Every prefix of a valid file, and every single-byte corruption of its header, either parses or
  // throws gs::Error (run under ASan/UBSan to check for out-of-bounds reads).
  const float a[3] = {1, 2, 3};
  const int32_t t[2] = {4, 5};
  File f;
  f.metadata["m"] = "v";
  f.tensors.push_back(make_f32("a", {3}, a));
  f.tensors.push_back(make_i32("t", {1, 2}, t));
  const Scratch scratch;
  const fs::path& dir = scratch.dir;
  write((dir / "ok.safetensors").string(), f);
  const auto good = slurp(dir / "ok.safetensors");
  int errors = 0;
  for (size_t len = 0; len < good.size(); ++len) {
    try {
      parse(good.data(), len, "cut");
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_EQ(errors, static_cast<int>(good.size())) << "every strict prefix is missing bytes";
  for (size_t i = 0; i < good.size() - 20; ++i)
    for (uint8_t x : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
      auto bad = good;
      bad[i] ^= x;
      try {
        parse(bad.data(), bad.size(), "flip");
      } catch (const Error&) {
      }
    }
  EXPECT_NO_THROW(parse(good.data(), good.size(), "ok"));
}

// [SECTION] files on disk

TEST(Safetensors, ReadMissingFile) {
  const Scratch scratch;
  const std::string path = (scratch.dir / "absent.safetensors").string();
  EXPECT_TRUE(throws_error([&] { read(path); }, path, "cannot open: No such file or directory"));
}

TEST(Safetensors, ReadDirectory) {
  const Scratch scratch;
  const std::string path = scratch.dir.string();
  EXPECT_TRUE(throws_error([&] { read(path); }, path, "is a directory"));
}

TEST(Safetensors, ReadRefusesWhatIsNotARegularFile) {
  const Scratch scratch;
  const std::string fifo = (scratch.dir / "fifo.safetensors").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_TRUE(throws_error([&] { read(fifo); }, fifo, "is a FIFO (named pipe), not a regular file"));
  const std::string dev = test::character_device();
  ASSERT_FALSE(dev.empty()) << "no character device node on this machine";
  EXPECT_TRUE(throws_error([&] { read(dev); }, dev, "is a character device"));
}

TEST(Safetensors, ReadChecksWhatTheHeaderPromisesBeforeReadingIt) {
  // A header promising 100 GB of tensors on a (sparse) file of that size: refused by the memory
  // it needs, before any of it is read.
  const Scratch scratch;
  const std::string path = (scratch.dir / "huge.safetensors").string();
  const std::string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[25000000000],\"data_offsets\":[0,100000000000]}}";
  spit(path, build(header));
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(8 + header.size() + 100000000000ull)), 0);
  EXPECT_TRUE(throws_error([&] { read(path); }, path, "reading its 1 tensor needs about 93.1 GiB, more than the"));
  // A header whose tensors run past the end of the (real) file: refused by the layout.
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(8 + header.size() + 10)), 0);
  EXPECT_TRUE(throws_error([&] { read(path); }, path, "out of range of the 10-byte data section"));
}

TEST(Safetensors, AHeaderOfManyEntriesParsesWhole) {
  // (How long it takes is measured in bench/: safetensors/header/N; fuzz_safetensors_many.)
  std::string header = "{";
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    header += (i ? ",\"t" : "\"t") + std::to_string(n - 1 - i) + "\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[" +
              std::to_string(n - 1 - i) + "," + std::to_string(n - i) + "]}";
  header += "}";
  std::vector<uint8_t> data(n);
  for (int i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i);
  const auto bytes = build(header, data);
  const File f = parse(bytes.data(), bytes.size(), "many");
  ASSERT_EQ(f.tensors.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; i += 997) {
    EXPECT_EQ(f.tensors[i].name, "t" + std::to_string(i));  // in data order
    EXPECT_EQ(f.tensors[i].bytes, std::vector<uint8_t>{static_cast<uint8_t>(i)});
  }
}

TEST(Safetensors, ReadCorruptFileNamesPath) {
  const Scratch scratch;
  const fs::path& dir = scratch.dir;
  const std::string path = (dir / "short.safetensors").string();
  spit(path, {1, 2, 3});
  EXPECT_TRUE(throws_error([&] { read(path); }, path, "file is 3 bytes, too short"));
}

TEST(Safetensors, WriteToUnwritablePath) {
  const std::string path = "/nonexistent-dir/x.safetensors";
  const double v = 1;
  File f;
  f.tensors.push_back(make_f64("v", {}, &v));
  EXPECT_TRUE(throws_error([&] { write(path, f); }, path, "No such file or directory"));
  EXPECT_FALSE(fs::exists("/nonexistent-dir"));
  EXPECT_FALSE(fs::exists(path));
}

TEST(Safetensors, WriteToReadOnlyDirectory) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  const Scratch scratch;
  const fs::path& dir = scratch.dir;
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  const std::string path = (dir / "x.safetensors").string();
  const double v = 1;
  File f;
  f.tensors.push_back(make_f64("v", {}, &v));
  EXPECT_TRUE(throws_error([&] { write(path, f); }, path, "Permission denied"));
  fs::permissions(dir, fs::perms::owner_all);
  EXPECT_TRUE(dir_listing(dir).empty());
}

TEST(Safetensors, WriteOverDirectoryIsRefused) {
  // The target is a directory: refused before anything is written.
  const Scratch scratch;
  const fs::path& dir = scratch.dir;
  const auto target = dir / "taken";
  fs::create_directory(target);
  const double v = 1;
  File f;
  f.tensors.push_back(make_f64("v", {}, &v));
  EXPECT_TRUE(throws_error([&] { write(target.string(), f); }, target.string(), "is a directory, not a regular file"));
  EXPECT_EQ(dir_listing(dir), std::vector<std::string>{"taken"});
  EXPECT_TRUE(fs::is_directory(target));
}

TEST(Safetensors, WriteRejectsInconsistentRecords) {
  const Scratch scratch;
  const fs::path& dir = scratch.dir;
  const std::string path = (dir / "w.safetensors").string();
  const float a[2] = {1, 2};
  File f;
  f.tensors.push_back(make_f32("a", {2}, a));
  f.tensors.back().bytes.pop_back();
  EXPECT_TRUE(throws_error([&] { write(path, f); }, path, "tensor 'a' holds 7 bytes, but its shape and dtype need 8"));

  File dup;
  dup.tensors.push_back(make_f32("a", {2}, a));
  dup.tensors.push_back(make_f32("a", {2}, a));
  EXPECT_TRUE(throws_error([&] { write(path, dup); }, path, "tensor 'a' appears twice"));

  File reserved;
  reserved.tensors.push_back(make_f32("__metadata__", {2}, a));
  EXPECT_TRUE(throws_error([&] { write(path, reserved); }, path, "reserved name"));

  File bad_utf8;
  bad_utf8.metadata["k"] = "\xff";
  EXPECT_TRUE(throws_error([&] { write(path, bad_utf8); }, path, "not valid UTF-8"));

  EXPECT_TRUE(dir_listing(dir).empty()) << "nothing is created for a rejected file";
}

}  // namespace
}  // namespace gs::st
