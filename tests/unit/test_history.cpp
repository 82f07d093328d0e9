// History's CSV, exact to the byte, and writing it to a real file.
#include <catch2/catch.hpp>

#include "TempDir.h"
#include "train/History.h"

using namespace cnnc::rt;
using cnnc::test::read_bytes;
using cnnc::test::TempDir;

TEST_CASE("History: CSV with one row per epoch", "[history]") {
    History h;
    CHECK(h.csv() == "epoch\n");
    h.add(1, {{"loss", 0.2634}, {"accuracy", 0.92}});
    h.add(2, {{"loss", 0.0412}, {"accuracy", 0.9871}});
    REQUIRE(h.epochs().size() == 2);
    CHECK(h.epochs()[1].first == 2);
    CHECK(h.epochs()[1].second == Metrics{{"loss", 0.0412}, {"accuracy", 0.9871}});
    CHECK(h.csv() == "epoch,loss,accuracy\n"
                     "1,0.2634,0.92\n"
                     "2,0.0412,0.9871\n");
}

TEST_CASE("History: values round-trip exactly", "[history]") {
    History h;
    h.add(1, {{"loss", 0.1 + 0.2}, {"accuracy", 1.0}, {"lr", 1e-7}, {"big", 123456789.125}, {"neg", -2.5}});
    CHECK(h.csv() == "epoch,loss,accuracy,lr,big,neg\n"
                     "1,0.30000000000000004,1,1e-07,123456789.125,-2.5\n");
    // Every value reads back as the same double.
    std::string row = h.csv().substr(h.csv().find('\n') + 1);
    CHECK(std::stod(row.substr(2)) == 0.1 + 0.2);
}

TEST_CASE("History: metrics missing from an epoch are empty cells, columns in first-seen order", "[history]") {
    History h;
    h.add(1, {{"loss", 0.5}, {"accuracy", 0.75}});
    h.add(2, {{"loss", 0.25}, {"accuracy", 0.875}, {"val_loss", 0.375}, {"val_accuracy", 0.8}});
    h.add(3, {{"accuracy", 0.9}, {"loss", 0.125}});  // another order: the columns stay put
    CHECK(h.csv() == "epoch,loss,accuracy,val_loss,val_accuracy\n"
                     "1,0.5,0.75,,\n"
                     "2,0.25,0.875,0.375,0.8\n"
                     "3,0.125,0.9,,\n");
}

TEST_CASE("History: names that need CSV quoting", "[history]") {
    History h;
    h.add(1, {{"top,5", 0.5}, {"say \"hi\"", 1.5}});
    CHECK(h.csv() == "epoch,\"top,5\",\"say \"\"hi\"\"\"\n1,0.5,1.5\n");
}

TEST_CASE("History: write_csv writes the file, creating its directory", "[history]") {
    TempDir dir;
    History h;
    h.add(1, {{"loss", 0.5}});
    h.write_csv(dir / "run/history.csv");
    CHECK(read_bytes(dir / "run/history.csv") == "epoch,loss\n1,0.5\n");
    h.add(2, {{"loss", 0.25}});
    h.write_csv(dir / "run/history.csv");  // rewritten whole after each epoch
    CHECK(read_bytes(dir / "run/history.csv") == "epoch,loss\n1,0.5\n2,0.25\n");
    CHECK(dir.entries() == std::vector<std::string>{"run"});
}
