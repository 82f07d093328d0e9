// `cnnc summary --memory`: the engine's own buffer plan for a model, per sample, against the naive
// sum (every tensor its own buffer). ResNet-20 is where liveness pays: most of its tensors die
// as soon as the next layer has read them.
#include <regex>

#include "Helpers.h"

using namespace cnnc::test;

namespace {
struct Figures {
    std::string planned, naive;
};
Figures line(const std::string& out, const std::string& which) {
    std::smatch m;
    std::regex re(" " + which + " memory per sample: ([0-9.]+ [KMG]?B) planned, ([0-9.]+ [KMG]?B) naive");
    REQUIRE(std::regex_search(out, m, re));
    return {m[1], m[2]};
}
double kb(const std::string& s) {
    double v = std::stod(s);
    if (s.find("MB") != std::string::npos) return v * 1024;
    if (s.find("KB") != std::string::npos) return v;
    return v / 1024;
}
}  // namespace

TEST_CASE("summary --memory: ResNet-20's plan by liveness against the naive sum", "[summary][memory]") {
    auto r = run_cnnc("summary --memory " + root() + "/models/resnet20_cifar.cnn");
    REQUIRE(r.status == 0);
    // In inference a basic block at full resolution holds at most three 32x32x16 float tensors
    // (64 KiB each) at once: the block's input, kept for the shortcut, the first convolution's
    // output and the second's, which the Add reads beside the input.
    Figures inf = line(r.output, "Inference");
    CHECK(inf.planned == "192.00 KB");
    // The naive sum holds every stage's output: far more than three tensors.
    CHECK(kb(inf.naive) > 5 * 192);
    // Training keeps the activations for backward but reuses the gradient buffers.
    Figures tr = line(r.output, "Training");
    CHECK(kb(tr.planned) < kb(tr.naive));
    CHECK(kb(tr.planned) >= kb(inf.naive));  // every activation lives until its backward
}

TEST_CASE("summary --memory on a stack, and without the flag", "[summary][memory]") {
    auto r = run_cnnc("summary --memory " + root() + "/models/mnist.cnn");
    REQUIRE(r.status == 0);
    Figures inf = line(r.output, "Inference");
    CHECK(kb(inf.planned) <= kb(inf.naive));
    auto plain = run_cnnc("summary " + root() + "/models/mnist.cnn");
    CHECK(plain.output.find("memory per sample") == std::string::npos);
}
