#pragma once
// `conn.proxy`: what a trusted balancer's PROXY header said about a
// connection, as the JSON text the runtime's host.js turns into the frozen
// object handlers read (docs/handlers.md). The supervisor checked and bounded
// every field; this only names them for JavaScript.

#include <string>

#include "ipc/messages.h"

namespace worker {

// Absent fields are left out, so they read as undefined; the unique ID is
// hex, which host.js turns back into a Buffer.
std::string proxy_info_json(const ipc::ProxyInfo& proxy);

}  // namespace worker
