#include "worker/engine_build_id.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <jsapi.h>
#include <js/BuildId.h>

#include <cstdint>
#include <cstring>

namespace worker {
namespace {

struct Search {
  const void* base = nullptr;  // where the engine's library is mapped
  std::string hex;
};

// The NT_GNU_BUILD_ID note among the object's PT_NOTE segments, in hex.
int find_build_id(dl_phdr_info* object, size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  ElfW(Addr) lowest = ~ElfW(Addr){0};
  for (int i = 0; i < object->dlpi_phnum; ++i) {
    if (object->dlpi_phdr[i].p_type == PT_LOAD && object->dlpi_phdr[i].p_vaddr < lowest) {
      lowest = object->dlpi_phdr[i].p_vaddr;
    }
  }
  if (reinterpret_cast<const void*>(object->dlpi_addr + lowest) != search->base) return 0;
  for (int i = 0; i < object->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = object->dlpi_phdr[i];
    if (segment.p_type != PT_NOTE) continue;
    const auto* note = reinterpret_cast<const uint8_t*>(object->dlpi_addr + segment.p_vaddr);
    const uint8_t* end = note + segment.p_memsz;
    while (note + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) header;
      std::memcpy(&header, note, sizeof header);
      const uint8_t* name = note + sizeof header;
      const uint8_t* desc = name + ((header.n_namesz + 3) & ~3u);
      const uint8_t* next = desc + ((header.n_descsz + 3) & ~3u);
      if (next > end) break;
      if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        static const char kDigits[] = "0123456789abcdef";
        for (uint32_t j = 0; j < header.n_descsz; ++j) {
          search->hex += kDigits[desc[j] >> 4];
          search->hex += kDigits[desc[j] & 15];
        }
        return 1;
      }
      note = next;
    }
  }
  return 1;  // the right object, without a note
}

bool append_build_id(JS::BuildIdCharVector* out) {
  const std::string& id = engine_build_id();
  return out->append(id.data(), id.size());
}

}  // namespace

const std::string& engine_build_id() {
  static const std::string id = [] {
    std::string text = JS_GetImplementationVersion();
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&JS_NewContext), &info) != 0 && info.dli_fbase != nullptr) {
      Search search{info.dli_fbase, {}};
      dl_iterate_phdr(find_build_id, &search);
      if (!search.hex.empty()) text += "/" + search.hex;
    }
    return text;
  }();
  return id;
}

void register_engine_build_id() { JS::SetProcessBuildIdOp(append_build_id); }

}  // namespace worker
