// The exposition format, checked by parsing the rendered text back (a parser written from the
// format's description, independent of the renderer): HELP and TYPE, label escaping, histogram
// buckets cumulative with +Inf == _count, and exact counts under concurrent updates.
#include "idp/metrics/registry.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using idp::metrics::Registry;

struct ParsedSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Parsed {
  std::map<std::string, std::string> help, type;
  std::vector<ParsedSample> samples;

  const ParsedSample* Find(const std::string& name,
                           const std::map<std::string, std::string>& labels) const {
    for (const auto& s : samples) {
      if (s.name == name && s.labels == labels) return &s;
    }
    return nullptr;
  }
};

double ParseNumber(const std::string& s) {
  if (s == "+Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  if (s == "NaN") return NAN;
  std::size_t used = 0;
  double v = std::stod(s, &used);
  if (used != s.size()) throw std::runtime_error("bad number: " + s);
  return v;
}

// Text format 0.0.4: "# HELP name text", "# TYPE name type", and samples
// `name{l="v",...} value` with \\, \" and \n escaped inside label values.
Parsed Parse(const std::string& text) {
  Parsed p;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      auto rest = line.substr(7);
      auto sp = rest.find(' ');
      REQUIRE(sp != std::string::npos);
      (line[2] == 'H' ? p.help : p.type)[rest.substr(0, sp)] = rest.substr(sp + 1);
      continue;
    }
    REQUIRE(line[0] != '#');
    ParsedSample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') s.name += line[i++];
    if (line[i] == '{') {
      ++i;
      while (line[i] != '}') {
        std::string name;
        while (line[i] != '=') name += line[i++];
        ++i;
        REQUIRE(line[i] == '"');
        ++i;
        std::string value;
        while (line[i] != '"') {
          if (line[i] == '\\') {
            ++i;
            char c = line[i];
            REQUIRE((c == '\\' || c == '"' || c == 'n'));
            value += c == 'n' ? '\n' : c;
          } else {
            value += line[i];
          }
          ++i;
        }
        ++i;
        s.labels[name] = value;
        if (line[i] == ',') ++i;
      }
      ++i;
    }
    REQUIRE(line[i] == ' ');
    s.value = ParseNumber(line.substr(i + 1));
    p.samples.push_back(std::move(s));
  }
  return p;
}

}  // namespace

TEST_CASE("counters and gauges render with HELP and TYPE and parse back") {
  Registry r;
  auto& calls = r.AddCounter("idp_test_calls_total", "Calls made.", {"method", "code"});
  auto& depth = r.AddGauge("idp_test_depth", "Queue depth.");
  calls.WithLabels({"Get", "OK"}).Inc();
  calls.WithLabels({"Get", "OK"}).Inc(2);
  calls.WithLabels({"Put", "INTERNAL"}).Inc();
  depth.WithLabels({}).Set(7);
  depth.WithLabels({}).Dec(2.5);

  auto p = Parse(r.Render());
  CHECK(p.type["idp_test_calls_total"] == "counter");
  CHECK(p.help["idp_test_calls_total"] == "Calls made.");
  CHECK(p.type["idp_test_depth"] == "gauge");
  REQUIRE(p.Find("idp_test_calls_total", {{"method", "Get"}, {"code", "OK"}}));
  CHECK(p.Find("idp_test_calls_total", {{"method", "Get"}, {"code", "OK"}})->value == 3);
  CHECK(p.Find("idp_test_calls_total", {{"method", "Put"}, {"code", "INTERNAL"}})->value == 1);
  CHECK(p.Find("idp_test_depth", {})->value == 4.5);
  // Integers are written without a fraction.
  CHECK(r.Render().find("idp_test_calls_total{method=\"Get\",code=\"OK\"} 3\n") !=
        std::string::npos);
}

TEST_CASE("label values and help text are escaped") {
  Registry r;
  auto& c = r.AddCounter("idp_test_escape_total", "Help with a \\ and a\nnewline.", {"v"});
  const std::string nasty = "a\"b\\c\nd}e,f=g";
  c.WithLabels({nasty}).Inc();
  const std::string text = r.Render();
  CHECK(text.find("# HELP idp_test_escape_total Help with a \\\\ and a\\nnewline.\n") !=
        std::string::npos);
  CHECK(text.find(R"(idp_test_escape_total{v="a\"b\\c\nd}e,f=g"} 1)") != std::string::npos);
  auto p = Parse(text);
  REQUIRE(p.Find("idp_test_escape_total", {{"v", nasty}}));
}

