// rnn, lstm, gru: stacked recurrent layers over sequences on oneDNN (vanilla_rnn, lstm, lbr_gru),
// with PyTorch's parameters (weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, with
// _reverse for the backward direction) converted to oneDNN's layouts at each step:
// - oneDNN has one bias per gate where PyTorch has two (ih and hh): their sum, except for the GRU
//   candidate gate, which oneDNN's linear-before-reset GRU keeps as two (its 4th bias "u'");
// - PyTorch's GRU gate order is r, z, n and oneDNN's u(=z), r, o(=n); LSTM's i, f, g, o agree.
// Each layer of the stack is its own single-layer primitive (a multi-layer oneDNN RNN needs input
// width == hidden width). Images feed in row by row: [1, H, W] is a sequence of H steps of W.
#include <cmath>
#include <cstring>
#include <map>

#include "dnnl_util.hpp"
#include "layer_types.hpp"
#include "pipeline/error.hpp"

namespace pipeline::layers {
namespace {

enum class Cell { rnn, lstm, gru };

struct RecurrentConfig {
  Cell cell = Cell::rnn;
  std::int64_t steps = 0, features = 0, hidden = 0, layers = 1;
  bool bidirectional = false, all_steps = false, relu = false;

  std::int64_t gates() const { return cell == Cell::rnn ? 1 : cell == Cell::lstm ? 4 : 3; }
  std::int64_t bias_gates() const { return cell == Cell::gru ? 4 : gates(); }
  std::int64_t dirs() const { return bidirectional ? 2 : 1; }
  std::int64_t input_width(std::int64_t layer) const { return layer == 0 ? features : hidden * dirs(); }
  // oneDNN gate index of PyTorch gate g.
  std::int64_t dnnl_gate(std::int64_t g) const { return cell == Cell::gru && g < 2 ? 1 - g : g; }
};

const char* type_name(Cell c) { return c == Cell::rnn ? "rnn" : c == Cell::lstm ? "lstm" : "gru"; }

class Recurrent : public Layer {
 public:
  Recurrent(const std::string& name, const RecurrentConfig& c) : Layer(type_name(c.cell), name), c_(c) {
    const std::int64_t gh = c.gates() * c.hidden;
    for (std::int64_t k = 0; k < c.layers; ++k)
      for (std::int64_t d = 0; d < c.dirs(); ++d) {
        const std::string suffix = "_l" + std::to_string(k) + (d ? "_reverse" : "");
        params_.push_back({"weight_ih" + suffix, Tensor({gh, c.input_width(k)}), {}, true, false});
        params_.push_back({"weight_hh" + suffix, Tensor({gh, c.hidden}), {}, true, false});
        params_.push_back({"bias_ih" + suffix, Tensor({gh}), {}, true, false});
        params_.push_back({"bias_hh" + suffix, Tensor({gh}), {}, true, false});
      }
  }

  Shape output_shape(const Shape&) const override {
    const std::int64_t width = c_.hidden * c_.dirs();
    return c_.all_steps ? Shape{c_.steps, width} : Shape{width};
  }

  void initialize(Rng& rng) override {
    const float bound = 1.0f / std::sqrt(static_cast<float>(c_.hidden));  // PyTorch's default
    for (auto& p : params_)
      for (float& w : p.value.values()) w = rng.uniform(-bound, bound);
  }

  std::string describe() const override {
    std::string s = "hidden " + std::to_string(c_.hidden) + ", " + std::to_string(c_.layers) + " layer" +
                    (c_.layers > 1 ? "s" : "");
    if (c_.bidirectional) s += ", bidirectional";
    if (c_.relu) s += ", relu";
    return s + (c_.all_steps ? ", all steps" : ", last step");
  }

