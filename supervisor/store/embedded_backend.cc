// The default: portbroker-store holds the keys itself, and needs nothing
// but its sockets and scopes, which the StoreService gives every backend.
#include "supervisor/store/backend.h"

#include "common/log.h"

namespace supervisor {
namespace {

class EmbeddedBackend final : public StoreBackend {
 public:
  std::vector<std::string> store_arguments() const override { return {}; }
  void on_store_started(StoreControl&) override {}
  void on_store_message(std::span<const uint8_t>, std::vector<common::UniqueFd>& fds, StoreControl&) override {
    // The embedded store sends nothing on its control channel.
    fds.clear();
    common::log::warn("store-message-refused").kv("reason", "the embedded store sends no control messages");
  }
  void on_store_exited() override {}
  bool counts_keys() const override { return true; }
  nlohmann::json status() const override { return {{"kind", "embedded"}}; }
};

}  // namespace

std::unique_ptr<StoreBackend> make_embedded_backend() { return std::make_unique<EmbeddedBackend>(); }

}  // namespace supervisor
