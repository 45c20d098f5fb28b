// Shared oneDNN plumbing for the layers: one CPU engine and stream, and converters between the
// plain layouts of Tensors (NCHW, NC, OIHW, ...) and whatever layout a primitive chose.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <memory>
#include <utility>

#include "pipeline/layer.hpp"
#include "pipeline/precision.hpp"
#include "pipeline/tensor.hpp"

namespace pipeline::layers {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& engine();
dnnl::stream& stream();

memory::dims dims_of(const Shape& shape);
memory::desc plain(const memory::dims& dims, tag layout);
// The data type a primitive's inputs take at this precision (its outputs stay f32).
dt compute_type(Precision precision);

// The primitives a layer made for one batch size and precision, kept for the next batch like it.
// An inference-only entry is remade when a training pass needs backward primitives. P has a bool
// has_backward; make(P&, batch, mode, precision) fills a new entry.
template <class P>
class PrimitiveCache {
 public:
  template <class Make>
  P& get(std::int64_t batch, Mode mode, Precision precision, Make&& make) {
    auto& slot = slots_[{batch, precision}];
    if (!slot || (mode == Mode::train && !slot->has_backward)) {
      slot = std::make_unique<P>();
      make(*slot, batch, mode, precision);
    }
    if (mode == Mode::train) training_ = slot.get();
    return *slot;
  }
  // The entry of the last training forward, which its backward must use (null before one).
  P* training() const { return training_; }

 private:
  std::map<std::pair<std::int64_t, Precision>, std::unique_ptr<P>> slots_;
  P* training_ = nullptr;
};

// A memory over a Tensor's storage (no copy).
memory wrap(const memory::desc& desc, const float* data);

// Brings data from a plain layout into the layout a primitive wants, reusing one buffer: when the
// layouts agree it is a view, otherwise a reorder into a buffer allocated once.
class ToLayout {
 public:
  void init(const memory::desc& from, const memory::desc& to);
  memory operator()(const float* data);  // runs the reorder (if any) on the stream
  const memory::desc& desc() const { return to_; }
  // Whether the layouts differ, so that operator() reorders into a buffer of this converter's.
  bool reorders() const { return needed_; }
  // That buffer as the last operator() left it (only when reorders()).
  const memory& converted() const { return buffer_; }

 private:
  memory::desc from_, to_;
  bool needed_ = false;
  memory buffer_;
  dnnl::reorder reorder_;
};

// The reverse: a primitive writes into buffer(), then write_to() delivers plain data.
class FromLayout {
 public:
  void init(const memory::desc& from, const memory::desc& to);
  // The memory a primitive should write to; when layouts agree, a view of `data`.
  memory buffer(float* data);
  void write_to(float* data);  // runs the reorder (if any)

 private:
  memory::desc from_, to_;
  bool needed_ = false;
  memory buffer_;
  dnnl::reorder reorder_;
};

}  // namespace pipeline::layers
