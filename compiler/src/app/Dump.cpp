#include "app/Dump.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "Error.h"
#include "app/Commands.h"
#include "engine/KernelList.h"
#include "sema/ProgramDump.h"
#include "syntax/AstDump.h"

namespace cnnc::app {

static const std::map<std::string, Stage>& stages() {
    static const std::map<std::string, Stage> s = {{"ast", Stage::Ast}, {"program", Stage::Program}, {"kernels", Stage::Kernels}};
    return s;
}

void add_dump_args(Cli& cli, CLI::App* cmd, DumpFlags& f) {
    auto* stage = cmd->add_option("stage", f.stage, "ast, program or kernels")->required()->transform(CLI::CheckedTransformer(stages()));
    cli.candidates(stage, [](const std::string&) {
        std::vector<std::string> names;
        for (const auto& [name, s] : stages()) names.push_back(name);
        return names;
    });
    cmd->add_option("file", f.file, ".cnn file")->required();
}

int dump(const DumpFlags& f, const FrontendOptions& o) {
    auto c = compile_file(f.file, o);
    if (int rc = report(*c)) return rc;
    std::string out;
    switch (f.stage) {
        case Stage::Ast:
            // Each file by its name alone: an import's full path differs from one machine to the next.
            for (const auto& file : c->files)
                out += dump_ast(file, std::filesystem::path(c->sources.file(file.file_id).path).filename().string());
            break;
        case Stage::Program: out = dump_program(c->program); break;
        case Stage::Kernels:
            try {
                out = engine::dump_kernels(*c, f.file);
            } catch (const rt::UserError& e) {
                fmt::print(stderr, "{}: error: {}\n", f.file, e.what());
                return 1;
            }
            break;
    }
    std::fputs(out.c_str(), stdout);
    return 0;
}

}  // namespace cnnc::app
