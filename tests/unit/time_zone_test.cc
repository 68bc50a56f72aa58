#include "worker/time_zone.h"

#include <doctest/doctest.h>

TEST_CASE("the host's zone: TZ first, then the zone /etc/localtime links to, then /etc/timezone") {
  using worker::host_time_zone;
  CHECK(host_time_zone("Europe/Paris", "/usr/share/zoneinfo/Etc/UTC", "") == "Europe/Paris");
  CHECK(host_time_zone(":America/New_York", "", "") == "America/New_York");
  CHECK(host_time_zone("/usr/share/zoneinfo/Asia/Tokyo", "", "") == "Asia/Tokyo");
  CHECK(host_time_zone("EST5EDT", "", "") == "EST5EDT");
  CHECK(host_time_zone(nullptr, "/usr/share/zoneinfo/Europe/Berlin", "") == "Europe/Berlin");
  CHECK(host_time_zone("", "../usr/share/zoneinfo/Etc/UTC", "") == "Etc/UTC");
  CHECK(host_time_zone(nullptr, "", "Europe/Lisbon\n") == "Europe/Lisbon");
  CHECK(host_time_zone(nullptr, "", "").empty());
}
