// Small ops written out in C++ (no kernels), to test the network's graph machinery alone: fan-out,
// merges, views and the memory plan (test_graph_engine.cpp, test_memory_plan.cpp).
#pragma once
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "net/Network.h"

namespace cnnc::test {

inline rt::Param weight(const std::string& name, rt::Dims shape, float value) {
    rt::Param p;
    p.name = name;
    p.value.resize(shape);
    p.value.fill(value);
    p.grad.resize(shape);
    p.grad.fill(0);
    return p;
}

// y = w ⊙ x, w one weight per value of a sample. Where its input is a Tanh's output that it alone
// reads, the network has it apply tanh's derivative to dx (Op::output_activation).
class Scale : public rt::Op {
  public:
    explicit Scale(rt::Dims per_sample) { params.push_back(weight("w", per_sample, 0.5f)); }
    bool accepts_input_activation(const std::string& act) const override { return act == "tanh"; }
    void set_input_activation(const std::string& act) override { tanh_ = act == "tanh"; }
    bool applies_tanh() const { return tanh_; }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        const int64_t k = params[0].value.size();
        for (int64_t i = 0; i < x.size(); ++i) y[i] = params[0].value[i % k] * x[i];
    }
    void backward(const rt::View& x, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        rt::Param& w = params[0];
        const int64_t k = w.value.size();
        w.grad.fill(0);
        for (int64_t i = 0; i < x.size(); ++i) w.grad[i % k] += x[i] * dy[i];
        if (dx)
            for (int64_t i = 0; i < x.size(); ++i) (*dx)[i] = w.value[i % k] * dy[i] * (tanh_ ? 1 - x[i] * x[i] : 1.f);
    }

  private:
    bool tanh_ = false;
};

// y = tanh(x); its backward reads y, unless dy arrives as dL/dx already (a Scale applied the
// derivative: dz_given).
class Tanh : public rt::Op {
  public:
    std::string output_activation() const override { return "tanh"; }
    void set_preactivation_gradient(bool on) override { given_ = on; }
    bool dz_given() const { return given_; }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        for (int64_t i = 0; i < x.size(); ++i) y[i] = std::tanh(x[i]);
    }
    void backward(const rt::View&, const rt::View& y, const rt::View& dy, const rt::View* dx, bool dz, const rt::StepInfo&) override {
        if (dz != given_) throw std::logic_error("Tanh: dy_is_logits disagrees with set_preactivation_gradient");
        if (dx)
            for (int64_t i = 0; i < y.size(); ++i) (*dx)[i] = (dz ? 1 : 1 - y[i] * y[i]) * dy[i];
    }

  private:
    bool given_ = false;
};

// A merge of n inputs of one shape: y = Σ (i+1)·x_i + x_0·x_{n-1}. The weights tell the inputs
// apart, the product makes each one's gradient depend on another input.
class Mix : public rt::Op {
  public:
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo& s) override { forward_all({x}, y, s); }
    void backward(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View* dx, bool l, const rt::StepInfo& s) override {
        backward_all({x}, y, dy, {dx}, l, s);
    }
    void forward_all(const std::vector<rt::View>& xs, const rt::View& y, const rt::StepInfo&) override {
        for (int64_t i = 0; i < y.size(); ++i) {
            float v = xs.front()[i] * xs.back()[i];
            for (size_t k = 0; k < xs.size(); ++k) v += static_cast<float>(k + 1) * xs[k][i];
            y[i] = v;
        }
    }
    void backward_all(const std::vector<rt::View>& xs, const rt::View&, const rt::View& dy, const std::vector<const rt::View*>& dxs, bool,
                      const rt::StepInfo&) override {
        const size_t last = xs.size() - 1;
        for (size_t k = 0; k < xs.size(); ++k) {
            if (!dxs[k]) continue;
            for (int64_t i = 0; i < dy.size(); ++i) {
                float g = static_cast<float>(k + 1);
                if (k == 0) g += xs[last][i];
                if (k == last) g += xs[0][i];
                (*dxs[k])[i] = g * dy[i];
            }
        }
    }
};

// A view: the output is the input under another shape.
class Reshape : public rt::Op {
  public:
    bool is_view() const override { return true; }
    void forward(const rt::View&, const rt::View&, const rt::StepInfo&) override {}
    void backward(const rt::View&, const rt::View&, const rt::View&, const rt::View*, bool, const rt::StepInfo&) override {}
};

// y = x W, W of (in, out).
class Head : public rt::Op {
  public:
    Head(int64_t in, int64_t out) : in_(in), out_(out) { params.push_back(weight("kernel", {in, out}, 0.1f)); }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        const rt::Tensor& w = params[0].value;
        for (int64_t n = 0; n < x.shape[0]; ++n)
            for (int64_t o = 0; o < out_; ++o) {
                float v = 0;
                for (int64_t i = 0; i < in_; ++i) v += x[n * in_ + i] * w[i * out_ + o];
                y[n * out_ + o] = v;
            }
    }
    void backward(const rt::View& x, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        rt::Param& w = params[0];
        w.grad.fill(0);
        for (int64_t n = 0; n < x.shape[0]; ++n)
            for (int64_t i = 0; i < in_; ++i) {
                float g = 0;
                for (int64_t o = 0; o < out_; ++o) {
                    w.grad[i * out_ + o] += x[n * in_ + i] * dy[n * out_ + o];
                    g += w.value[i * out_ + o] * dy[n * out_ + o];
                }
                if (dx) (*dx)[n * in_ + i] = g;
            }
    }

  private:
    int64_t in_, out_;
};

}  // namespace cnnc::test
