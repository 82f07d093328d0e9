#include "kernels/Tuner.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "Error.h"
#include "kernels/Jit.h"

namespace cnnc::engine {

TuneLevel parse_tune_level(const std::string& s) {
    if (s == "off") return TuneLevel::Off;
    if (s == "quick") return TuneLevel::Quick;
    if (s == "full") return TuneLevel::Full;
    throw std::invalid_argument("'" + s + "' is not off, quick or full");
}

const char* tune_level_name(TuneLevel l) { return l == TuneLevel::Off ? "off" : l == TuneLevel::Quick ? "quick" : "full"; }

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string cpuinfo_field(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (line.compare(0, name.size(), name) == 0) {
            auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string v = line.substr(colon + 1);
            v.erase(0, v.find_first_not_of(" \t"));
            return v;
        }
    return "";
}

// FNV-1a: a file name from the identity, the same in every build.
std::string slug(const std::string& s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return fmt::format("{:016x}", h);
}

std::string knobs_text(const Knobs& k) {
    if (k == Knobs{}) return "default";
    std::string key = k.apply(KernelSpec("k")).key();  // "k(s_vec=16,s_vecs=2)"
    return key.substr(2, key.size() - 3);
}

Knobs parse_knobs(const std::string& text) {
    if (text == "default") return {};
    KernelSpec s = KernelSpec::parse("k(" + text + ")");
    return Knobs::from(s);
}


double problem_bytes(const TuneProblem& p) {
    double floats = 0;
    for (const auto* list : {&p.inputs, &p.outputs})
        for (const auto& shape : *list) {
            double n = 1;
            for (int d : shape) n *= d;
            floats += n;
        }
    return 4 * floats;
}

}  // namespace

// Pseudo-random values in [-1, 1): no denormals, no NaN, the same every run.
void fill_for_timing(Buf& b, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    b.for_each_value([&](float& v) {
        x = x * 1664525u + 1013904223u;
        v = static_cast<float>(x >> 8) / static_cast<float>(1 << 23) - 1.0f;
    });
}

std::string cpu_identity(const Halide::Target& t) {
    std::ifstream f("/proc/cpuinfo");
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    std::string model = cpuinfo_field(text, "model name");
    if (model.empty()) model = "unknown CPU";
    std::string fam = cpuinfo_field(text, "cpu family"), mod = cpuinfo_field(text, "model\t");
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (const char* t = std::getenv("HL_NUM_THREADS"); t && std::atoi(t) > 0) threads = std::atoi(t);
    std::string id = model;
    if (!fam.empty()) id += " (family " + fam + " model " + mod + ")";
    return fmt::format("{}; {}; {} thread{}", id, t.to_string(), threads, threads == 1 ? "" : "s");
}

ScheduleBook::ScheduleBook(std::string dir, std::string identity) : identity_(std::move(identity)) {
    path_ = dir + "/schedules/" + slug(identity_) + ".tsv";
    // What a process killed while saving left behind (its temporary names its pid).
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir + "/schedules", ec)) {
        std::string name = e.path().filename().string();
        auto at = name.rfind(".tmp");
        if (at == std::string::npos || name.find_first_not_of("0123456789", at + 4) != std::string::npos || at + 4 == name.size()) continue;
        pid_t pid = static_cast<pid_t>(std::atol(name.c_str() + at + 4));
        if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) std::filesystem::remove(e.path(), ec);
    }
    std::ifstream in(path_);
    std::string line;
    if (!std::getline(in, line) || line != "# cnnc schedules for: " + identity_) return;  // another CPU's, or none
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> f;
        std::istringstream ls(line);
        for (std::string part; std::getline(ls, part, '\t');) f.push_back(part);
        if (f.size() != 6) continue;
        try {
            KernelSpec::parse(f[0]);
            Entry e{parse_knobs(f[1]), std::stod(f[2]), std::stod(f[3]), std::stoi(f[4]), parse_tune_level(f[5])};
            if (e.level == TuneLevel::Off) continue;
            entries_[f[0]] = e;
        } catch (const std::exception&) {
            // a damaged line: that kernel is measured again
        }
    }
}

