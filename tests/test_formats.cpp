// Checkpoint formats written by the tests themselves: Hugging Face GPT-2 safetensors (prefix,
// buffers, F16/BF16), llm.c's .bin (fp32 and bf16, padded vocabulary, (out,in) matrices), and
// gradscope's own files — at a tiny shape and at the 124M shape; and their bad variants.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "gradscope/checkpoint.h"
#include "gradscope/error.h"
#include "gradscope/session.h"
#include "test_util.h"

namespace gs {
namespace {

uint16_t to_bf16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return static_cast<uint16_t>(b >> 16);  // truncation: exactly representable back
}
float from_bf16(uint16_t h) {
  uint32_t b = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// Hugging Face layout: "transformer." names, attention buffers, a tied lm_head copy.
void write_hf(const Model<float>& m, const std::string& path, bool bf16) {
  st::File f;
  for (const auto& p : m.params()) {
    const std::string name = "transformer." + p.name;
    if (bf16) {
      st::Record r;
      r.name = name;
      r.dtype = st::DType::BF16;
      r.shape = p.data.shape;
      r.bytes.resize(p.data.size() * 2);
      for (int64_t i = 0; i < p.data.size(); ++i) {
        const uint16_t h = to_bf16(p.data[i]);
        std::memcpy(&r.bytes[2 * i], &h, 2);
      }
      f.tensors.push_back(std::move(r));
    } else {
      f.tensors.push_back(st::make_f32(name, p.data.shape, p.data.data));
    }
  }
  const int64_t T = m.config().n_ctx;
  std::vector<float> mask(T * T, 1.0f);
  for (int l = 0; l < m.config().n_layer; ++l)
    f.tensors.push_back(st::make_f32("transformer.h." + std::to_string(l) + ".attn.bias", {1, 1, T, T}, mask.data()));
  f.tensors.push_back(st::make_f32("lm_head.weight", m.param("wte.weight").data.shape, m.param("wte.weight").data.data));
  st::write(path, f);
}

// llm.c: 256 int32 header, then every tensor in its order, matrices as (out, in).
void write_llmc(const Model<float>& m, const std::string& path, int version, int pad) {
  const Config& c = m.config();
  const int64_t C = c.n_embd, V = c.vocab_size, L = c.n_layer;
  std::vector<int32_t> header(256, 0);
  header[0] = 20240326;
  header[1] = version;
  header[2] = c.n_ctx;
  header[3] = static_cast<int32_t>(V);
  header[4] = static_cast<int32_t>(L);
  header[5] = c.n_head;
  header[6] = static_cast<int32_t>(C);
  header[7] = static_cast<int32_t>(V + pad);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(header.data()), 1024);
  auto put = [&](const std::vector<float>& v) {
    for (float x : v) {
      if (version == 3) {
        out.write(reinterpret_cast<const char*>(&x), 4);
      } else {
        const uint16_t h = to_bf16(x);
        out.write(reinterpret_cast<const char*>(&h), 2);
      }
    }
  };
  auto plain = [&](const std::string& n) {
    const auto& t = m.param(n).data;
    return std::vector<float>(t.begin(), t.end());
  };
  auto transposed = [&](const std::string& n) {  // (in, out) → (out, in)
    const auto& t = m.param(n).data;
    const int64_t in = t.dim(0), o = t.dim(1);
    std::vector<float> v(t.size());
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < o; ++j) v[j * in + i] = t[i * o + j];
    return v;
  };
  auto wte = plain("wte.weight");
  for (int i = 0; i < pad * C; ++i) wte.push_back(123.0f);  // padding rows must be dropped
  put(wte);
  put(plain("wpe.weight"));
  const std::vector<std::pair<std::string, bool>> per_layer = {
      {"ln_1.weight", false}, {"ln_1.bias", false},       {"attn.c_attn.weight", true}, {"attn.c_attn.bias", false},
      {"attn.c_proj.weight", true}, {"attn.c_proj.bias", false}, {"ln_2.weight", false}, {"ln_2.bias", false},
      {"mlp.c_fc.weight", true},  {"mlp.c_fc.bias", false},     {"mlp.c_proj.weight", true}, {"mlp.c_proj.bias", false}};
  for (const auto& [name, matrix] : per_layer)
    for (int l = 0; l < L; ++l) {
      const std::string n = "h." + std::to_string(l) + "." + name;
      put(matrix ? transposed(n) : plain(n));
    }
  put(plain("ln_f.weight"));
  put(plain("ln_f.bias"));
}

Config tiny_shape() {
  Config c = test::small_config(2, 2, 16, 30, 32, 8, 1);
  c.dtype = DType::f32;
  return c;
}

// Loads `path` through the same route as the CLI and compares every parameter with `src`
// (after `round`, the precision of the file).
void expect_loads_as(const std::string& path, const Model<float>& src, float (*round)(float), bool run_step) {
  ModelSpec spec;
  spec.checkpoint = path;
  spec.dtype = "f32";
  spec.seq = 8;
  const ResolvedSpec r = resolve(spec);
  EXPECT_EQ(r.config.n_layer, src.config().n_layer);
  EXPECT_EQ(r.config.n_head, src.config().n_head);
  EXPECT_EQ(r.config.n_embd, src.config().n_embd);
  EXPECT_EQ(r.config.vocab_size, src.config().vocab_size);
  EXPECT_EQ(r.config.n_ctx, src.config().n_ctx);
  Session<float> s(r);
  for (const auto& p : src.params()) {
    const auto& q = s.model->param(p.name).data;
    ASSERT_EQ(q.shape, p.data.shape) << p.name;
    int64_t bad = 0;
    for (int64_t i = 0; i < q.size(); ++i) bad += q[i] != round(p.data[i]);
    EXPECT_EQ(bad, 0) << p.name;
  }
  if (run_step) {
    s.tape->forward();
    s.tape->backward();
    EXPECT_TRUE(std::isfinite(s.tape->loss()));
  }
}

