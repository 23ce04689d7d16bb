// Velocity-limit specs and the retry schedule.
#include "policy.hpp"

#include <catch2/catch.hpp>

using namespace idp::delivery;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("rate specs parse into windows") {
  auto r = ParseRateSpec("1/30s, 3/5m,10/1d");
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0] == RateWindow{1, seconds(30)});
  CHECK((*r)[1] == RateWindow{3, seconds(300)});
  CHECK((*r)[2] == RateWindow{10, seconds(86400)});
  CHECK(ParseRateSpec("").value().empty());
  CHECK(ParseRateSpec("100/1h").value()[0] == RateWindow{100, seconds(3600)});
}

TEST_CASE("bad rate specs are refused") {
  for (const char* s : {"1", "1/", "/30s", "0/30s", "1/0s", "1/30", "1/30x", "a/30s", "1/8d",
                        "-1/30s", "1/-3s"}) {
    INFO(s);
    CHECK_FALSE(ParseRateSpec(s).has_value());
  }
}

TEST_CASE("backoff doubles from base to cap with equal jitter") {
  BackoffPolicy p{milliseconds(1000), milliseconds(8000), 8};
  // jitter 0: half of each exponential step; jitter 1: the full step.
  CHECK(BackoffDelay(p, 1, 0.0) == milliseconds(500));
  CHECK(BackoffDelay(p, 2, 0.0) == milliseconds(1000));
  CHECK(BackoffDelay(p, 3, 0.0) == milliseconds(2000));
  CHECK(BackoffDelay(p, 4, 0.0) == milliseconds(4000));
  CHECK(BackoffDelay(p, 5, 0.0) == milliseconds(4000));  // capped
  CHECK(BackoffDelay(p, 1, 1.0) == milliseconds(1000));
  CHECK(BackoffDelay(p, 3, 1.0) == milliseconds(4000));
  CHECK(BackoffDelay(p, 9, 1.0) == milliseconds(8000));
  CHECK(BackoffDelay(p, 2, 0.5) == milliseconds(1500));
}

TEST_CASE("backoff stays within bounds for any jitter and large attempts") {
  BackoffPolicy p{milliseconds(2000), milliseconds(300000), 8};
  for (int attempt = 1; attempt < 200; attempt += 7) {
    for (double j : {-1.0, 0.0, 0.3, 1.0, 5.0}) {
      const auto d = BackoffDelay(p, attempt, j);
      CHECK(d >= milliseconds(1000));
      CHECK(d <= milliseconds(300000));
    }
  }
}

TEST_CASE("the last attempt is the max_attempts-th") {
  BackoffPolicy p;
  p.max_attempts = 3;
  CHECK_FALSE(IsLastAttempt(p, 1));
  CHECK_FALSE(IsLastAttempt(p, 2));
  CHECK(IsLastAttempt(p, 3));
  CHECK(IsLastAttempt(p, 4));
}
