// Builtins built from arguments written in C++ rather than in a .cnn file: tests, the benchmark and
// the optimizer an evaluation passes to the trainer. The arguments are bound through the entry's
// schema, so every default still comes from the list, exactly as for a checked file.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "builtins/Builtins.h"

namespace cnnc {

// A call of a list entry: its name (or alias) and arguments; booleans as 0/1, names and strings
// apart.
struct WrittenCall {
    WrittenCall() = default;
    WrittenCall(std::string n, std::map<std::string, double> numbers = {}, std::map<std::string, std::string> texts = {})
        : name(std::move(n)), num(std::move(numbers)), str(std::move(texts)) {}
    std::string name;
    std::map<std::string, double> num;
    std::map<std::string, std::string> str;
};

// `call`'s arguments bound by `params`; std::logic_error when they do not bind (a test's mistake).
BoundArgs bind_written(const std::vector<ParamSpec>& params, const WrittenCall& call);

std::unique_ptr<rt::Optimizer> make_optimizer(const WrittenCall& call);
rt::LossSpec make_loss(const WrittenCall& call);
std::unique_ptr<rt::Callback> make_callback(const WrittenCall& call, const std::string& output_dir = "");

}  // namespace cnnc
