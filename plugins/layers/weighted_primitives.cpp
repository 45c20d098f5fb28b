#include "weighted_primitives.hpp"

namespace pipeline::layers {

void WeightedPrimitives::run_forward(const Tensor& input, Tensor& output, const std::vector<Parameter>& params,
                                     Mode mode) {
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src(input.data())},
                                          {DNNL_ARG_WEIGHTS, weights(params[0].value.data())},
                                          {DNNL_ARG_DST, dst.buffer(output.data())}};
  if (params.size() > 1) args[DNNL_ARG_BIAS] = wrap(bias, params[1].value.data());
  forward.execute(stream(), args);
  dst.write_to(output.data());
  src_converted_for_backward_ = mode == Mode::train && src_shared_with_backward_;
}

void WeightedPrimitives::run_backward(const Tensor& input, const Tensor& grad_output, std::vector<Parameter>& params,
                                      Tensor* grad_input, LayerCounters& counters) {
  // grad_output reordered for backward-weights serves backward-data too when the layouts agree.
  bool diff_dst_converted = false;
  if (params[0].trainable) {
    ++counters.backward_weights;
    Parameter& w = params[0];
    w.grad.resize(w.value.shape());
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src_converted_for_backward_ ? src.converted() : bwd_src(input.data())},
        {DNNL_ARG_DIFF_DST, bwd_w_diff_dst(grad_output.data())},
        {DNNL_ARG_DIFF_WEIGHTS, diff_weights.buffer(w.grad.data())}};
    if (params.size() > 1) {
      params[1].grad.resize(params[1].value.shape());
      args[DNNL_ARG_DIFF_BIAS] = wrap(bias, params[1].grad.data());
    }
    backward_weights.execute(stream(), args);
    diff_weights.write_to(w.grad.data());
    diff_dst_converted = diff_dst_shared_;
  }
  if (grad_input) {
    ++counters.backward_data;
    grad_input->resize(input.shape());
    backward_data.execute(stream(), {{DNNL_ARG_DIFF_DST, diff_dst_converted ? bwd_w_diff_dst.converted()
                                                                            : bwd_d_diff_dst(grad_output.data())},
                                     {DNNL_ARG_WEIGHTS, bwd_d_weights(params[0].value.data())},
                                     {DNNL_ARG_DIFF_SRC, diff_src.buffer(grad_input->data())}});
    diff_src.write_to(grad_input->data());
  }
}

}  // namespace pipeline::layers