const ScheduleBook::Entry* ScheduleBook::find(const std::string& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
}

bool ScheduleBook::writable() const {
    std::error_code ec;
    auto dir = std::filesystem::path(path_).parent_path();
    std::filesystem::create_directories(dir, ec);
    return std::filesystem::is_directory(dir, ec) && access(dir.c_str(), W_OK) == 0;
}

void ScheduleBook::save() {
    // What another process saved since this book was read (two runs tuning at once) is kept,
    // except where this one measured the same kernel.
    ScheduleBook now(std::filesystem::path(path_).parent_path().parent_path().string(), identity_);
    for (const auto& [key, e] : now.entries_) entries_.emplace(key, e);
    std::string out = "# cnnc schedules for: " + identity_ + "\n";
    out += "# kernel\tschedule\tdefault ms\tbest ms\tschedules tried\tsearch (written by cnnc's tuner, kernels/Tuner.h; delete to measure again)\n";
    for (const auto& [key, e] : entries_)
        out += fmt::format("{}\t{}\t{:.4f}\t{:.4f}\t{}\t{}\n", key, knobs_text(e.knobs), e.default_ms, e.best_ms, e.tried, tune_level_name(e.level));
    // Beside its final name, then renamed: a run killed mid-write, or two runs saving at once, leave
    // one whole book (the last renamed), never half of one.
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(fs::path(path_).parent_path(), ec);
    std::string tmp = fmt::format("{}.tmp{}", path_, getpid());
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << out;
        f.flush();
        if (!f) {
            fs::remove(tmp, ec);
            throw rt::UserError("cannot write the schedules file " + path_);
        }
    }
    if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
        fs::remove(tmp, ec);
        throw rt::UserError("cannot write the schedules file " + path_);
    }
}

std::string TuneReport::describe() const {
    if (unsaved) return fmt::format("schedules: not tuned, since {} cannot be written; the builders' defaults are used", book);
    if (tuned == 0) return fmt::format("schedules: {} kernel{} tuned for this CPU earlier ({} changed; {})", known, known == 1 ? "" : "s", changed, book);
    double gain = best_ms > 0 ? default_ms / best_ms : 1.0;
    return fmt::format("schedules: tuned {} kernel{} for this CPU in {:.1f} s ({} schedules compiled and timed): {} changed, "
                       "{:.2f} -> {:.2f} ms for one call of each ({:.2f}x); kept in {}",
                       tuned, tuned == 1 ? "" : "s", seconds, compiled, changed, default_ms, best_ms, gain, book);
}

