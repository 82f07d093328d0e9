// The per-epoch progress bar, character for character as Keras 2 draws it, so logs from cnnc and
// from the Keras model it replaces can be compared line by line:
//   938/938 [==============================] - 4s 4ms/step - loss: 0.0412 - accuracy: 0.9871
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace cnnc::rt {

// Metric name and value, in the order they are shown.
using Metrics = std::vector<std::pair<std::string, double>>;

// Keras' metric format: "%.4f" when |v| > 1e-3, else "%.4e" (0.0002 -> "2.0000e-04", 0 -> "0.0000e+00").
std::string format_value(double v);

// "4s/step" (>= 1 s, or exactly 0), "4ms/step" (>= 1 ms), else "67us/step".
std::string format_time_per_step(double seconds_per_step);

// The whole line for step `current` of `target` (1-based), `elapsed_s` into the epoch: the bar, then
// " - ETA: 12s" while current < target, or " - 4s 4ms/step" at the end, then " - data 12%" when the
// steps waited for a streamed data source for at least 1% of the time (`data_wait`, 0..1; negative:
// not streamed), then " - name: value" per metric.
std::string progress_line(int64_t current, int64_t target, double elapsed_s, const Metrics& metrics, double data_wait = -1);

// The data-wait fraction below which the line and the history leave it out (docs/DATA.md).
inline constexpr double kShownDataWait = 0.01;

// Draws progress_line to `out`. Interactive (a terminal): redraws in place with '\r' at most every
// 50 ms of `elapsed_s`, and always on the last step. Not interactive (a log file, a pipe): draws
// nothing until finish(), so a log gets one line per epoch instead of hundreds.
class ProgressBar {
  public:
    ProgressBar(int64_t target, bool interactive, std::FILE* out);
    void update(int64_t current, double elapsed_s, const Metrics& m);
    // Draws the line for the last step passed to update() (normally `target`) with these final
    // numbers, and ends it with '\n'.
    void finish(double elapsed_s, const Metrics& m);
    // The fraction of the epoch so far spent waiting for data (negative: not shown).
    void data_wait(double fraction) { data_wait_ = fraction; }

  private:
    void draw(const std::string& line);

    int64_t target_;
    bool interactive_;
    std::FILE* out_;
    int64_t current_ = 0;
    bool drawn_ = false;          // something is on the current terminal line
    double last_draw_s_ = 0;      // elapsed_s of the last draw, for the 50 ms throttle
    std::string last_line_;       // what is on the terminal line now
    double data_wait_ = -1;
};

}  // namespace cnnc::rt
