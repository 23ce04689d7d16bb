#pragma once
/// @file FUZZ_CHECK: an invariant of a fuzz target. A failure prints the condition and aborts,
/// which libFuzzer reports as a crash and saves the input (crash-<sha1>).

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (false)

namespace idp::fuzz {

/// The fuzzer's bytes as text.
inline std::string_view AsText(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace idp::fuzz
