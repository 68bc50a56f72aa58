#pragma once
// Addresses and CIDR blocks written as text in tests; a literal that does not
// parse fails the test that wrote it.

#include <doctest/doctest.h>

#include <string>

#include "policy/ip_address.h"

inline policy::IpAddress ip(const std::string& text) {
  auto address = policy::IpAddress::parse(text);
  REQUIRE_MESSAGE(address.has_value(), "test address does not parse: ", text);
  return *address;
}

inline policy::Cidr cidr(const std::string& text) {
  std::string error;
  auto block = policy::parse_cidr(text, error);
  REQUIRE_MESSAGE(block.has_value(), "test CIDR does not parse: ", text, " (", error, ")");
  return *block;
}
