#include "train/Plots.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace cnnc::rt {

namespace {

bool has(const History& h, const std::string& name) {
    for (const auto& [e, m] : h.epochs())
        for (const auto& [k, v] : m)
            if (k == name) return true;
    return false;
}

double value(const Metrics& m, const std::string& name) {
    for (const auto& [k, v] : m)
        if (k == name) return v;
    return NAN;
}

}  // namespace

std::vector<std::string> write_plots(const History& h, const std::string& stem, const std::string& title, std::string* why_not) {
    std::vector<std::string> written;
    if (h.epochs().empty()) return written;
    if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
        if (why_not) *why_not = "gnuplot is not installed (apt-get install gnuplot-nox)";
        return written;
    }
    std::string acc = has(h, "accuracy") ? "accuracy" : has(h, "acc") ? "acc" : "";
    std::vector<std::pair<std::string, std::string>> figures = {{"loss", "loss"}};
    if (!acc.empty()) figures.insert(figures.begin(), {"accuracy", acc});
    std::string data = stem + ".plotdata.tmp";
    for (const auto& [what, metric] : figures) {
        bool val = has(h, "val_" + metric);
        {
            std::ofstream d(data);
            for (const auto& [e, m] : h.epochs()) {
                d << e << ' ' << value(m, metric);
                if (val) d << ' ' << value(m, "val_" + metric);
                d << '\n';
            }
        }
        for (const char* ext : {"png", "svg"}) {
            std::string out = stem + "_" + what + "." + ext;
            // noenhanced: an underscore in a model's name is a name, not a subscript.
            std::string script = std::string("set terminal ") + (ext[0] == 'p' ? "png size 800,500 noenhanced" : "svg size 800,500 noenhanced") +
                                 "\nset output '" + out + "'\nset title '" + title + ": training" + (val ? " and validation " : " ") + what +
                                 "'\nset xlabel 'epoch'\nset ylabel '" + what + "'\nset grid\nset xtics 1\n"
                                 "plot '" + data + "' using 1:2 with linespoints pt 7 title 'training " + what + "'" +
                                 (val ? ", '' using 1:3 with linespoints pt 5 title 'validation " + what + "'" : std::string()) + "\n";
            FILE* g = popen("gnuplot 2>/dev/null", "w");
            if (!g) continue;
            std::fputs(script.c_str(), g);
            if (pclose(g) == 0 && fs::exists(out)) written.push_back(out);
        }
    }
    std::remove(data.c_str());
    if (written.empty() && why_not) *why_not = "gnuplot failed";
    return written;
}

}  // namespace cnnc::rt
