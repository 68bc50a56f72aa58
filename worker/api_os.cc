#include "worker/api_os.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <js/Array.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "worker/js_util.h"
#include "worker/runtime.h"

namespace worker {
namespace {

// A small file of /sys or /proc (read-only, as the sandbox allows), or "".
std::string read_small_file(const char* path) {
  common::UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return {};
  char buffer[4096];
  ssize_t n = read(fd.get(), buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

bool set_string_element(JSContext* cx, JS::HandleObject array, uint32_t index, const std::string& text) {
  JS::RootedString string(cx, new_string_from_utf8(cx, text));
  return string && JS_SetElement(cx, array, index, string);
}

// osUname() → [sysname, nodename, release, version, machine]. The nodename is
// the sandbox's ("portbroker", its own UTS namespace).
bool os_uname(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  struct utsname names {};
  if (uname(&names) != 0) return throw_type_error(cx, "uname failed");
  JS::RootedObject array(cx, JS::NewArrayObject(cx, 5));
  if (!array) return false;
  const char* fields[] = {names.sysname, names.nodename, names.release, names.version, names.machine};
  for (uint32_t i = 0; i < 5; ++i) {
    if (!set_string_element(cx, array, i, fields[i])) return false;
  }
  args.rval().setObject(*array);
  return true;
}

// The processor's brand string, as /proc/cpuinfo's "model name" shows it
// (which the sandbox does not have); "unknown" elsewhere.
std::string cpu_model() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned int registers[12] = {};
  unsigned int highest = __get_cpuid_max(0x80000000, nullptr);
  if (highest >= 0x80000004) {
    for (unsigned int leaf = 0; leaf < 3; ++leaf) {
      __get_cpuid(0x80000002 + leaf, &registers[leaf * 4], &registers[leaf * 4 + 1], &registers[leaf * 4 + 2],
                  &registers[leaf * 4 + 3]);
    }
    std::string model(reinterpret_cast<const char*>(registers), sizeof registers);
    model.resize(model.find('\0') == std::string::npos ? model.size() : model.find('\0'));
    size_t first = model.find_first_not_of(' ');
    size_t last = model.find_last_not_of(' ');
    if (first != std::string::npos) return model.substr(first, last - first + 1);
  }
#endif
  return "unknown";
}

// The CPUs listed in /sys/devices/system/cpu/online ("0-3,6"), in order.
std::vector<int> online_cpus() {
  std::vector<int> cpus;
  std::string list = read_small_file("/sys/devices/system/cpu/online");
  size_t pos = 0;
  while (pos < list.size()) {
    int first = 0;
    int last = 0;
    int consumed = 0;
    if (std::sscanf(list.c_str() + pos, "%d-%d%n", &first, &last, &consumed) == 2 ||
        std::sscanf(list.c_str() + pos, "%d%n", &first, &consumed) == 1) {
      if (consumed == 0 || last < first) last = first;
      for (int cpu = first; cpu <= last && cpus.size() < 4096; ++cpu) cpus.push_back(cpu);
    } else {
      break;
    }
    pos += static_cast<size_t>(consumed);
    if (pos < list.size() && list[pos] == ',') ++pos;
    if (pos < list.size() && list[pos] == '\n') break;
  }
  return cpus;
}

// osCpus() → [model, speedMHz...]: one speed per online CPU, from cpufreq
// where the kernel offers it, else 0.
bool os_cpus(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::vector<int> cpus = online_cpus();
  JS::RootedObject array(cx, JS::NewArrayObject(cx, cpus.size() + 1));
  if (!array || !set_string_element(cx, array, 0, cpu_model())) return false;
  for (size_t i = 0; i < cpus.size(); ++i) {
    std::string path = "/sys/devices/system/cpu/cpu" + std::to_string(cpus[i]) + "/cpufreq/scaling_cur_freq";
    std::string khz = read_small_file(path.c_str());
    double mhz = khz.empty() ? 0 : static_cast<double>(std::strtoll(khz.c_str(), nullptr, 10) / 1000);
    if (!JS_SetElement(cx, array, static_cast<uint32_t>(i + 1), mhz)) return false;
  }
  args.rval().setObject(*array);
  return true;
}

// osParallelism() → the CPUs this worker may run on.
bool os_parallelism(JSContext*, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  cpu_set_t set;
  CPU_ZERO(&set);
  int count = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  args.rval().setInt32(count > 0 ? count : 1);
  return true;
}

// osMemory() → [limit, resident]: the worker's memory limit in bytes (0 when
// it has none) and its resident memory now.
bool os_memory(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  double resident = 0;
  std::string statm = read_small_file("/proc/self/statm");
  unsigned long long size_pages = 0;
  unsigned long long resident_pages = 0;
  if (std::sscanf(statm.c_str(), "%llu %llu", &size_pages, &resident_pages) == 2) {
    resident = static_cast<double>(resident_pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
  }
  JS::RootedObject array(cx, JS::NewArrayObject(cx, 2));
  if (!array || !JS_SetElement(cx, array, 0, static_cast<double>(Runtime::from(cx).init().memory_bytes)) ||
      !JS_SetElement(cx, array, 1, resident)) {
    return false;
  }
  args.rval().setObject(*array);
  return true;
}

// osIds() → [uid, gid] of the worker.
bool os_ids(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JS::RootedObject array(cx, JS::NewArrayObject(cx, 2));
  if (!array || !JS_SetElement(cx, array, 0, static_cast<double>(getuid())) ||
      !JS_SetElement(cx, array, 1, static_cast<double>(getgid()))) {
    return false;
  }
  args.rval().setObject(*array);
  return true;
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("osUname", os_uname, 0, 0),
    JS_FN("osCpus", os_cpus, 0, 0),
    JS_FN("osParallelism", os_parallelism, 0, 0),
    JS_FN("osMemory", os_memory, 0, 0),
    JS_FN("osIds", os_ids, 0, 0),
    JS_FS_END,
};

}  // namespace

bool install_os_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
