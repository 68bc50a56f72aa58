#pragma once
// What a fuzz target asserts besides "no crash": a property that must hold
// for every input (a round trip, a policy never looser than asked). A broken
// property aborts, which libFuzzer reports with the input that broke it.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)