float exact(float x) { return x; }
float bf16_round(float x) { return from_bf16(to_bf16(x)); }

TEST(formats, hugging_face_f32_with_prefix_and_buffers) {
  Model<float> m(tiny_shape());
  const std::string path = testing::TempDir() + "/hf.safetensors";
  write_hf(m, path, false);
  // No config.json beside it: n_head is inferred (C=16 < 64 → 1 head), so say it with a flag.
  ModelSpec spec;
  spec.checkpoint = path;
  spec.heads = 2;
  EXPECT_EQ(resolve(spec).config.n_head, 2);
  std::ofstream(testing::TempDir() + "/config.json") << R"({"n_head": 2, "n_layer": 2})";
  expect_loads_as(path, m, exact, true);
  std::remove((testing::TempDir() + "/config.json").c_str());
}

TEST(formats, hugging_face_bf16) {
  Model<float> m(tiny_shape());
  const std::string dir = testing::TempDir() + "/hfbf16";
  std::filesystem::create_directories(dir);
  write_hf(m, dir + "/model.safetensors", true);
  std::ofstream(dir + "/config.json") << R"({"n_head": 2})";
  expect_loads_as(dir + "/model.safetensors", m, bf16_round, true);
}

// Without --dtype a checkpoint runs in the precision it was stored in: F64 → f64, else f32.
TEST(formats, checkpoint_precision_is_the_default_dtype) {
  Model<float> m(tiny_shape());
  const std::string dir = testing::TempDir() + "/precision";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/config.json") << R"({"n_head": 2})";
  write_hf(m, dir + "/model.safetensors", true);
  write_llmc(m, dir + "/m.bin", 3, 5);
  save_checkpoint(dir + "/own32.safetensors", m, "");
  Config c64 = tiny_shape();
  c64.dtype = DType::f64;
  save_checkpoint(dir + "/own64.safetensors", Model<double>(c64), "");
  const std::vector<std::pair<std::string, DType>> cases = {{"model.safetensors", DType::f32},
                                                            {"m.bin", DType::f32},
                                                            {"own32.safetensors", DType::f32},
                                                            {"own64.safetensors", DType::f64}};
  for (const auto& [file, want] : cases) {
    ModelSpec spec;
    spec.checkpoint = dir + "/" + file;
    EXPECT_EQ(resolve(spec).config.dtype, want) << file;
    spec.dtype = want == DType::f32 ? "f64" : "f32";  // asked for: the other one
    EXPECT_NE(resolve(spec).config.dtype, want) << file;
  }
}

TEST(formats, llmc_fp32_and_bf16_with_padded_vocab) {
  Model<float> m(tiny_shape());
  write_llmc(m, testing::TempDir() + "/m3.bin", 3, 5);
  expect_loads_as(testing::TempDir() + "/m3.bin", m, exact, true);
  write_llmc(m, testing::TempDir() + "/m5.bin", 5, 2);
  expect_loads_as(testing::TempDir() + "/m5.bin", m, bf16_round, false);
}

TEST(formats, gpt2_124M_shape_all_three_formats) {
  Config c = preset_config("gpt2");
  c.seq_len = 8;
  Model<float> m(c);
  const std::string dir = testing::TempDir() + "/g124";
  std::filesystem::create_directories(dir);
  write_llmc(m, dir + "/gpt2_124M.bin", 3, 47);  // llm.c pads 50257 to 50304
  expect_loads_as(dir + "/gpt2_124M.bin", m, exact, true);
  std::remove((dir + "/gpt2_124M.bin").c_str());
  write_hf(m, dir + "/model.safetensors", false);  // no config.json: 12 heads for the 124M shape
  expect_loads_as(dir + "/model.safetensors", m, exact, false);
  std::remove((dir + "/model.safetensors").c_str());
  save_checkpoint(dir + "/own.safetensors", m, "");
  expect_loads_as(dir + "/own.safetensors", m, exact, false);
  std::remove((dir + "/own.safetensors").c_str());
}

void expect_error(const std::string& path, const std::string& phrase) {
  try {
    read_checkpoint(path);
    ADD_FAILURE() << "no error for " << phrase;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(phrase), std::string::npos) << e.what();
  }
}

TEST(formats, bad_llmc_files) {
  Model<float> m(tiny_shape());
  const std::string p = testing::TempDir() + "/bad.bin";
  write_llmc(m, p, 3, 0);
  std::string bytes;
  {
    std::ifstream in(p, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& b) { std::ofstream(p, std::ios::binary) << b; };
  write(bytes.substr(0, bytes.size() - 7));
  expect_error(p, "the header implies");
  write(bytes.substr(0, 100));
  expect_error(p, "shorter than");
  std::string b = bytes;
  b[0] = 'X';
  write(b);
  expect_error(p, "not an llm.c checkpoint");
  b = bytes;
  b[4] = 9;
  write(b);
  expect_error(p, "version 9");
  b = bytes;
  const int32_t huge = 2000000000;
  std::memcpy(&b[4 * 6], &huge, 4);  // channels
  write(b);
  expect_error(p, "channels");
  expect_error(testing::TempDir() + "/missing.bin", "cannot open");
}

}  // namespace
}  // namespace gs
