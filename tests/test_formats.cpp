// Checkpoint formats written by the tests themselves: Hugging Face GPT-2 safetensors (prefix,
// buffers, F16/BF16), llm.c's .bin (fp32 and bf16, padded vocabulary, (out,in) matrices), and
// gradscope's own files — at a tiny shape and at the 124M shape; and their bad variants.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

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

// [SECTION] nothing dropped or reinterpreted (issue 13)

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

#define EXPECT_HAS(msg, phrase)                                                      \
  do {                                                                               \
    const std::string m_ = (msg);                                                    \
    EXPECT_NE(m_.find(phrase), std::string::npos) << "message: " << m_;             \
    EXPECT_EQ(m_.find('\n'), std::string::npos) << "one line: " << m_;              \
  } while (0)

std::string fresh_dir(const std::string& name) {
  const std::string dir = testing::TempDir() + "/fmt_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

st::Record* record(st::File& f, const std::string& name) {
  for (auto& r : f.tensors)
    if (r.name == name) return &r;
  return nullptr;
}

TEST(formats, parameter_shapes_are_the_models) {
  Config c = tiny_shape();
  c.lora_rank = 3;
  c.lora_alpha = 3;
  c.lora_targets = {LoraTarget::mlp_c_proj, LoraTarget::attn_c_attn, LoraTarget::attn_c_proj, LoraTarget::mlp_c_fc};
  const Model<float> m(c);
  const auto shapes = parameter_shapes(c);
  ASSERT_EQ(shapes.size(), m.params().size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    EXPECT_EQ(shapes[i].first, m.params()[i].name);
    EXPECT_EQ(shapes[i].second, m.params()[i].data.shape) << shapes[i].first;
  }
}

TEST(formats, metadata_values_are_strict_and_name_the_file_and_key) {
  const std::string dir = fresh_dir("meta");
  save_checkpoint(dir + "/ck.safetensors", Model<float>(tiny_shape()), "");
  const st::File good = st::read(dir + "/ck.safetensors");
  auto with = [&](const std::string& key, const nlohmann::json& v) {
    st::File f = good;
    nlohmann::json c = nlohmann::json::parse(f.metadata["config"]);
    c[key] = v;
    f.metadata["config"] = c.dump();
    return error_of([&] { checkpoint_header(f, "x.safetensors"); });
  };
  EXPECT_HAS(with("n_head", 4294967298ull), "x.safetensors: config metadata 'n_head' is 4294967298, out of range");
  EXPECT_HAS(with("n_head", "2"), "config metadata 'n_head' is \"2\", not an integer");
  EXPECT_HAS(with("n_head", 4.5), "config metadata 'n_head' is 4.5, not an integer");
  const std::string zero = with("n_head", 0);
  EXPECT_HAS(zero, "config metadata 'n_head' is 0, out of range");
  EXPECT_EQ(zero.find("--heads"), std::string::npos) << "no flag was given: " << zero;
  EXPECT_HAS(with("n_head", 3), "config metadata: n_embd 16 is not divisible by n_head 3");
  EXPECT_HAS(with("lora_rank", 4294967300ull), "'lora_rank' is 4294967300, out of range");
  EXPECT_HAS(with("lora_rank", 4), "has lora_rank 4 but no lora_targets");
  EXPECT_HAS(with("lora_targets", nlohmann::json::array({"foo"})), "config metadata 'lora_targets': unknown LoRA target 'foo'");
  EXPECT_HAS(with("lora_alpha", "x"), "'lora_alpha' is \"x\", not a finite number");
  st::File f = good;
  f.metadata["vocab"] = "abca";
  EXPECT_HAS(error_of([&] { checkpoint_header(f, "x.safetensors"); }),
             "x.safetensors: metadata 'vocab' (the character vocabulary): character vocabulary lists 'a' (U+0061) twice");
  f.metadata["vocab"] = std::string(40, ' ');
  f.metadata.erase("config");
  f.metadata["n_head"] = "two";
  EXPECT_HAS(error_of([&] { checkpoint_header(f, "x.safetensors"); }), "x.safetensors: metadata 'n_head' is 'two'");
}

TEST(formats, a_lora_checkpoint_keeps_its_adapters) {
  const std::string dir = fresh_dir("lora");
  Config c = tiny_shape();
  c.lora_rank = 4;
  c.lora_alpha = 4;
  Model<float> m(c);
  for (auto& x : m.param("h.1.attn.c_attn.lora_B").data) x = 0.25f;  // trained: B is no longer 0
  save_checkpoint(dir + "/lora.safetensors", m, "");
  ModelSpec spec;
  spec.checkpoint = dir + "/lora.safetensors";
  spec.seq = 8;
  {
    const ResolvedSpec r = resolve(spec);  // as saved: rank, alpha and targets from the file
    EXPECT_EQ(r.config.lora_rank, 4);
    Session<float> s(r);
    EXPECT_EQ(s.model->param("h.1.attn.c_attn.lora_B").data[5], 0.25f);
  }
  ModelSpec drop = spec;
  drop.lora_rank = 0;
  EXPECT_HAS(error_of([&] { resolve(drop); }), "holds LoRA adapters of rank 4 on attn.c_attn; --lora-rank 0 would drop them");
  ModelSpec rank = spec;
  rank.lora_rank = 2;
  EXPECT_HAS(error_of([&] { resolve(rank); }), "--lora-rank 2 disagrees");
  ModelSpec other = spec;
  other.lora_targets = "mlp.c_fc";
  EXPECT_HAS(error_of([&] { resolve(other); }), "--lora-targets mlp.c_fc would drop the adapters on attn.c_attn");
  ModelSpec alpha = spec;
  alpha.lora_alpha = 8;
  EXPECT_HAS(error_of([&] { resolve(alpha); }), "--lora-alpha 8 disagrees with its 4");
  // More targets than the file has: its adapters load, the new ones start fresh (B = 0).
  ModelSpec more = spec;
  more.lora_targets = "attn.c_attn,mlp.c_fc";
  Session<float> s(resolve(more));
  EXPECT_EQ(s.model->param("h.1.attn.c_attn.lora_B").data[5], 0.25f);
  EXPECT_EQ(s.model->param("h.1.mlp.c_fc.lora_B").data[5], 0.0f);
  // A file whose config says LoRA but that lacks an adapter is refused, not filled in.
  st::File f = st::read(dir + "/lora.safetensors");
  f.tensors.erase(std::find_if(f.tensors.begin(), f.tensors.end(),
                               [](const st::Record& r) { return r.name == "h.0.attn.c_attn.lora_A"; }));
  const CheckpointHeader h = checkpoint_header(f, "x.safetensors");
  EXPECT_HAS(error_of([&] { check_checkpoint_tensors(f, h.config, h.config, "x.safetensors"); }),
             "x.safetensors: missing tensor 'h.0.attn.c_attn.lora_A' (its config says LoRA rank 4 on attn.c_attn)");
}

TEST(formats, every_tensor_of_the_file_has_a_place) {
  const std::string dir = fresh_dir("extra");
  save_checkpoint(dir + "/ck.safetensors", Model<float>(tiny_shape()), "");
  const st::File good = st::read(dir + "/ck.safetensors");
  const Config cfg = checkpoint_header(good, "x").config;
  EXPECT_NO_THROW(check_checkpoint_tensors(good, cfg, cfg, "x"));
  st::File f = good;
  const float v = 1;
  f.tensors.push_back(st::make_f32("optimizer.step", {}, &v));
  EXPECT_HAS(error_of([&] { check_checkpoint_tensors(f, cfg, cfg, "x"); }), "x: holds tensor 'optimizer.step'");
  // n_layer 1 in the metadata of a 2-layer file: its layer 1 would be ignored.
  Config one = cfg;
  one.n_layer = 1;
  EXPECT_HAS(error_of([&] { check_checkpoint_tensors(good, one, one, "x"); }),
             "x: holds tensor 'h.1.ln_1.weight' of layer 1, but its config says n_layer 1");
  // A dump's own tensors are not parameters, and are allowed.
  Model<float> m(tiny_shape());
  Tape<float> tape(m, random_batch(1, 1, 8, 30));
  tape.forward();
  tape.backward();
  write_dump(dir + "/dump.safetensors", tape, true);
  const st::File dump = st::read(dir + "/dump.safetensors");
  EXPECT_NO_THROW(check_checkpoint_tensors(dump, cfg, cfg, "dump"));
  // Nothing is built first: a tiny file whose metadata claims a 355M model is refused on its tensors.
  st::File claims;
  claims.metadata["config"] = R"({"n_layer": 24, "n_head": 16, "n_embd": 1024, "vocab_size": 50257, "n_ctx": 1024})";
  const Config big = checkpoint_header(claims, "big").config;
  EXPECT_HAS(error_of([&] { check_checkpoint_tensors(claims, big, big, "big"); }), "big: missing tensor 'wte.weight'");
}

TEST(formats, hugging_face_config_json_must_agree_and_the_head_be_tied) {
  const std::string dir = fresh_dir("hfcfg");
  Model<float> m(tiny_shape());
  write_hf(m, dir + "/model.safetensors", false);
  auto load_with = [&](const std::string& cfg) {
    std::ofstream(dir + "/config.json") << cfg;
    return error_of([&] { read_checkpoint(dir + "/model.safetensors"); });
  };
  EXPECT_EQ(load_with(R"({"n_head": 2, "n_embd": 16, "n_layer": 2, "vocab_size": 30, "n_positions": 32})"), "(no error)");
  EXPECT_HAS(load_with(R"({"n_head": 2, "n_embd": 768})"), "config.json: 'n_embd' is 768, but model.safetensors's wte.weight is (30,16)");
  EXPECT_HAS(load_with(R"({"n_layer": 12})"), "config.json: 'n_layer' is 12, but model.safetensors holds 2 layers");
  EXPECT_HAS(load_with(R"({"n_head": "2"})"), "config.json: 'n_head' is \"2\", not an integer");
  EXPECT_HAS(load_with("[2]"), "config.json: not a JSON object");
  std::filesystem::remove(dir + "/config.json");
  std::filesystem::create_directory(dir + "/config.json");
  EXPECT_HAS(error_of([&] { read_checkpoint(dir + "/model.safetensors"); }), "config.json: is a directory");
  std::filesystem::remove(dir + "/config.json");
  // An lm_head that is not wte is another model: refused, not dropped.
  st::File f = st::read(dir + "/model.safetensors");
  st::Record* head = record(f, "lm_head.weight");
  ASSERT_NE(head, nullptr);
  head->bytes[0] ^= 0x40;
  st::write(dir + "/untied.safetensors", f);
  EXPECT_HAS(error_of([&] { read_checkpoint(dir + "/untied.safetensors"); }), "lm_head.weight differs from wte.weight");
}

TEST(formats, conversion_to_f32_is_checked) {
  const std::string dir = fresh_dir("f64");
  Config c = tiny_shape();
  c.dtype = DType::f64;
  Model<double> m(c);
  m.param("ln_f.weight").data[3] = 1e300;  // finite as a double, infinite as a float
  save_checkpoint(dir + "/big.safetensors", m, "");
  ModelSpec spec;
  spec.checkpoint = dir + "/big.safetensors";
  spec.seq = 8;
  EXPECT_NO_THROW(Session<double>(resolve(spec)));
  spec.dtype = "f32";
  EXPECT_HAS(error_of([&] { Session<float>(resolve(spec)); }),
             "tensor 'ln_f.weight' holds 1e+300 at index 3, beyond the range of f32 (run with --dtype f64)");
}

TEST(formats, nothing_non_finite_is_written) {
  const std::string dir = fresh_dir("nonfinite");
  Model<float> m(tiny_shape());
  m.param("h.0.ln_2.bias").data[1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_HAS(error_of([&] { save_checkpoint(dir + "/nan.safetensors", m, ""); }),
             "nan.safetensors: not written: 'h.0.ln_2.bias' holds NaN at index 1");
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

TEST(formats, llmc_size_is_checked_before_the_data_is_read) {
  const std::string dir = fresh_dir("llmc");
  Model<float> m(tiny_shape());
  write_llmc(m, dir + "/m.bin", 3, 0);
  std::string bytes;
  {
    std::ifstream in(dir + "/m.bin", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // A header that claims 1024 layers of 65536 channels, on a file of a few KB: refused by size.
  const int32_t L = 1024, C = 65536, H = 1024;
  std::memcpy(&bytes[16], &L, 4);
  std::memcpy(&bytes[20], &H, 4);
  std::memcpy(&bytes[24], &C, 4);
  std::ofstream(dir + "/liar.bin", std::ios::binary) << bytes;
  EXPECT_HAS(error_of([&] { read_checkpoint(dir + "/liar.bin"); }), "bytes, the header implies");
  ASSERT_EQ(::mkfifo((dir + "/fifo.bin").c_str(), 0600), 0);
  EXPECT_HAS(error_of([&] { read_checkpoint(dir + "/fifo.bin"); }), "fifo.bin: is a FIFO");
}

}  // namespace
}  // namespace gs