  std::unique_ptr<Layer> clone_layer() const override {
    auto copy = std::make_unique<Recurrent>(name(), c_);
    copy->params_ = params_;
    copy->input_shape_ = input_shape_;
    return copy;
  }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    ++counters_.forward;
    const std::int64_t n = input.dim(0), t = c_.steps, width = c_.hidden * c_.dirs();
    Prims& p = prims(n, mode);
    convert_weights(p);
    p.input_tnc = p.input(input.data());  // [N, T, F] → [T, N, F]
    for (std::int64_t k = 0; k < c_.layers; ++k) {
      LayerPrims& l = p.layers[k];
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC_LAYER, k == 0 ? p.input_tnc : p.layers[k - 1].dst},
          {DNNL_ARG_WEIGHTS_LAYER, l.weights_layer(l.plain_weights_layer.data())},
          {DNNL_ARG_WEIGHTS_ITER, l.weights_iter(l.plain_weights_iter.data())},
          {DNNL_ARG_BIAS, wrap(l.bias_desc, l.plain_bias.data())},
          {DNNL_ARG_DST_LAYER, l.dst},
          {DNNL_ARG_SRC_ITER, l.src_iter}};
      if (c_.cell == Cell::lstm) args[DNNL_ARG_SRC_ITER_C] = l.src_iter_c;
      // A training primitive (also serving evaluation once created) always writes its workspace.
      if (p.has_backward) args[DNNL_ARG_WORKSPACE] = l.workspace;
      l.forward.execute(stream(), args);
    }
    const memory& top = p.layers.back().dst;  // [T, N, width]
    const float* y = static_cast<const float*>(top.get_data_handle());
    if (c_.all_steps) {
      output.resize({n, t, width});
      memory out = wrap(plain({t, n, width}, tag::ntc), output.data());
      memory src = top;
      p.outputs_to_batch_major.execute(stream(), src, out);
    } else {
      output.resize({n, width});
      std::memcpy(output.data(), y + (t - 1) * n * width, sizeof(float) * static_cast<std::size_t>(n * width));
    }
    if (mode == Mode::train) batch_ = n;
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    const bool weights = params_[0].trainable;
    if (!weights && !grad_input) return;
    if (batch_ < 0) throw Error(ErrorCode::internal, type() + " backward without a training forward");
    const std::int64_t n = batch_, t = c_.steps, width = c_.hidden * c_.dirs();
    Prims& p = prims(n, Mode::train);
    // The gradient at the top layer's output sequence.
    float* top = static_cast<float*>(p.top_diff.get_data_handle());
    if (c_.all_steps) {
      memory src = wrap(plain({t, n, width}, tag::ntc), grad_output.data());
      p.gradients_to_time_major.execute(stream(), src, p.top_diff);
    } else {
      std::memset(top, 0, sizeof(float) * static_cast<std::size_t>(t * n * width));
      std::memcpy(top + (t - 1) * n * width, grad_output.data(), sizeof(float) * static_cast<std::size_t>(n * width));
    }
    for (std::int64_t k = c_.layers; k-- > 0;) {
      LayerPrims& l = p.layers[k];
      memory diff_wl = l.diff_weights_layer.buffer(l.plain_weights_layer_grad.data());
      memory diff_wi = l.diff_weights_iter.buffer(l.plain_weights_iter_grad.data());
      // oneDNN accumulates into the weight gradients: start each step from zero.
      for (memory* m : {&diff_wl, &diff_wi, &l.diff_bias})
        std::memset(m->get_data_handle(), 0, m->get_desc().get_size());
      std::unordered_map<int, memory> args = {{DNNL_ARG_SRC_LAYER, k == 0 ? p.input_tnc : p.layers[k - 1].dst},
                                    {DNNL_ARG_SRC_ITER, l.src_iter},
                                    {DNNL_ARG_DIFF_SRC_ITER, l.diff_src_iter},
                                    {DNNL_ARG_WEIGHTS_LAYER, l.bwd_weights_layer(l.plain_weights_layer.data())},
                                    {DNNL_ARG_WEIGHTS_ITER, l.bwd_weights_iter(l.plain_weights_iter.data())},
                                    {DNNL_ARG_BIAS, wrap(l.bias_desc, l.plain_bias.data())},
                                    {DNNL_ARG_DST_LAYER, l.dst},
                                    {DNNL_ARG_DIFF_DST_LAYER, k + 1 == c_.layers ? p.top_diff : p.layers[k + 1].diff_src},
                                    {DNNL_ARG_WORKSPACE, l.workspace},
                                    {DNNL_ARG_DIFF_SRC_LAYER, l.diff_src},
                                    {DNNL_ARG_DIFF_WEIGHTS_LAYER, diff_wl},
                                    {DNNL_ARG_DIFF_WEIGHTS_ITER, diff_wi},
                                    {DNNL_ARG_DIFF_BIAS, l.diff_bias}};
      if (c_.cell == Cell::lstm) {
        args[DNNL_ARG_SRC_ITER_C] = l.src_iter_c;
        args[DNNL_ARG_DIFF_SRC_ITER_C] = l.diff_src_iter_c;
      }
      l.backward.execute(stream(), args);
      if (weights) {
        l.diff_weights_layer.write_to(l.plain_weights_layer_grad.data());
        l.diff_weights_iter.write_to(l.plain_weights_iter_grad.data());
      }
    }
    if (weights) {
      ++counters_.backward_weights;
      convert_gradients(p);
    }
    if (grad_input) {
      ++counters_.backward_data;
      grad_input->resize({n, t, c_.features});
      memory dst = wrap(plain({t, n, c_.features}, tag::ntc), grad_input->data());
      memory src = p.layers[0].diff_src;
      p.input_gradients_to_batch_major.execute(stream(), src, dst);
      // Restore the input's own shape (e.g. [N, 1, H, W] for images).
      grad_input->resize(input_shape_with(n));
    }
  }

  void set_input_shape(const Shape& s) { input_shape_ = s; }

 private:
  struct LayerPrims {
    memory::desc bias_desc;
    dnnl::primitive forward, backward;
    memory dst, workspace, diff_src, diff_bias, src_iter, src_iter_c, diff_src_iter, diff_src_iter_c;
    ToLayout weights_layer, weights_iter, bwd_weights_layer, bwd_weights_iter;
    FromLayout diff_weights_layer, diff_weights_iter;
    // oneDNN's plain layouts (ldigo, ldgo) of this layer's parameters and their gradients
    std::vector<float> plain_weights_layer, plain_weights_iter, plain_bias;
    std::vector<float> plain_weights_layer_grad, plain_weights_iter_grad;
  };
  struct Prims {
    ToLayout input;  // [N, T, F] → [T, N, F]
    memory input_tnc, top_diff;
    // Between oneDNN's time-major sequences and our batch-major tensors, created once per batch size.
    dnnl::reorder outputs_to_batch_major, gradients_to_time_major, input_gradients_to_batch_major;
    std::vector<LayerPrims> layers;
    bool has_backward = false;
  };

  Shape input_shape_with(std::int64_t n) const {
    Shape s = input_shape_;
    s.insert(s.begin(), n);
    return s;
  }

  // Creates the forward (and, for training, backward) primitive of one stacked layer.
  void make_layer(LayerPrims& l, std::int64_t n, std::int64_t k, Mode mode) {
    using namespace dnnl;
    const std::int64_t t = c_.steps, in = c_.input_width(k), h = c_.hidden, d = c_.dirs(), g = c_.gates();
    const auto dir = c_.bidirectional ? rnn_direction::bidirectional_concat : rnn_direction::unidirectional_left2right;
    const memory::desc src = plain({t, n, in}, tag::tnc), dst = plain({t, n, h * d}, tag::tnc), none;
    // An explicit zero initial state: with none, oneDNN 2.6's reference backward computed wrong
    // weight_hh gradients for unidirectional RNN and LSTM (caught by the finite-difference test).
    const memory::desc iter = plain({1, d, n, h}, tag::ldnc);
    l.src_iter = memory(iter, engine());
    l.src_iter_c = memory(iter, engine());
    l.diff_src_iter = memory(iter, engine());
    l.diff_src_iter_c = memory(iter, engine());
    for (memory* m : {&l.src_iter, &l.src_iter_c})
      std::memset(m->get_data_handle(), 0, m->get_desc().get_size());
    const memory::desc iter_c = c_.cell == Cell::lstm ? iter : none;
    const memory::desc wl({1, d, in, g, h}, dt::f32, tag::any), wi({1, d, h, g, h}, dt::f32, tag::any);
    // Weight gradients straight in the plain layout they are converted from (no reorder).
    const memory::desc dwl = plain({1, d, in, g, h}, tag::ldigo), dwi = plain({1, d, h, g, h}, tag::ldigo);
    l.bias_desc = plain({1, d, c_.bias_gates(), h}, tag::ldgo);
    const auto prop = mode == Mode::train ? prop_kind::forward_training : prop_kind::forward_inference;
    const auto act = c_.relu ? algorithm::eltwise_relu : algorithm::eltwise_tanh;
    auto finish_forward = [&](const auto& pd) {
      l.forward = primitive(pd);
      l.weights_layer.init(plain({1, d, in, g, h}, tag::ldigo), pd.weights_layer_desc());
      l.weights_iter.init(plain({1, d, h, g, h}, tag::ldigo), pd.weights_iter_desc());
      l.dst = memory(dst, engine());
      if (mode == Mode::train) l.workspace = memory(pd.workspace_desc(), engine());
    };
    auto finish_backward = [&](const auto& pd) {
      l.backward = primitive(pd);
      l.bwd_weights_layer.init(plain({1, d, in, g, h}, tag::ldigo), pd.weights_layer_desc());
      l.bwd_weights_iter.init(plain({1, d, h, g, h}, tag::ldigo), pd.weights_iter_desc());
      l.diff_weights_layer.init(pd.diff_weights_layer_desc(), plain({1, d, in, g, h}, tag::ldigo));
      l.diff_weights_iter.init(pd.diff_weights_iter_desc(), plain({1, d, h, g, h}, tag::ldigo));
      l.diff_bias = memory(l.bias_desc, engine());
      l.diff_src = memory(src, engine());
    };
    if (c_.cell == Cell::rnn) {
      vanilla_rnn_forward::primitive_desc fpd(
          vanilla_rnn_forward::desc(prop, act, dir, src, iter, wl, wi, l.bias_desc, dst, none), engine());
      finish_forward(fpd);
      if (mode == Mode::train)
        finish_backward(vanilla_rnn_backward::primitive_desc(
            vanilla_rnn_backward::desc(prop_kind::backward, act, dir, src, iter, wl, wi, l.bias_desc, dst, none, src,
                                       iter, dwl, dwi, l.bias_desc, dst, none),
            engine(), fpd));
    } else if (c_.cell == Cell::lstm) {
      lstm_forward::primitive_desc fpd(
          lstm_forward::desc(prop, dir, src, iter, iter_c, wl, wi, l.bias_desc, dst, none, none), engine());
      finish_forward(fpd);
      if (mode == Mode::train)
        finish_backward(lstm_backward::primitive_desc(
            lstm_backward::desc(prop_kind::backward, dir, src, iter, iter_c, wl, wi, l.bias_desc, dst, none, none, src,
                                iter, iter_c, dwl, dwi, l.bias_desc, dst, none, none),
            engine(), fpd));
    } else {
      lbr_gru_forward::primitive_desc fpd(
          lbr_gru_forward::desc(prop, dir, src, iter, wl, wi, l.bias_desc, dst, none), engine());
      finish_forward(fpd);
      if (mode == Mode::train)
        finish_backward(lbr_gru_backward::primitive_desc(
            lbr_gru_backward::desc(prop_kind::backward, dir, src, iter, wl, wi, l.bias_desc, dst, none, src, iter, dwl,
                                   dwi, l.bias_desc, dst, none),
            engine(), fpd));
    }
    l.plain_weights_layer.assign(static_cast<std::size_t>(d * in * g * h), 0.0f);
    l.plain_weights_iter.assign(static_cast<std::size_t>(d * h * g * h), 0.0f);
    l.plain_bias.assign(static_cast<std::size_t>(d * c_.bias_gates() * h), 0.0f);
    l.plain_weights_layer_grad.assign(l.plain_weights_layer.size(), 0.0f);
    l.plain_weights_iter_grad.assign(l.plain_weights_iter.size(), 0.0f);
  }

  Prims& prims(std::int64_t n, Mode mode) {
    auto& slot = prims_[n];
    if (slot && (mode == Mode::eval || slot->has_backward)) return *slot;
    slot = std::make_unique<Prims>();
    Prims& p = *slot;
    const memory::desc tnc = plain({c_.steps, n, c_.features}, tag::tnc);
    p.input.init(plain({c_.steps, n, c_.features}, tag::ntc), tnc);
    p.layers.resize(static_cast<std::size_t>(c_.layers));
    for (std::int64_t k = 0; k < c_.layers; ++k) make_layer(p.layers[k], n, k, mode);
    const std::int64_t width = c_.hidden * c_.dirs();
    auto reorder = [](const memory::desc& from, const memory::desc& to) {
      return dnnl::reorder(memory(from, engine(), DNNL_MEMORY_NONE), memory(to, engine(), DNNL_MEMORY_NONE));
    };
    p.outputs_to_batch_major = reorder(plain({c_.steps, n, width}, tag::tnc), plain({c_.steps, n, width}, tag::ntc));
    if (mode == Mode::train) {
      p.top_diff = memory(plain({c_.steps, n, width}, tag::tnc), engine());
      p.gradients_to_time_major = reorder(plain({c_.steps, n, width}, tag::ntc), plain({c_.steps, n, width}, tag::tnc));
      p.input_gradients_to_batch_major =
          reorder(plain({c_.steps, n, c_.features}, tag::tnc), plain({c_.steps, n, c_.features}, tag::ntc));
    }
    p.has_backward = mode == Mode::train;
    return p;
  }

  // PyTorch parameters → oneDNN's plain layouts for every stacked layer.
  void convert_weights(Prims& p) {
    const std::int64_t h = c_.hidden, g = c_.gates();
    for (std::int64_t k = 0; k < c_.layers; ++k) {
      LayerPrims& l = p.layers[k];
      const std::int64_t in = c_.input_width(k);
      for (std::int64_t d = 0; d < c_.dirs(); ++d) {
        const std::size_t base = static_cast<std::size_t>(4 * (k * c_.dirs() + d));
        const float* w_ih = params_[base].value.data();
        const float* w_hh = params_[base + 1].value.data();
        const float* b_ih = params_[base + 2].value.data();
        const float* b_hh = params_[base + 3].value.data();
        for (std::int64_t gp = 0; gp < g; ++gp) {
          const std::int64_t gd = c_.dnnl_gate(gp);
          for (std::int64_t j = 0; j < h; ++j) {
            const std::int64_t row = gp * h + j;
            for (std::int64_t i = 0; i < in; ++i)
              l.plain_weights_layer[static_cast<std::size_t>(((d * in + i) * g + gd) * h + j)] = w_ih[row * in + i];
            for (std::int64_t i = 0; i < h; ++i)
              l.plain_weights_iter[static_cast<std::size_t>(((d * h + i) * g + gd) * h + j)] = w_hh[row * h + i];
            const std::int64_t bg = c_.bias_gates();
            if (c_.cell == Cell::gru && gp == 2) {
              l.plain_bias[static_cast<std::size_t>((d * bg + 2) * h + j)] = b_ih[row];
              l.plain_bias[static_cast<std::size_t>((d * bg + 3) * h + j)] = b_hh[row];
            } else {
              l.plain_bias[static_cast<std::size_t>((d * bg + gd) * h + j)] = b_ih[row] + b_hh[row];
            }
          }
        }
      }
    }
  }

  // oneDNN's gradients → PyTorch parameter gradients.
  void convert_gradients(Prims& p) {
    const std::int64_t h = c_.hidden, g = c_.gates(), bg = c_.bias_gates();
    for (std::int64_t k = 0; k < c_.layers; ++k) {
      LayerPrims& l = p.layers[k];
      const std::int64_t in = c_.input_width(k);
      const float* db = static_cast<const float*>(l.diff_bias.get_data_handle());
      for (std::int64_t d = 0; d < c_.dirs(); ++d) {
        const std::size_t base = static_cast<std::size_t>(4 * (k * c_.dirs() + d));
        for (std::size_t q = 0; q < 4; ++q) params_[base + q].grad.resize(params_[base + q].value.shape());
        float* g_ih = params_[base].grad.data();
        float* g_hh = params_[base + 1].grad.data();
        float* gb_ih = params_[base + 2].grad.data();
        float* gb_hh = params_[base + 3].grad.data();
        for (std::int64_t gp = 0; gp < g; ++gp) {
          const std::int64_t gd = c_.dnnl_gate(gp);
          for (std::int64_t j = 0; j < h; ++j) {
            const std::int64_t row = gp * h + j;
            for (std::int64_t i = 0; i < in; ++i)
              g_ih[row * in + i] = l.plain_weights_layer_grad[static_cast<std::size_t>(((d * in + i) * g + gd) * h + j)];
            for (std::int64_t i = 0; i < h; ++i)
              g_hh[row * h + i] = l.plain_weights_iter_grad[static_cast<std::size_t>(((d * h + i) * g + gd) * h + j)];
            if (c_.cell == Cell::gru && gp == 2) {
              gb_ih[row] = db[(d * bg + 2) * h + j];
              gb_hh[row] = db[(d * bg + 3) * h + j];
            } else {
              // Both PyTorch biases enter as their sum: each gets the sum's gradient.
              gb_ih[row] = gb_hh[row] = db[(d * bg + gd) * h + j];
            }
          }
        }
      }
    }
  }

  RecurrentConfig c_;
  Shape input_shape_;
  std::map<std::int64_t, std::unique_ptr<Prims>> prims_;
  std::int64_t batch_ = -1;
};

