// Command-line flags read as Go's flag package reads them.
#include <gtest/gtest.h>

#include "config/flag_set.hpp"

using namespace dm;

TEST(flag_set, unsigned_values_read_as_go_parse_uint_reads_them) {
  struct example {
    const char* text;
    bool ok;
    std::uint64_t value;
  } examples[] = {
      {"6979", true, 6979},
      {"0", true, 0},
      {"0x1b43", true, 6979},
      {"0X1B43", true, 6979},
      {"0o15503", true, 6979},
      {"015503", true, 6979}, // a leading 0 is octal
      {"010", true, 8},
      {"0b1101101000011", true, 6979},
      {"6_979", true, 6979},
      {"0x_1b_43", true, 6979},
      {"18446744073709551615", true, UINT64_MAX},
      {"18446744073709551616", false, 0},
      {"06979", false, 0}, // 9 is no octal digit
      {"", false, 0},
      {"0x", false, 0},
      {"-1", false, 0},
      {"+1", false, 0},
      {"1_", false, 0},
      {"_1", false, 0},
      {"1__0", false, 0},
      {"0x_", false, 0},
      {"12a", false, 0},
  };
  for (const auto& e : examples) {
    std::uint64_t value = 12345;
    std::string error;
    EXPECT_EQ(parse_go_uint(e.text, value, error), e.ok) << e.text;
    if (e.ok)
      EXPECT_EQ(value, e.value) << e.text;
    else
      EXPECT_FALSE(error.empty()) << e.text;
  }
}

TEST(flag_set, an_unsigned_flag_takes_go_forms_and_names_bad_ones) {
  std::uint64_t port = 6979;
  flag_set flags("test");
  flags.add_uint("portNum", &port, "port");
  const char* argv[] = {"test", "-portNum=0x50"};
  std::string error;
  ASSERT_TRUE(flags.parse(2, argv, error)) << error;
  EXPECT_EQ(port, 80u);
  const char* bad[] = {"test", "-portNum=99999999999999999999"};
  EXPECT_FALSE(flags.parse(2, bad, error));
  EXPECT_NE(error.find("out of range"), std::string::npos) << error;
  EXPECT_NE(error.find("-portNum"), std::string::npos) << error;
}
