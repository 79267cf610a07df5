// Tests for model/machine_record: the Hostname check every front end applies
// to a record as it arrives.
#include "model/machine_record.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

using namespace std::string_literals;

TEST(self_only_rule_cannot_be_got_around, hostnames_with_control_characters) {
  EXPECT_EQ(dm::hostname_error("127.0.0.1\0victim"s),
            "MDB.Hostname contains control character U+0000");
  EXPECT_EQ(dm::hostname_error("web\n01"),
            "MDB.Hostname contains control character U+000A");
  EXPECT_EQ(dm::hostname_error("web\x7F"),
            "MDB.Hostname contains control character U+007F");
  EXPECT_EQ(dm::hostname_error("web\xC2\x85"), // U+0085, a C1 control
            "MDB.Hostname contains control character U+0085");
  EXPECT_EQ(dm::hostname_error(""), "MDB.Hostname is required");
  for (const char* good : {"web-01.example.com", "127.0.0.1", "::1",
                           "caf\xC3\xA9", "with space", "\xC2\xA0"})
    EXPECT_EQ(dm::hostname_error(good), "") << good;
}

} // namespace
