// libFuzzer target: any byte string through the whole front end (parse, resolve, shape-check), the
// summary renderer and the `cnnc dump` printers of the AST and of a checked program. The property under test: no crash, no hang, no sanitizer report, whatever
// the input. Built with -DCNNC_FUZZ=ON and clang; scripts/fuzz runs it on the seed corpus.
#include <cstddef>
#include <cstdint>
#include <string>

#include "frontend/Frontend.h"
#include "sema/ProgramDump.h"
#include "summary/Summary.h"
#include "syntax/AstDump.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    cnnc::FrontendOptions o;
    o.import_dirs = {CNNC_ROOT "/stdlib"};
    auto c = cnnc::compile_text(text, "fuzz.cnn", o);
    std::string rendered = c->diags.render();
    for (const auto& m : c->program.models) {
        cnnc::SummaryOptions so;
        so.expand = true;
        so.flops = true;
        rendered += cnnc::render_summary(m, so);
    }
    for (const auto& f : c->files) rendered += cnnc::dump_ast(f, "fuzz.cnn");
    if (c->ok()) rendered += cnnc::dump_program(c->program);  // as `cnnc dump program`: clean files only
    return 0;
}
