#pragma once
// Tensors are row-major views over buffers owned by an Arena. A tape allocates every buffer
// once, when it is built; forward and backward steps only write into them.
#include <cstdint>
#include <deque>
#include <memory>
#include <new>
#include <numeric>
#include <string>
#include <vector>

namespace gs {

using Shape = std::vector<int64_t>;

inline int64_t numel(const Shape& s) {
  return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<int64_t>());
}

std::string shape_str(const Shape& s);  // "(2,8,16)"
// "[0,1,3,5]" for a flat index of `shape` ("[]" for a 0-d tensor).
std::string multi_index_str(const Shape& shape, int64_t flat);

template <class T>
struct Tensor {
  T* data = nullptr;
  Shape shape;

  int64_t size() const { return numel(shape); }
  int rank() const { return static_cast<int>(shape.size()); }
  int64_t dim(int i) const { return shape[i < 0 ? shape.size() + i : i]; }
  bool empty() const { return data == nullptr; }
  T& operator[](int64_t i) const { return data[i]; }
  T* begin() const { return data; }
  T* end() const { return data ? data + size() : data; }  // an empty tensor has no entries to visit
  void fill(T v) const { std::fill(begin(), end(), v); }
  void copy_from(const Tensor& o) const { std::copy(o.begin(), o.end(), data); }
  // Rows of the last dimension: a (B,T,C) tensor is B*T rows of C.
  int64_t rows() const { return shape.empty() ? 1 : size() / shape.back(); }
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
};

// 64-byte aligned storage. Alignment is part of the arithmetic: Eigen's vectorised loops peel
// differently at different alignments, which changes rounding, so without it two identical
// models would not give bit-identical results.
template <class T>
struct AlignedAllocator {
  using value_type = T;
  static constexpr size_t kAlign = 64;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(size_t n) {
    const size_t bytes = (n * sizeof(T) + kAlign - 1) / kAlign * kAlign;
    void* p = ::operator new(bytes ? bytes : kAlign, std::align_val_t(kAlign));
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(kAlign)); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
};
template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

// Owns the storage behind tensors; buffers never move once allocated.
template <class T>
class Arena {
 public:
  Tensor<T> alloc(const Shape& shape) {
    blocks_.emplace_back(static_cast<size_t>(numel(shape)), T(0));
    bytes_ += blocks_.back().size() * sizeof(T);
    return Tensor<T>{blocks_.back().data(), shape};
  }
  size_t bytes() const { return bytes_; }

 private:
  std::deque<AlignedVector<T>> blocks_;
  size_t bytes_ = 0;
};

// A tensor that owns its buffer: for results handed to the UI (local derivatives, checks).
template <class T>
struct OwnedTensor {
  AlignedVector<T> buf;
  Shape shape;
  OwnedTensor() = default;
  explicit OwnedTensor(Shape s, T v = T(0)) : buf(static_cast<size_t>(numel(s)), v), shape(std::move(s)) {}
  Tensor<T> view() { return Tensor<T>{buf.data(), shape}; }
  Tensor<const T> cview() const { return Tensor<const T>{buf.data(), shape}; }
  int64_t size() const { return static_cast<int64_t>(buf.size()); }
};

}  // namespace gs
