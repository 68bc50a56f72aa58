// Every message on the supervisor <-> worker channel, above all what the
// supervisor reads from a worker (a compromised worker is the attacker), and
// on the supervisor -> store control channel.
// Property: a decoder accepts only the canonical encoding of what it
// decoded: encoding the decoded message gives back the input byte for byte,
// so no two inputs mean the same thing and nothing is silently ignored.

#include <cstdint>
#include <span>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "ipc/messages.h"

namespace {

template <typename Message>
void round_trip(std::span<const uint8_t> input) {
  Message decoded;
  if (!ipc::decode(input, decoded)) return;
  auto encoded = ipc::encode(decoded);
  FUZZ_CHECK(std::vector<uint8_t>(input.begin(), input.end()) == encoded);
}

void datagrams_round_trip(std::span<const uint8_t> input, ipc::MessageType type) {
  ipc::DatagramBatch rebuilt(type);
  bool fits = true;
  bool ok = ipc::for_each_datagram(input, type, [&](const common::SocketAddress& peer, std::span<const uint8_t> payload) {
    fits = rebuilt.add(peer, payload) && fits;
  });
  if (!ok) return;
  FUZZ_CHECK(fits);
  FUZZ_CHECK(std::vector<uint8_t>(input.begin(), input.end()) ==
             std::vector<uint8_t>(rebuilt.bytes().begin(), rebuilt.bytes().end()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);
  // Worker -> supervisor.
  round_trip<ipc::WorkerReady>(input);
  round_trip<ipc::WorkerFailed>(input);
  round_trip<ipc::WorkerSandbox>(input);
  round_trip<ipc::TlsStats>(input);
  round_trip<ipc::TlsCertificateRequest>(input);
  round_trip<ipc::StoreReconnect>(input);
  round_trip<ipc::ModulesLoaded>(input);
  // Store relay -> supervisor.
  round_trip<ipc::StoreDial>(input);
  round_trip<ipc::StoreBackendState>(input);
  round_trip<ipc::EgressConnect>(input);
  round_trip<ipc::EgressLookup>(input);
  datagrams_round_trip(input, ipc::MessageType::replies);
  ipc::SeccompViolation violation;
  (void)ipc::decode(input, violation);
  // Supervisor -> worker.
  round_trip<ipc::WorkerInit>(input);
  round_trip<ipc::ConnectionHandoff>(input);
  round_trip<ipc::WorkerStop>(input);
  round_trip<ipc::StoreConnections>(input);
  round_trip<ipc::TlsUpdate>(input);
  round_trip<ipc::TlsCertificate>(input);
  round_trip<ipc::EgressConnected>(input);
  round_trip<ipc::EgressLookupResult>(input);
  datagrams_round_trip(input, ipc::MessageType::datagrams);
  // Supervisor -> store.
  round_trip<ipc::StoreScope>(input);
  round_trip<ipc::StoreScopeRemove>(input);
  round_trip<ipc::StoreBackend>(input);
  round_trip<ipc::StoreDialed>(input);
  return 0;
}
