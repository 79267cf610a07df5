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

TEST(flag_set, sizes_read_and_print_as_dominators_flagutil_size) {
  struct example {
    const char* text;
    bool ok;
    std::uint64_t value;
  } examples[] = {
      {"0", true, 0},
      {"65536", true, 65536},
      {"10MiB", true, 10u << 20},
      {"10M", true, 10u << 20},
      {"64K", true, 64u << 10},
      {"1GiB", true, 1u << 30},
      // As in Go: "B" is tried before "kB" and "MB", so those never parse.
      {"2kB", false, 0},
      {"3MB", false, 0},
      {"5B", true, 5},
      {"", false, 0},
      {"M", false, 0},
      {"-1", false, 0},
      {"1.5M", false, 0},
      {"10X", false, 0},
      {"0x10", false, 0}, // decimal digits only
      {"99999999999E", false, 0},
  };
  for (const auto& e : examples) {
    std::uint64_t value = 12345;
    std::string error;
    EXPECT_EQ(parse_size(e.text, value, error), e.ok) << e.text;
    if (e.ok)
      EXPECT_EQ(value, e.value) << e.text;
    else
      EXPECT_FALSE(error.empty()) << e.text;
  }
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(10u << 20), "10MiB");
  EXPECT_EQ(format_size(100u << 20), "100MiB");
  EXPECT_EQ(format_size(3072), "3KiB");
  EXPECT_EQ(format_size(1536), "1536B");
  EXPECT_EQ(format_size(1000), "1kB");
  EXPECT_EQ(format_size(1001), "1001B");
}

TEST(flag_set, signed_values_read_as_go_parse_int_reads_them) {
  std::int64_t value = 0;
  std::string error;
  EXPECT_TRUE(parse_go_int("-1", value, error));
  EXPECT_EQ(value, -1);
  EXPECT_TRUE(parse_go_int("+0x10", value, error));
  EXPECT_EQ(value, 16);
  EXPECT_TRUE(parse_go_int("-9223372036854775808", value, error));
  EXPECT_EQ(value, INT64_MIN);
  EXPECT_FALSE(parse_go_int("9223372036854775808", value, error));
  EXPECT_FALSE(parse_go_int("-", value, error));
  EXPECT_FALSE(parse_go_int("1e3", value, error));
}

TEST(flag_set, the_usage_reads_as_gos) {
  flag_set flags("p");
  std::string name = "x";
  std::uint64_t size = 10u << 20;
  bool on = true;
  bool off = false;
  std::int64_t level = -1;
  std::vector<std::string> list;
  flags.add_string("name", &name, "a name");
  flags.add_size("size", &size, "a size");
  flags.add_bool("on", &on, "on");
  flags.add_bool("off", &off, "off");
  flags.add_int("level", &level, "a level");
  flags.add_list("list", &list, "a list");
  flags.add_action("version", "the version");
  EXPECT_EQ(flags.usage(), "Usage of p:\n"
                           "  -level int\n    \ta level (default -1)\n"
                           "  -list value\n    \ta list\n"
                           "  -name string\n    \ta name (default \"x\")\n"
                           "  -off\n    \toff\n"
                           "  -on\n    \ton (default true)\n"
                           "  -size value\n    \ta size (default 10MiB)\n"
                           "  -version\n    \tthe version\n");
}
