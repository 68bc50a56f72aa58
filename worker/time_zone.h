#pragma once
// The worker's local time is the host's, as Node's is: TZ when the
// supervisor has it, otherwise the zone /etc/localtime names. Decided before
// confinement (the minimal root has no /etc/timezone and /etc/localtime is a
// copy there, not the link naming the zone) and handed to ICU and the C
// library as TZ, so neither has to search for it inside the sandbox.

#include <string>

namespace worker {

// The zone name (an IANA ID such as "Europe/Paris") that TZ should hold, or
// empty when the host does not say (then the libraries' own fallback, UTC).
// `tz`: the TZ variable, or null; `localtime_link`: where /etc/localtime
// points, empty if it is no link; `timezone_file`: /etc/timezone's text.
std::string host_time_zone(const char* tz, const std::string& localtime_link, const std::string& timezone_file);

// Sets TZ from the host, as above, and initialises the C library's zone.
void adopt_host_time_zone();

}  // namespace worker
