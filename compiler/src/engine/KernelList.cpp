#include "engine/KernelList.h"

#include "engine/Run.h"

namespace cnnc::engine {

namespace {
class Unrunnable : public Kernel {
    int invoke(const std::vector<Buf>&, const std::vector<Buf>&, const std::vector<int>&) override { return -1; }
};
}  // namespace

std::shared_ptr<Kernel> RecordingKernels::make(const KernelSpec& spec, bool& compiled) {
    specs.push_back(spec);
    compiled = false;
    return std::make_shared<Unrunnable>();
}

std::string dump_kernels(const Compilation& c, const std::string& file) {
    RecordingKernels rec;
    prepare_program(c, file, rec);
    std::string out;
    for (const auto& s : rec.specs) out += s.key() + "\n";
    return out;
}

}  // namespace cnnc::engine
