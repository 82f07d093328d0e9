// RandomFlip, RandomRotation, RandomZoom: the identity outside training (Keras semantics). Their
// random transforms in training belong to the data-pipeline work that follows the engine; until
// then a training run that would need them stops with a clear message rather than silently
// training without augmentation.
#include "Error.h"
#include "lower/Lowering.h"

namespace cnnc::engine {

namespace {
class AugmentationOp : public rt::Op {
  public:
    explicit AugmentationOp(std::string name) : name_(std::move(name)) {}
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo& s) override {
        if (s.training) throw rt::UserError(name_ + " in training is not supported by this version of cnnc yet");
        std::copy(x.data, x.data + x.size(), y.data);
    }
    void backward(const rt::View&, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        if (dx) std::copy(dy.data, dy.data + dy.size(), dx->data);
    }

  private:
    std::string name_;
};
}  // namespace

std::unique_ptr<rt::Op> lower_RandomFlip(const LowerContext&) { return std::make_unique<AugmentationOp>("RandomFlip"); }
std::unique_ptr<rt::Op> lower_RandomRotation(const LowerContext&) { return std::make_unique<AugmentationOp>("RandomRotation"); }
std::unique_ptr<rt::Op> lower_RandomZoom(const LowerContext&) { return std::make_unique<AugmentationOp>("RandomZoom"); }

}  // namespace cnnc::engine
