#include "train/Plots.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Error.h"

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

// A directory of our own for gnuplot's files, removed with them.
struct ScratchDir {
    std::string path;
    ScratchDir() {
        std::string pattern = (fs::temp_directory_path() / "cnnc-plot-XXXXXX").string();
        if (::mkdtemp(pattern.data())) path = pattern;
    }
    ~ScratchDir() {
        std::error_code ec;
        if (!path.empty()) fs::remove_all(path, ec);
    }
};

// Runs `gnuplot -c plot.gp TITLE` in `dir`, without a shell; true when it exits 0.
bool run_gnuplot(const std::string& dir, const std::string& title) {
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) ::dup2(null, 0), ::dup2(null, 1), ::dup2(null, 2);
        if (::chdir(dir.c_str()) != 0) ::_exit(127);
        ::execlp("gnuplot", "gnuplot", "-c", "plot.gp", title.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

std::vector<std::string> write_plots(const History& h, const std::string& stem, const std::string& title, StagedFiles& batch,
                                     std::string* why_not) {
    std::vector<std::string> written;
    if (h.epochs().empty()) return written;
    const std::vector<std::string> all = {stem + "_accuracy.png", stem + "_accuracy.svg", stem + "_loss.png", stem + "_loss.svg"};
    auto fail = [&](const std::string& why) {
        if (why_not) *why_not = why;
        for (const auto& f : all) batch.remove_at_commit(f);  // no stale plot beside the new history
        return std::vector<std::string>{};
    };
    ScratchDir scratch;
    if (scratch.path.empty()) return fail("no temporary directory for gnuplot");
    std::string acc = has(h, "accuracy") ? "accuracy" : has(h, "acc") ? "acc" : "";
    std::vector<std::pair<std::string, std::string>> figures = {{"loss", "loss"}};
    if (!acc.empty()) figures.insert(figures.begin(), {"accuracy", acc});
    std::vector<std::pair<std::string, std::string>> drawn;  // (target, contents)
    for (const auto& [what, metric] : figures) {
        bool val = has(h, "val_" + metric);
        {
            std::ofstream d(scratch.path + "/data");
            for (const auto& [e, m] : h.epochs()) {
                d << e << ' ' << value(m, metric);
                if (val) d << ' ' << value(m, "val_" + metric);
                d << '\n';
            }
        }
        for (const char* ext : {"png", "svg"}) {
            // Fixed names and no user text: the model's name arrives as ARG1. noenhanced: an
            // underscore in a name is a name, not a subscript.
            std::string script = std::string("set terminal ") + (ext[0] == 'p' ? "png size 800,500 noenhanced" : "svg size 800,500 noenhanced") +
                                 "\nset output 'plot'\nset title ARG1.': training" + (val ? " and validation " : " ") + what +
                                 "'\nset xlabel 'epoch'\nset ylabel '" + what + "'\nset grid\nset xtics 1\n"
                                 "plot 'data' using 1:2 with linespoints pt 7 title 'training " + what + "'" +
                                 (val ? ", '' using 1:3 with linespoints pt 5 title 'validation " + what + "'" : std::string()) + "\n";
            std::ofstream(scratch.path + "/plot.gp") << script;
            std::remove((scratch.path + "/plot").c_str());
            if (!run_gnuplot(scratch.path, title)) return fail("gnuplot failed or is not installed (apt-get install gnuplot-nox)");
            std::string image = read_file(scratch.path + "/plot");
            if (image.empty()) return fail("gnuplot wrote nothing (is the temporary directory full?)");
            drawn.emplace_back(stem + "_" + what + "." + ext, std::move(image));
        }
    }
    for (const auto& [target, image] : drawn) {
        batch.stage_contents(target, image);
        written.push_back(target);
    }
    if (acc.empty()) {  // an old accuracy plot would not belong to this history
        batch.remove_at_commit(all[0]);
        batch.remove_at_commit(all[1]);
    }
    return written;
}

}  // namespace cnnc::rt
