// The man page, in roff, made from the CLI11 definition that --help prints: the same commands,
// options and texts, so the two cannot disagree (tests/unit/test_cli.cpp compares them, and
// docs/cnnc.1 is this output, checked in for installing and reading).
#include <fmt/format.h>

#include "app/Cli.h"

namespace cnnc::app {

namespace {

// Text as roff shows it literally: backslashes and hyphens escaped, no line read as a request.
std::string roff(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '-') out += "\\-";
        else out += c;
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
    return out;
}

// A command's own options; its -h,--help is said once, under the program's options.
std::string options_section(const CLI::App& app, bool with_help) {
    std::string out;
    for (const CLI::Option* o : app.get_options([](const CLI::Option* o) { return o->nonpositional(); })) {
        if (!with_help && o->check_lname("help")) continue;
        out += ".TP\n\\fB" + roff(o->get_name(false, true)) + "\\fR";
        if (o->get_expected_min() > 0) out += " \\fI" + roff(o->get_type_name()) + "\\fR";
        out += "\n" + roff(o->get_description()) + "\n";
    }
    return out;
}

std::string usage(const CLI::App& cmd) {
    std::string out;
    for (const CLI::Option* p : cmd.get_options([](const CLI::Option* o) { return o->get_positional(); })) {
        std::string name = p->get_name() + (p->get_items_expected_max() > 1 ? "..." : "");
        out += p->get_required() ? " " + name : " [" + name + "]";
    }
    return out;
}

}  // namespace

std::string Cli::manual() const {
    std::string desc = app_.get_description();
    if (desc.rfind(program_ + ": ", 0) == 0) desc = desc.substr(program_.size() + 2);
    std::string m = fmt::format(".TH {} 1 \"\" \"{}\" \"User Commands\"\n", roff(program_), roff(version_));
    m += ".SH NAME\n" + roff(program_) + " \\- " + roff(desc) + "\n";
    m += ".SH SYNOPSIS\n\\fB" + roff(program_) + "\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGUMENTS\\fR] [\\fIOPTIONS\\fR]\n";
    m += ".SH OPTIONS\n" + options_section(app_, true);
    m += ".SH COMMANDS\n";
    for (const CLI::App* c : commands()) {
        m += ".SS \"" + roff(c->get_name() + usage(*c)) + "\"\n" + roff(c->get_description()) + "\n";
        m += options_section(*c, false);
    }
    m += ".SH EXIT STATUS\n";
    std::string codes = kExitCodes;
    for (size_t at = 0; at <= codes.size();) {
        size_t end = codes.find("; ", at);
        if (end == std::string::npos) end = codes.size();
        m += ".TP\n" + roff(codes.substr(at, end - at)) + "\n";
        at = end + 2;
    }
    m += ".SH ENVIRONMENT\n";
    for (const auto& e : env_) m += ".TP\n\\fB" + roff(e.name) + "\\fR\n" + roff(e.meaning) + "\n";
    m += ".SH SEE ALSO\nThe language: docs/LANGUAGE.md; the README of the cnnc sources.\n";
    return m;
}

}  // namespace cnnc::app