std::map<std::string, KernelSpec> tune_kernels(const std::vector<KernelSpec>& specs, KernelCache& bench, const TuneOptions& o,
                                               TuneReport& report) {
    std::map<std::string, KernelSpec> chosen;
    if (o.level == TuneLevel::Off) return chosen;
    const double t0 = now_s();
    ScheduleBook book(o.dir, cpu_identity(o.target));
    report.book = book.path();

    struct Job {
        KernelSpec spec;
        TuneProblem problem;
    };
    std::vector<Job> jobs;
    std::set<std::string> measured;  // the keys timed now (a job whose default failed to run is not)
    std::vector<KernelSpec> compile = specs;  // with the candidates: one parallel compile of everything the run needs
    for (const auto& s : specs) {
        // Chosen by a search at least as thorough as this one: kept.
        if (const auto* e = book.find(s.key()); e && (e->level == TuneLevel::Full || o.level == TuneLevel::Quick)) continue;
        auto p = tune_problem(s, TuneRequest{o.batch, o.level, vector_unit(o.target)});
        // The buffers are allocated to time the kernel: a large batch of large images (a batch of
        // 512 at 180x180x32 is 2.6 GB a tensor) is timed at a smaller batch, which ranks the
        // schedules alike, rather than exhausting the memory.
        for (int b = o.batch; p && problem_bytes(*p) > o.max_bytes && b > 1;)
            b = std::max(1, b / 2), p = tune_problem(s, TuneRequest{b, o.level, vector_unit(o.target)});
        if (p && problem_bytes(*p) > o.max_bytes) continue;
        if (!p || p->candidates.size() < 2 || p->flops < o.min_mflop * 1e6 || !o.measure) continue;
        for (const Knobs& k : p->candidates) compile.push_back(k.apply(s));
        jobs.push_back({s, std::move(*p)});
    }
    // Measuring pays only when the choice can be kept: with a schedules directory that cannot be
    // written (a read-only or broken cache), every run would pay the search again.
    if (!jobs.empty() && !book.writable()) {
        report.unsaved = true;
        jobs.clear();
    }
    if (!jobs.empty()) {
        bench.prefetch(compile);  // every candidate at once, on every core
        for (auto& job : jobs) {
            const TuneProblem& p = job.problem;
            std::vector<Buf> in, out;
            uint32_t seed = 1;
            for (const auto& shape : p.inputs) in.emplace_back(shape), fill_for_timing(in.back(), seed++);
            for (const auto& shape : p.outputs) out.emplace_back(shape);
            // Each candidate once (JIT backends compile here), then rounds in turn, so a burst of
            // load on a shared machine falls on every candidate alike; the fastest call counts.
            std::vector<std::shared_ptr<Kernel>> kernels;
            std::vector<double> best;
            double first = 0;
            for (const Knobs& k : p.candidates) {
                try {
                    auto kernel = bench.get(k.apply(job.spec));
                    double a = now_s();
                    kernel->run(in, out, p.ints);
                    first += now_s() - a;
                    kernels.push_back(kernel);
                } catch (const std::exception&) {
                    kernels.push_back(nullptr);  // a schedule that does not compile or run here is not a candidate
                }
                best.push_back(1e30);
                ++report.compiled;
            }
            if (!kernels[0]) continue;
            const int max_rounds = o.level == TuneLevel::Full ? 9 : 5;
            const double budget = o.level == TuneLevel::Full ? 2.0 : 0.5;  // seconds of timing per kernel
            const int rounds = std::clamp(static_cast<int>(budget / std::max(first, 1e-6)), 2, max_rounds);
            for (int r = 0; r < rounds; ++r)
                for (size_t c = 0; c < kernels.size(); ++c) {
                    if (!kernels[c]) continue;
                    double a = now_s();
                    kernels[c]->run(in, out, p.ints);
                    best[c] = std::min(best[c], now_s() - a);
                }
            size_t win = 0;
            for (size_t c = 1; c < kernels.size(); ++c)
                if (best[c] < best[win]) win = c;
            // The default keeps its place unless beaten by more than timing noise on a shared machine.
            if (best[win] > 0.97 * best[0]) win = 0;
            book.put(job.spec.key(), {p.candidates[win], 1e3 * best[0], 1e3 * best[win], static_cast<int>(kernels.size()), o.level});
            measured.insert(job.spec.key());
            report.default_ms += 1e3 * best[0];
            report.best_ms += 1e3 * best[win];
            ++report.tuned;
        }
        try {
            book.save();
        } catch (const rt::UserError& e) {
            std::fprintf(stderr, "cnnc: warning: %s; the schedules chosen now are used by this run only\n", e.what());
        }
    }
    for (const auto& s : specs) {
        const ScheduleBook::Entry* e = book.find(s.key());
        if (!e) continue;
        if (!measured.count(s.key())) ++report.known;
        if (e->knobs == Knobs{}) continue;
        // The target's default (on AVX2 it has knobs of its own) is what the backend makes of the
        // plain spec anyway (fit_to_target): only a change is passed on.
        auto p = tune_problem(s, TuneRequest{o.batch, o.level, vector_unit(o.target)});
        if (p && !p->candidates.empty() && e->knobs == p->candidates.front()) continue;
        chosen.emplace(s.key(), e->knobs.apply(s));
        ++report.changed;
    }
    report.seconds = now_s() - t0;
    return chosen;
}

}  // namespace cnnc::engine