LayerInfo recurrent_layer(Cell cell) {
  LayerInfo info;
  info.name = type_name(cell);
  info.doc = cell == Cell::rnn    ? "stacked Elman RNN over a sequence (PyTorch RNN)"
             : cell == Cell::lstm ? "stacked LSTM over a sequence (PyTorch LSTM)"
                                  : "stacked GRU over a sequence (PyTorch GRU)";
  info.params = {
      param_int("hidden", "hidden state size").range(1, 1 << 16),
      param_int("layers", "stacked layers", 1).range(1, 64),
      param_bool("bidirectional", "also run right to left and concatenate", false),
      param_enum("output", "the last step's output, or all steps", {"last", "all"}, std::string("last")),
  };
  if (cell == Cell::rnn)
    info.params.push_back(param_enum("nonlinearity", "the cell's activation", {"tanh", "relu"}, std::string("tanh")));
  info.create = [cell](const std::string& name, const Params& p, const Shape& input) -> std::unique_ptr<Layer> {
    RecurrentConfig c;
    c.cell = cell;
    const std::string what = std::string(type_name(cell)) + " " + name;
    if (input.size() == 2) {
      c.steps = input[0];
      c.features = input[1];
    } else if (input.size() == 3 && input[0] == 1) {
      c.steps = input[1];  // an image, row by row
      c.features = input[2];
    } else {
      throw Error(ErrorCode::config_schema, what + " expects [steps, features] or [1, rows, columns] inputs, gets " +
                                                to_string(input));
    }
    c.hidden = p.get_int("hidden");
    c.layers = p.get_int("layers");
    c.bidirectional = p.get_bool("bidirectional");
    c.all_steps = p.get_string("output") == "all";
    c.relu = cell == Cell::rnn && p.get_string("nonlinearity") == "relu";
    auto layer = std::make_unique<Recurrent>(name, c);
    layer->set_input_shape(input);
    return layer;
  };
  return info;
}

}  // namespace

std::vector<LayerInfo> recurrent_layers() {
  return {recurrent_layer(Cell::rnn), recurrent_layer(Cell::lstm), recurrent_layer(Cell::gru)};
}

}  // namespace pipeline::layers
