#pragma once
// The supervisor runs as root but, once started, keeps only the capabilities
// running needs (listed with their reasons in privileges.cc): every other one
// leaves the permitted, effective, inheritable and bounding sets.

#include <string>
#include <vector>

namespace supervisor {

// Returns the names of the capabilities kept ("cap_net_admin", ...).
std::vector<std::string> reduce_supervisor_privileges();
// In the effective set now (e.g. CAP_NET_ADMIN before touching nftables).
bool holds_capability(int capability);

}  // namespace supervisor
