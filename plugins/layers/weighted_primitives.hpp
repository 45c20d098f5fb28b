// What conv2d and linear share: a forward primitive and its two backward primitives (weights,
// data) over weights and an optional bias, created once per batch size with layouts chosen by
// oneDNN, and converters to and from the plain layouts of Tensors and Parameters.
#pragma once

#include "dnnl_util.hpp"
#include "pipeline/layer.hpp"

namespace pipeline::layers {

struct WeightedPrimitives {
  dnnl::primitive forward, backward_weights, backward_data;
  memory::desc bias;  // plain; zero desc without a bias
  ToLayout src, weights, bwd_src, bwd_w_diff_dst, bwd_d_diff_dst, bwd_d_weights;
  FromLayout dst, diff_weights, diff_src;
  bool has_backward = false;

  // From the primitive descriptors (backward ones null for inference) and the plain layouts of
  // the source, weights and destination.
  template <class Fwd, class BwdWeights, class BwdData>
  void init(const Fwd& fwd, const BwdWeights* bwd_weights, const BwdData* bwd_data, const memory::desc& plain_src,
            const memory::desc& plain_weights, const memory::desc& plain_dst) {
    forward = dnnl::primitive(fwd);
    src.init(plain_src, fwd.src_desc());
    weights.init(plain_weights, fwd.weights_desc());
    dst.init(fwd.dst_desc(), plain_dst);
    if (!bwd_weights || !bwd_data) return;
    backward_weights = dnnl::primitive(*bwd_weights);
    bwd_src.init(plain_src, bwd_weights->src_desc());
    bwd_w_diff_dst.init(plain_dst, bwd_weights->diff_dst_desc());
    diff_weights.init(bwd_weights->diff_weights_desc(), plain_weights);
    backward_data = dnnl::primitive(*bwd_data);
    bwd_d_diff_dst.init(plain_dst, bwd_data->diff_dst_desc());
    bwd_d_weights.init(plain_weights, bwd_data->weights_desc());
    diff_src.init(bwd_data->diff_src_desc(), plain_src);
    has_backward = true;
    src_shared_with_backward_ = src.reorders() && src.desc() == bwd_src.desc();
    diff_dst_shared_ = bwd_w_diff_dst.reorders() && bwd_w_diff_dst.desc() == bwd_d_diff_dst.desc();
  }

  // output (already sized) = layer(input) with params[0] the weights and params[1] the bias.
  void run_forward(const Tensor& input, Tensor& output, const std::vector<Parameter>& params, Mode mode);
  // Weight (and bias) gradients when params[0] trains, and the input gradient when asked for.
  void run_backward(const Tensor& input, const Tensor& grad_output, std::vector<Parameter>& params,
                    Tensor* grad_input, LayerCounters& counters);

 private:
  // Fixed at init: the forward's reordered input is in the layout backward-weights wants, and
  // backward-weights' reordered output gradient in the one backward-data wants.
  bool src_shared_with_backward_ = false, diff_dst_shared_ = false;
  // Set by a training forward when src_shared_with_backward_: backward then reads the forward's
  // buffer instead of reordering the unchanged input again. Any other forward on these
  // primitives (an evaluation in between) clears it, so a stale buffer is never read.
  bool src_converted_for_backward_ = false;
};

}  // namespace pipeline::layers