TEST_CASE("histogram buckets are cumulative and +Inf equals _count") {
  Registry r;
  auto& h = r.AddHistogram("idp_test_seconds", "Latency.", {"route"}, {0.1, 0.5, 1});
  auto& s = h.WithLabels({"/token"});
  for (double v : {0.05, 0.1, 0.2, 0.7, 0.9, 3.0}) s.Observe(v);
  auto p = Parse(r.Render());
  CHECK(p.type["idp_test_seconds"] == "histogram");
  auto bucket = [&](const std::string& le) {
    auto* x = p.Find("idp_test_seconds_bucket", {{"route", "/token"}, {"le", le}});
    REQUIRE(x);
    return x->value;
  };
  CHECK(bucket("0.1") == 2);  // le is inclusive: 0.05 and 0.1
  CHECK(bucket("0.5") == 3);
  CHECK(bucket("1") == 5);
  CHECK(bucket("+Inf") == 6);
  CHECK(p.Find("idp_test_seconds_count", {{"route", "/token"}})->value == 6);
  CHECK(p.Find("idp_test_seconds_sum", {{"route", "/token"}})->value == Approx(4.95));
  // Buckets never decrease.
  double last = 0;
  for (const auto& sample : p.samples) {
    if (sample.name != "idp_test_seconds_bucket") continue;
    CHECK(sample.value >= last);
    last = sample.value;
  }
}

TEST_CASE("concurrent updates are all counted") {
  Registry r;
  auto& c = r.AddCounter("idp_test_concurrent_total", "n", {"t"}).WithLabels({"x"});
  auto& h = r.AddHistogram("idp_test_concurrent_seconds", "n", {}, {0.5}).WithLabels({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.Inc();
        h.Observe(i % 2 == 0 ? 0.1 : 1.0);
      }
    });
  }
  // Render while updating: every snapshot stays consistent (+Inf == _count).
  for (int i = 0; i < 50; ++i) {
    auto p = Parse(r.Render());
    auto* inf = p.Find("idp_test_concurrent_seconds_bucket", {{"le", "+Inf"}});
    auto* count = p.Find("idp_test_concurrent_seconds_count", {});
    if (inf && count) CHECK(inf->value == count->value);
  }
  for (auto& t : threads) t.join();
  auto p = Parse(r.Render());
  CHECK(p.Find("idp_test_concurrent_total", {{"t", "x"}})->value == 40000);
  CHECK(p.Find("idp_test_concurrent_seconds_bucket", {{"le", "0.5"}})->value == 20000);
  CHECK(p.Find("idp_test_concurrent_seconds_count", {})->value == 40000);
}

TEST_CASE("collectors run before rendering and text sources are appended") {
  Registry r;
  auto& g = r.AddGauge("idp_test_pool_in_use", "In use.", {"pool"});
  int calls = 0;
  r.OnCollect([&] { g.WithLabels({"pg"}).Set(++calls); });
  r.AddTextSource([] { return std::string("# TYPE idp_other gauge\nidp_other 1"); });
  auto p = Parse(r.Render());
  CHECK(p.Find("idp_test_pool_in_use", {{"pool", "pg"}})->value == 1);
  CHECK(p.Find("idp_other", {})->value == 1);
  CHECK(Parse(r.Render()).Find("idp_test_pool_in_use", {{"pool", "pg"}})->value == 2);
}

TEST_CASE("invalid names and duplicates are refused at registration") {
  Registry r;
  CHECK_THROWS_AS(r.AddCounter("1bad", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.AddCounter("bad-name", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.AddCounter("ok_total", "x", {"__reserved"}), std::invalid_argument);
  CHECK_THROWS_AS(r.AddCounter("ok_total", "x", {"a:b"}), std::invalid_argument);
  CHECK_THROWS_AS(r.AddCounter("ok_total", "x", {"a", "a"}), std::invalid_argument);
  CHECK_THROWS_AS(r.AddHistogram("h", "x", {"le"}, {1}), std::invalid_argument);
  CHECK_THROWS_AS(r.AddHistogram("h", "x", {}, {1, 1}), std::invalid_argument);
  r.AddHistogram("h", "x", {}, {1});
  CHECK_THROWS_AS(r.AddCounter("h_count", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.AddGauge("h", "x"), std::invalid_argument);
  auto& c = r.AddCounter("ok_total", "x", {"a"});
  CHECK_THROWS_AS(c.WithLabels({"1", "2"}), std::invalid_argument);
}

TEST_CASE("values are formatted as the format expects") {
  using idp::metrics::FormatValue;
  CHECK(FormatValue(0) == "0");
  CHECK(FormatValue(42) == "42");
  CHECK(FormatValue(0.25) == "0.25");
  CHECK(FormatValue(INFINITY) == "+Inf");
  CHECK(FormatValue(-INFINITY) == "-Inf");
  CHECK(FormatValue(NAN) == "NaN");
  CHECK(std::stod(FormatValue(1e-9)) == 1e-9);
}
