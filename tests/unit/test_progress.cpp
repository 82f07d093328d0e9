// The Keras 2 progress bar, character for character, and how ProgressBar draws it to a terminal
// and to a log.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <limits>

#include "train/Progress.h"

using namespace cnnc::rt;

namespace {

// Whatever a ProgressBar writes, captured in memory.
class Capture {
  public:
    Capture() : f_(open_memstream(&buf_, &len_)) { REQUIRE(f_); }
    ~Capture() {
        std::fclose(f_);
        std::free(buf_);
    }
    std::FILE* file() { return f_; }
    std::string text() {
        std::fflush(f_);
        return std::string(buf_, len_);
    }

  private:
    char* buf_ = nullptr;
    size_t len_ = 0;
    std::FILE* f_;
};

// The ETA field of a mid-epoch line of a 2-step epoch, where the ETA equals the elapsed time.
std::string eta(double seconds) {
    std::string line = progress_line(1, 2, seconds, {});
    return line.substr(line.find("ETA: ") + 5);
}

}  // namespace

TEST_CASE("Progress: Keras bar arithmetic over a 938-step MNIST epoch", "[progress]") {
    Metrics start = {{"loss", 2.302585}, {"accuracy", 0.109375}};
    CHECK(progress_line(1, 938, 0.004, start) ==
          "  1/938 [..............................] - ETA: 3s - loss: 2.3026 - accuracy: 0.1094");
    Metrics middle = {{"loss", 0.2634}, {"accuracy", 0.92}};
    CHECK(progress_line(469, 938, 1.876, middle) ==
          "469/938 [==============>...............] - ETA: 1s - loss: 0.2634 - accuracy: 0.9200");
    Metrics end = {{"loss", 0.0412}, {"accuracy", 0.9871}};
    CHECK(progress_line(938, 938, 4.2, end) ==
          "938/938 [==============================] - 4s 4ms/step - loss: 0.0412 - accuracy: 0.9871");
    // One step before the end: Keras' int(30 * 937/938) = 29, so one cell is still empty.
    CHECK(progress_line(937, 938, 4.2, {}) == "937/938 [============================>.] - ETA: 0s");
    // The bar starts filling at 30 * current / target >= 1.
    CHECK(progress_line(31, 938, 0.1, {}) == " 31/938 [..............................] - ETA: 2s");
    CHECK(progress_line(32, 938, 0.1, {}) == " 32/938 [>.............................] - ETA: 2s");
    CHECK(progress_line(1, 1, 0.5, {}) == "1/1 [==============================] - 0s 500ms/step");
    CHECK(progress_line(60000, 60000, 75.5, {{"loss", 0.0002}}) ==
          "60000/60000 [==============================] - 76s 1ms/step - loss: 2.0000e-04");
}

TEST_CASE("Progress: ETA formats", "[progress]") {
    CHECK(eta(0) == "0s");
    CHECK(eta(59.9) == "59s");
    CHECK(eta(60) == "60s");  // Keras switches only past 60 and past 3600
    CHECK(eta(60.5) == "1:00");
    CHECK(eta(125) == "2:05");
    CHECK(eta(3599) == "59:59");
    CHECK(eta(3600) == "60:00");
    CHECK(eta(3600.5) == "1:00:00");
    CHECK(eta(3725) == "1:02:05");
    CHECK(eta(90061) == "25:01:01");
    CHECK(progress_line(1, 2, 30, {}) == "1/2 [==============>...............] - ETA: 30s");
}

TEST_CASE("Progress: value formats", "[progress]") {
    CHECK(format_value(0.0412) == "0.0412");
    CHECK(format_value(0.0002) == "2.0000e-04");
    CHECK(format_value(0) == "0.0000e+00");
    CHECK(format_value(0.001) == "1.0000e-03");  // not above 1e-3
    CHECK(format_value(0.0011) == "0.0011");
    CHECK(format_value(-0.5) == "-0.5000");
    CHECK(format_value(-0.0005) == "-5.0000e-04");
    CHECK(format_value(2.302585) == "2.3026");
    CHECK(format_value(123.456789) == "123.4568");
    CHECK(format_value(1e300).size() == 306);  // 301 digits, '.', 4 decimals: nothing cut off
    CHECK(format_value(std::numeric_limits<double>::quiet_NaN()) == "nan");
    CHECK(format_value(std::numeric_limits<double>::infinity()) == "inf");
}

