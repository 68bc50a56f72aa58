#pragma once
// The sanitizer runtimes' default options for the confined processes (the
// worker and the store). Included by exactly one file of each: it defines the
// functions the runtimes look up by name, and only in sanitizer builds.

#if defined(PORTBROKER_UNDEFINED_SANITIZER)
// Sanitizer builds only (tests). UBSan reads its options when it first
// reports, long after this process was confined: /proc/self/environ is then
// unreadable and the terminal check (an ioctl) is forbidden. Its options are
// therefore compiled in: stop at the first finding, with its stack, uncoloured.
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1:color=never"; }
#endif
#if defined(__SANITIZE_ADDRESS__)
// No leak check at exit however this process was started (the supervisor
// also says so in ASAN_OPTIONS, which would override this): it runs under
// seccomp, and LeakSanitizer stops threads with ptrace from a cloned task,
// which the filter forbids, so the process died of SIGSYS at exit.
extern "C" const char* __asan_default_options() { return "detect_leaks=0:color=never"; }
#endif
