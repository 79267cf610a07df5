// Log lines carry names as clients sent them: escaped so that one record
// is always one line and no line can be forged.
#include <gtest/gtest.h>

#include "logging/log_setup.hpp"

using dm::log_line_text;

TEST(log_injection, control_characters_are_escaped) {
  EXPECT_EQ(log_line_text("a: denied->permitted (group=\"g\")"),
            "a: denied->permitted (group=\"g\")");
  EXPECT_EQ(log_line_text("g\nforged line\r\t"), "g\\nforged line\\r\\t");
  EXPECT_EQ(log_line_text(std::string("a\0b\x1b[2J\x7f", 8)),
            "a\\x00b\\x1b[2J\\x7f");
  // A backslash is doubled, so "\n" typed by a client stays told apart.
  EXPECT_EQ(log_line_text("a\\nb"), "a\\\\nb");
  // C1 controls and the Unicode line and paragraph separators.
  EXPECT_EQ(log_line_text("a\xc2\x85"
                          "b\xe2\x80\xa8"
                          "c\xe2\x80\xa9"),
            "a\\u0085b\\u2028c\\u2029");
  // Other UTF-8 is kept; bytes that are not UTF-8 are shown in hex.
  EXPECT_EQ(log_line_text("caf\xc3\xa9 \xe2\x82\xac"),
            "caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(log_line_text("a\xff\xc3"), "a\\xff\\xc3");
}
