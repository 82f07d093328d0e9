// Shell completion, read off the CLI11 definition: `cnnc __complete WORDS...` prints what the last
// word may become, one per line, and scripts/cnnc.bash-completion hands that to bash (an empty
// answer lets bash complete file names). So a new command or option completes with no edit here.
#include <algorithm>

#include "app/Cli.h"

namespace cnnc::app {

namespace {

bool is_option(const std::string& w) { return w.size() > 1 && w[0] == '-'; }

const CLI::Option* find_option(const CLI::App& app, const std::string& word) {
    std::string bare = word.substr(0, word.find('='));
    for (const CLI::Option* o : app.get_options())
        if (o->nonpositional() && o->check_name(bare)) return o;
    return nullptr;
}

}  // namespace

std::vector<std::string> Cli::complete(const std::vector<std::string>& words) const {
    const std::string cur = words.empty() ? std::string() : words.back();
    const CLI::App* cmd = nullptr;
    const CLI::Option* pending = nullptr;  // an option whose value is the word being completed
    std::string model_file = file;
    size_t positional = 0;
    for (size_t i = 0; i + 1 < words.size(); ++i) {
        const std::string& w = words[i];
        if (pending) {
            pending = nullptr;
            continue;
        }
        if (is_option(w)) {
            const CLI::Option* o = cmd ? find_option(*cmd, w) : nullptr;
            if (!o) o = find_option(app_, w);
            if (o && o->get_expected_min() > 0 && w.find('=') == std::string::npos) pending = o;
            continue;
        }
        if (!cmd) {
            for (const CLI::App* c : commands())
                if (c->get_name() == w) cmd = c;
            continue;
        }
        if (w.size() > 4 && w.compare(w.size() - 4, 4, ".cnn") == 0) model_file = w;
        ++positional;
    }
    std::vector<std::string> out;
    if (pending) {
        if (auto it = candidates_.find(pending); it != candidates_.end()) out = it->second(model_file);
    } else if (is_option(cur) || (cur == "-")) {
        for (const CLI::App* a : {cmd, static_cast<const CLI::App*>(&app_)}) {
            if (!a) continue;
            for (const CLI::Option* o : a->get_options())
                for (const auto& n : o->get_lnames()) out.push_back("--" + n);
        }
    } else if (!cmd) {
        for (const CLI::App* c : commands()) out.push_back(c->get_name());
    } else {
        // The command's positional arguments in order; the last one takes every further word.
        std::vector<const CLI::Option*> pos = cmd->get_options([](const CLI::Option* o) { return o->get_positional(); });
        if (!pos.empty()) {
            const CLI::Option* p = pos[std::min(positional, pos.size() - 1)];
            if (auto it = candidates_.find(p); it != candidates_.end()) out = it->second(model_file);
        }
    }
    out.erase(std::remove_if(out.begin(), out.end(), [&](const std::string& s) { return s.compare(0, cur.size(), cur) != 0; }),
              out.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace cnnc::app
