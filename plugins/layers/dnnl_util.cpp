#include "dnnl_util.hpp"

namespace pipeline::layers {

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& stream() {
  // Primitives run synchronously on the CPU; one stream per thread keeps concurrent stages apart.
  thread_local dnnl::stream s(engine());
  return s;
}

memory::dims dims_of(const Shape& shape) { return memory::dims(shape.begin(), shape.end()); }

memory::desc plain(const memory::dims& dims, tag layout) { return memory::desc(dims, dt::f32, layout); }

dt compute_type(Precision precision) { return precision == Precision::bf16 ? dt::bf16 : dt::f32; }

memory wrap(const memory::desc& desc, const float* data) {
  return memory(desc, engine(), const_cast<float*>(data));
}

void ToLayout::init(const memory::desc& from, const memory::desc& to) {
  from_ = from;
  to_ = to;
  needed_ = from != to;
  if (needed_) {
    buffer_ = memory(to, engine());
    reorder_ = dnnl::reorder(memory(from, engine(), DNNL_MEMORY_NONE), buffer_);
  }
}

memory ToLayout::operator()(const float* data) {
  if (!needed_) return wrap(to_, data);
  memory src = wrap(from_, data);
  reorder_.execute(stream(), src, buffer_);
  return buffer_;
}

void FromLayout::init(const memory::desc& from, const memory::desc& to) {
  from_ = from;
  to_ = to;
  needed_ = from != to;
  if (needed_) {
    buffer_ = memory(from, engine());
    reorder_ = dnnl::reorder(buffer_, memory(to, engine(), DNNL_MEMORY_NONE));
  }
}

memory FromLayout::buffer(float* data) { return needed_ ? buffer_ : wrap(from_, data); }

void FromLayout::write_to(float* data) {
  if (!needed_) return;
  memory dst = wrap(to_, data);
  reorder_.execute(stream(), buffer_, dst);
}

}  // namespace pipeline::layers
