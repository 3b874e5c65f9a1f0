#pragma once
// safetensors files: an 8-byte little-endian header length, a JSON header mapping each tensor
// name to {dtype, shape, data_offsets} (plus an optional "__metadata__" of string→string),
// then the raw little-endian data. Reading validates everything and throws gs::Error with one
// line naming the file and the problem: the header is parsed in one linear pass, and the layout
// it promises is checked against the file's real size (and the memory it needs against the
// machine's) before any tensor is read. Only regular files are read or written (gradscope/
// fileio.h); writing goes to a temporary file that is renamed into place only when complete, so
// a failed or interrupted write leaves nothing behind and the destination is never half-written.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gs::st {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };
const char* dtype_name(DType);  // "F32", ...
size_t dtype_size(DType);

struct Record {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // {} for a 0-d tensor (one element)
  std::vector<uint8_t> bytes;  // little-endian, row-major
  int64_t numel() const;
};

struct File {
  std::map<std::string, std::string> metadata;
  std::vector<Record> tensors;  // in the order written / in order of data offset when read
  const Record* find(const std::string& name) const;  // nullptr if absent
};

// A tensor to write, by reference: its bytes stay where they are (a dump writes the tape's own
// buffers, with no copy).
struct TensorRef {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;
};

File read(const std::string& path);
File parse(const uint8_t* data, size_t size, const std::string& what);  // what: used in messages
void write(const std::string& path, const File& file);
void write(const std::string& path, const std::map<std::string, std::string>& metadata,
           const std::vector<TensorRef>& tensors);

// Element values of a float or integer record as double (F16/BF16 widened exactly).
std::vector<double> to_double(const Record& r);
// Builders for writing.
Record make_f64(const std::string& name, std::vector<int64_t> shape, const double* v);
Record make_f32(const std::string& name, std::vector<int64_t> shape, const float* v);
Record make_i32(const std::string& name, std::vector<int64_t> shape, const int32_t* v);

}  // namespace gs::st
