#include "gradscope/model.h"

#include <cmath>

#include "gradscope/error.h"
#include "gradscope/program.h"
#include "gradscope/rng.h"

namespace gs {

template <class T>
Param<T>& Model<T>::add(const std::string& name, const Shape& shape, bool trainable) {
  if (index_.count(name)) throw Error("parameter '" + name + "' is declared twice");
  Param<T> p;
  p.name = name;
  p.data = arena_.alloc(shape);
  p.trainable = trainable;
  if (trainable) p.grad = arena_.alloc(shape);
  index_[name] = static_cast<int>(params_.size());
  params_.push_back(std::move(p));
  return params_.back();
}

template <class T>
Model<T>::Model(const Config& cfg) : cfg_(cfg), owner_(program_for(cfg)), program_(owner_.get()) {
  program_->validate(cfg_);
  program_->declare(*this);
}

template <class T>
Model<T>::Model(const Config& cfg, const Program& p) : cfg_(cfg), program_(&p) {
  p.validate(cfg_);
  p.declare(*this);
}

template <class T>
int Model<T>::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

template <class T>
Param<T>& Model<T>::param(const std::string& name) {
  int i = find(name);
  if (i < 0) throw Error("no parameter named '" + name + "'");
  return params_[i];
}

template <class T>
const Param<T>& Model<T>::param(const std::string& name) const {
  return const_cast<Model*>(this)->param(name);
}

template <class T>
int64_t Model<T>::n_params() const {
  int64_t n = 0;
  for (const auto& p : params_) n += p.data.size();
  return n;
}

template <class T>
int64_t Model<T>::n_trainable() const {
  int64_t n = 0;
  for (const auto& p : params_)
    if (p.trainable) n += p.data.size();
  return n;
}

template <class D, class S>
void copy_params(Model<D>& dst, const Model<S>& src) {
  for (const auto& p : src.params()) {
    auto& q = dst.param(p.name);
    if (q.data.shape != p.data.shape)
      throw Error("parameter " + p.name + " has shape " + shape_str(p.data.shape) + ", expected " +
                  shape_str(q.data.shape));
    for (int64_t i = 0; i < p.data.size(); ++i) q.data[i] = static_cast<D>(p.data[i]);
  }
}

template class Model<float>;
template class Model<double>;
template void copy_params(Model<float>&, const Model<float>&);
template void copy_params(Model<float>&, const Model<double>&);
template void copy_params(Model<double>&, const Model<float>&);
template void copy_params(Model<double>&, const Model<double>&);

// [SECTION] batches

Batch batch_from_stream(const std::vector<int32_t>& stream, int B, int T, int V) {
  if (B <= 0 || T <= 0) throw Error("batch and sequence length must be positive");
  const size_t need = size_t(B) * T + 1;
  if (stream.size() < need)
    throw Error("need at least " + std::to_string(need) + " tokens for B=" + std::to_string(B) + ", T=" +
                std::to_string(T) + " (inputs plus one next-token target), got " + std::to_string(stream.size()));
  Batch b;
  b.B = B;
  b.T = T;
  b.x.resize(size_t(B) * T);
  b.y.resize(size_t(B) * T);
  for (int r = 0; r < B; ++r)
    for (int t = 0; t < T; ++t) {
      b.x[size_t(r) * T + t] = stream[size_t(r) * T + t];
      b.y[size_t(r) * T + t] = stream[size_t(r) * T + t + 1];
    }
  for (size_t i = 0; i < need; ++i)
    if (stream[i] < 0 || stream[i] >= V)
      throw Error("token id " + std::to_string(stream[i]) + " at position " + std::to_string(i) +
                  " is out of range for vocab_size " + std::to_string(V));
  return b;
}

Batch random_batch(uint64_t seed, int B, int T, int V) {
  Rng rng(seed ^ 0x546f6b656eULL);  // "Token"
  std::vector<int32_t> stream(size_t(B) * T + 1);
  for (auto& t : stream) t = static_cast<int32_t>(rng.below(static_cast<uint32_t>(V)));
  return batch_from_stream(stream, B, T, V);
}

void validate_batch(const Batch& b, const Config& cfg) {
  if (b.B <= 0 || b.T <= 0) throw Error("empty batch");
  if (b.T > cfg.n_ctx)
    throw Error("sequence length T=" + std::to_string(b.T) + " exceeds n_ctx=" + std::to_string(cfg.n_ctx));
  if (b.x.size() != size_t(b.B) * b.T || b.y.size() != b.x.size()) throw Error("batch arrays do not match B×T");
  for (size_t i = 0; i < b.x.size(); ++i)
    for (int32_t id : {b.x[i], b.y[i]})
      if (id < 0 || id >= cfg.vocab_size)
        throw Error("token id " + std::to_string(id) + " at position " + std::to_string(i) +
                    " is out of range for vocab_size " + std::to_string(cfg.vocab_size));
}

}  // namespace gs
