#include "app/Graph.h"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "Error.h"
#include "app/Commands.h"
#include "io/AtomicFile.h"
#include "summary/Graph.h"

extern char** environ;

namespace cnnc::app {

namespace {

struct GraphFlags {
    std::string model, output;
};

// The DOT text in a temporary file that is removed however the command ends.
class TempDot {
  public:
    explicit TempDot(const std::string& text) {
        std::string pattern = (std::filesystem::temp_directory_path() / "cnnc-graph-XXXXXX").string();
        int fd = mkstemp(pattern.data());
        if (fd < 0) throw rt::UserError(fmt::format("cannot create a temporary file for Graphviz: {}", std::strerror(errno)));
        path_ = pattern;
        bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
        ok = ::close(fd) == 0 && ok;
        if (!ok) throw rt::UserError(fmt::format("cannot write the temporary file '{}' for Graphviz", path_));
    }
    ~TempDot() {
        if (!path_.empty()) std::remove(path_.c_str());
    }
    TempDot(const TempDot&) = delete;
    TempDot& operator=(const TempDot&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// `dot -T<format> -o <temporary> <dot file>`, then the temporary renamed over `output`. dot's own
// messages go to the user's stderr as they come.
void run_dot(const std::string& text, const std::string& format, const std::string& output) {
    TempDot in(text);
    rt::StagedFiles staged;
    std::string out = staged.stage(output);
    std::string tformat = "-T" + format;
    std::vector<char*> argv = {const_cast<char*>("dot"), tformat.data(), const_cast<char*>("-o"), out.data(),
                               const_cast<char*>(in.path().c_str()), nullptr};
    pid_t pid = 0;
    int err = posix_spawnp(&pid, "dot", nullptr, nullptr, argv.data(), environ);
    if (err == ENOENT)
        throw rt::UserError(fmt::format("cannot write '{}': Graphviz's `dot` program is not on the PATH; install Graphviz "
                                        "(Debian: apt-get install graphviz), or write a .dot file and draw it elsewhere",
                                        output));
    if (err) throw rt::UserError(fmt::format("cannot run Graphviz's `dot` for '{}': {}", output, std::strerror(err)));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) throw rt::UserError(fmt::format("lost Graphviz's `dot` writing '{}': {}", output, std::strerror(errno)));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw rt::UserError(fmt::format("Graphviz's `dot` failed ({} {}) writing '{}'", WIFEXITED(status) ? "exit status" : "signal",
                                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), output));
    staged.commit();
}

// The model to draw: --model's, else the one the file trains first, else its only one.
const Model* chosen(const Compilation& c, const std::string& file, const std::string& name) {
    const Program& p = c.program;
    if (!name.empty()) {
        if (const Model* m = p.model(name)) return m;
        print_no_model(c, file, name);
        return nullptr;
    }
    if (!p.trains.empty()) return p.model(p.trains.front().model);
    if (p.models.size() == 1) return &p.models.front();
    if (p.models.empty())
        fmt::print(stderr, "{}: error: no models in this file\n", file);
    else
        fmt::print(stderr, "{}: error: the file has several models and trains none: say which with --model\n", file);
    return nullptr;
}

}  // namespace

void add_graph_command(Cli& cli, Models& models) {
    auto f = std::make_shared<GraphFlags>();
    auto* graph = cli.command("graph", "draw a model with Graphviz, as Keras' plot_model does: .svg, .png, or the .dot text", [&cli, &models, f] {
        std::string ext = std::filesystem::path(f->output).extension().string();
        if (ext != ".svg" && ext != ".png" && ext != ".dot") {
            fmt::print(stderr, "{0}: error: -o '{1}' must end in .svg, .png or .dot\nRun '{0} help graph' for its options.\n", cli.program(), f->output);
            return 2;
        }
        auto c = models.compile(DataPathCheck::None);
        if (int rc = report(*c)) return rc;
        const Model* m = chosen(*c, cli.file, f->model);
        if (!m) return 1;
        std::string text = model_dot(*m);
        if (ext == ".dot")
            rt::write_file_atomically(f->output, text);
        else
            run_dot(text, ext.substr(1), f->output);
        return 0;
    });
    models.add_args(graph, false);
    graph->add_option("-m,--model", f->model, "the model (default: the one the file trains, or its only one)");
    graph->add_option("-o,--output", f->output, "the drawing: .svg or .png (through Graphviz's dot), or .dot (Graphviz's text)")->required();
    cli.candidates(graph->get_option("--model"), model_names(cli, models));
}

}  // namespace cnnc::app