TEST_CASE("Progress: time per step formats", "[progress]") {
    CHECK(format_time_per_step(0) == "0s/step");
    CHECK(format_time_per_step(1) == "1s/step");
    CHECK(format_time_per_step(2.5) == "2s/step");  // ties to even, as Python's %-format
    CHECK(format_time_per_step(3.5) == "4s/step");
    CHECK(format_time_per_step(0.004) == "4ms/step");
    CHECK(format_time_per_step(0.001) == "1ms/step");
    CHECK(format_time_per_step(0.9996) == "1000ms/step");
    CHECK(format_time_per_step(0.0005) == "500us/step");
    CHECK(format_time_per_step(0.000067) == "67us/step");
}

TEST_CASE("ProgressBar: a terminal gets redraws in place, throttled to 50 ms", "[progress]") {
    Capture out;
    ProgressBar bar(4, true, out.file());
    std::string l1 = progress_line(1, 4, 0.0, {{"loss", 12.3456}});
    std::string l3 = progress_line(3, 4, 0.06, {{"loss", 0.5}});
    std::string l4 = progress_line(4, 4, 0.08, {{"loss", 0.25}});
    REQUIRE(l1 == "1/4 [======>.......................] - ETA: 0s - loss: 12.3456");
    REQUIRE(l3 == "3/4 [=====================>........] - ETA: 0s - loss: 0.5000");
    REQUIRE(l4 == "4/4 [==============================] - 0s 20ms/step - loss: 0.2500");

    bar.update(1, 0.0, {{"loss", 12.3456}});
    CHECK(out.text() == l1);
    bar.update(2, 0.03, {{"loss", 1.0}});  // 30 ms after the last draw: skipped
    CHECK(out.text() == l1);
    bar.update(3, 0.06, {{"loss", 0.5}});
    CHECK(out.text() == l1 + "\r" + l3 + " ");  // one space erases the longer line's last character
    bar.update(4, 0.08, {{"loss", 0.25}});  // only 20 ms later, but the last step always shows
    CHECK(out.text() == l1 + "\r" + l3 + " " + "\r" + l4);
    bar.finish(0.08, {{"loss", 0.25}});  // already on screen: just end the line
    CHECK(out.text() == l1 + "\r" + l3 + " " + "\r" + l4 + "\n");
}

TEST_CASE("ProgressBar: finish redraws when its numbers differ from the screen", "[progress]") {
    Capture out;
    ProgressBar bar(4, true, out.file());
    bar.update(1, 0.0, {});
    bar.update(4, 0.01, {{"loss", 0.25}});
    // Validation metrics arrive after the last step.
    bar.finish(0.5, {{"loss", 0.25}, {"val_loss", 0.3}});
    CHECK(out.text() == "1/4 [======>.......................] - ETA: 0s"
                        "\r4/4 [==============================] - 0s 2ms/step - loss: 0.2500"
                        "\r4/4 [==============================] - 0s 125ms/step - loss: 0.2500 - val_loss: 0.3000\n");
}

TEST_CASE("ProgressBar: a log gets one line per epoch", "[progress]") {
    Capture out;
    {
        ProgressBar bar(4, false, out.file());
        for (int step = 1; step <= 4; ++step) bar.update(step, step * 1.0, {{"loss", 1.0 / step}});
        CHECK(out.text().empty());
        bar.finish(4.0, {{"loss", 0.25}});
    }
    CHECK(out.text() == "4/4 [==============================] - 4s 1s/step - loss: 0.2500\n");
    {
        ProgressBar bar(4, false, out.file());  // a run stopped mid-epoch still ends its line
        bar.update(1, 1.0, {});
        bar.update(2, 2.0, {{"loss", 0.5}});
        bar.finish(2.0, {{"loss", 0.5}});
    }
    CHECK(out.text() == "4/4 [==============================] - 4s 1s/step - loss: 0.2500\n"
                        "2/4 [==============>...............] - ETA: 2s - loss: 0.5000\n");
}
