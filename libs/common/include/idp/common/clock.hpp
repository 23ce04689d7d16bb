#pragma once
/// @file Time as a dependency, so that service logic can be tested with a fake clock.

#include <chrono>
#include <cstdint>

namespace idp {

/// Wall-clock time source. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
  /// Seconds since the Unix epoch.
  std::int64_t NowUnix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(Now().time_since_epoch()).count();
  }
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

/// A clock that moves only when told to (tests).
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t unix_seconds)
      : now_(std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds))) {}
  std::chrono::system_clock::time_point Now() const override { return now_; }
  void Advance(std::chrono::seconds d) { now_ += d; }

 private:
  std::chrono::system_clock::time_point now_;
};

}  // namespace idp
