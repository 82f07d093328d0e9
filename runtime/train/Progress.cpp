#include "train/Progress.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <stdexcept>

namespace cnnc::rt {
namespace {

constexpr int64_t kBarWidth = 30;
constexpr double kRedrawInterval = 0.05;  // seconds between terminal redraws, as Keras

// printf rather than fmt for the numbers: Keras formats with Python's %-operator, whose rounding
// (correctly rounded, ties to even) glibc's printf shares, so "%.0f" of 2.5 is "2" in both.
[[gnu::format(printf, 1, 2)]] std::string printf_str(const char* format, ...) {
    char buf[128];
    va_list args;
    va_start(args, format);
    int n = std::vsnprintf(buf, sizeof buf, format, args);
    va_end(args);
    if (n < 0) return {};
    if (static_cast<size_t>(n) < sizeof buf) return std::string(buf, static_cast<size_t>(n));
    std::string big(static_cast<size_t>(n), '\0');  // "%.4f" of 1e300 is 300-odd digits
    va_start(args, format);
    std::vsnprintf(big.data(), big.size() + 1, format, args);
    va_end(args);
    return big;
}

// Keras: "%ds", "%d:%02d" past a minute, "%d:%02d:%02d" past an hour, each field truncated.
std::string format_eta(double eta) {
    if (!(eta >= 0)) eta = 0;  // NaN from a nonsense clock: show something rather than fail
    eta = std::min(eta, 1e12);
    auto s = static_cast<long long>(eta);
    if (eta > 3600) return printf_str("%lld:%02lld:%02lld", s / 3600, s % 3600 / 60, s % 60);
    if (eta > 60) return printf_str("%lld:%02lld", s / 60, s % 60);
    return printf_str("%llds", s);
}

}  // namespace

std::string format_value(double v) { return printf_str(std::abs(v) > 1e-3 ? "%.4f" : "%.4e", v); }

std::string format_time_per_step(double t) {
    if (t >= 1 || t == 0) return printf_str("%.0fs/step", t);
    if (t >= 1e-3) return printf_str("%.0fms/step", t * 1e3);
    return printf_str("%.0fus/step", t * 1e6);
}

std::string progress_line(int64_t current, int64_t target, double elapsed_s, const Metrics& metrics, double data_wait) {
    if (target < 1) throw std::logic_error("internal: progress bar with " + std::to_string(target) + " steps");
    current = std::clamp<int64_t>(current, 0, target);
    auto digits = static_cast<int>(std::to_string(target).size());
    std::string line = printf_str("%*lld/%lld [", digits, static_cast<long long>(current),
                                  static_cast<long long>(target));
    // Integer arithmetic gives the same widths as Keras' int(30 * (current / target)) in floating
    // point (checked for every target below 5000) without depending on rounding.
    int64_t filled = kBarWidth * current / target;
    if (filled > 0) {
        line.append(static_cast<size_t>(filled - 1), '=');
        line += current < target ? '>' : '=';
    }
    line.append(static_cast<size_t>(kBarWidth - filled), '.');
    line += ']';

    double per_step = current > 0 ? elapsed_s / static_cast<double>(current) : 0;
    if (current < target) {
        line += " - ETA: " + format_eta(per_step * static_cast<double>(target - current));
    } else {
        line += printf_str(" - %.0fs ", elapsed_s) + format_time_per_step(per_step);
    }
    if (data_wait >= kShownDataWait) line += printf_str(" - data %.0f%%", data_wait * 100);
    for (const auto& [name, value] : metrics) line += " - " + name + ": " + format_value(value);
    return line;
}

ProgressBar::ProgressBar(int64_t target, bool interactive, std::FILE* out)
    : target_(target), interactive_(interactive), out_(out) {}

void ProgressBar::update(int64_t current, double elapsed_s, const Metrics& m) {
    current_ = current;
    if (!interactive_) return;
    // Redrawing every step would cost more than a small model's step; the last step always shows.
    if (drawn_ && current < target_ && elapsed_s - last_draw_s_ < kRedrawInterval) return;
    draw(progress_line(current, target_, elapsed_s, m, data_wait_));
    last_draw_s_ = elapsed_s;
}

void ProgressBar::finish(double elapsed_s, const Metrics& m) {
    std::string line = progress_line(current_, target_, elapsed_s, m, data_wait_);
    if (!interactive_ || !drawn_ || line != last_line_) draw(line);
    std::fputc('\n', out_);
    std::fflush(out_);
    drawn_ = false;
    last_line_.clear();
}

void ProgressBar::draw(const std::string& line) {
    std::string text;
    if (drawn_) text += '\r';
    text += line;
    // '\r' only moves the cursor: blank out what a longer previous line leaves behind.
    if (last_line_.size() > line.size()) text.append(last_line_.size() - line.size(), ' ');
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
    drawn_ = true;
    last_line_ = line;
}

}  // namespace cnnc::rt
