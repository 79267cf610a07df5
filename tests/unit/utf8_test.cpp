// Tests for text/utf8, the one UTF-8 decoder and validator: Go's
// unicode/utf8 results for valid text, every kind of malformed sequence, and
// the encoder's replacement of runes that have no encoding.
#include "text/utf8.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

using namespace dm::utf8;

struct decoded {
  char32_t rune;
  std::size_t width;
};

decoded first(std::string_view s) {
  char32_t r = 0;
  std::size_t w = decode_rune(s, 0, r);
  return {r, w};
}

TEST(utf8, decodes_each_length_as_go_does) {
  EXPECT_EQ(first("a").rune, U'a');
  EXPECT_EQ(first("\xC3\xA9").rune, U'\u00E9');
  EXPECT_EQ(first("\xC3\xA9").width, 2u);
  EXPECT_EQ(first("\xE2\x82\xAC").rune, U'\u20AC');
  EXPECT_EQ(first("\xE2\x82\xAC").width, 3u);
  EXPECT_EQ(first("\xF0\x9F\x98\x80").rune, U'\U0001F600');
  EXPECT_EQ(first("\xF0\x9F\x98\x80").width, 4u);
  EXPECT_EQ(first("\xF4\x8F\xBF\xBF").rune, max_rune);
  EXPECT_EQ(first("").width, 0u);
  EXPECT_EQ(first("").rune, rune_error);
}

TEST(utf8, malformed_sequences_give_rune_error_width_one) {
  for (std::string_view bad :
       {"\x80", "\xBF", "\xC0\xAF", "\xC1\xBF", "\xC3", "\xE0\x80\xAF",
        "\xE2\x82", "\xED\xA0\x80", "\xED\xBF\xBF", "\xF0\x80\x80\xAF",
        "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xC3\x28"}) {
    auto d = first(bad);
    EXPECT_EQ(d.rune, rune_error) << testing::PrintToString(bad);
    EXPECT_EQ(d.width, 1u) << testing::PrintToString(bad);
    EXPECT_EQ(sequence_length(bad), 0u) << testing::PrintToString(bad);
    EXPECT_FALSE(valid_utf8(bad)) << testing::PrintToString(bad);
  }
  // U+FFFD written out is valid, though it decodes to rune_error.
  EXPECT_EQ(first("\xEF\xBF\xBD").width, 3u);
  EXPECT_EQ(sequence_length("\xEF\xBF\xBD"), 3u);
  EXPECT_TRUE(valid_utf8("\xEF\xBF\xBD"));
}

TEST(utf8, validates_and_counts_whole_strings) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(valid_utf8("caf\xC3"));
  EXPECT_FALSE(valid_utf8("a\xFF"
                          "b"));
  EXPECT_EQ(rune_count("caf\xC3\xA9"), 4u);
  EXPECT_EQ(rune_count("a\xFF"
                       "b"),
            3u); // a bad byte counts as one rune
  EXPECT_EQ(sequence_length("\xC3\xA9tail"), 2u);
  EXPECT_EQ(sequence_length(""), 0u);
}

TEST(utf8, decodes_backwards) {
  char32_t r = 0;
  const std::string s = "a\xE2\x82\xAC";
  EXPECT_EQ(decode_last_rune(s, s.size(), r), 3u);
  EXPECT_EQ(r, U'\u20AC');
  EXPECT_EQ(decode_last_rune(s, 1, r), 1u);
  EXPECT_EQ(r, U'a');
  EXPECT_EQ(decode_last_rune(s, 0, r), 0u);
  EXPECT_EQ(decode_last_rune("a\x82\xAC", 3, r), 1u);
  EXPECT_EQ(r, rune_error);
}

TEST(utf8, encodes_and_replaces_runes_without_an_encoding) {
  std::string out;
  append_utf8(out, U'a');
  append_utf8(out, U'\u00E9');
  append_utf8(out, U'\u20AC');
  append_utf8(out, U'\U0001F600');
  EXPECT_EQ(out, "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  out.clear();
  append_utf8(out, 0xD800);   // a surrogate
  append_utf8(out, 0x110000); // past the last rune
  EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(valid_rune(0x10FFFF));
  EXPECT_FALSE(valid_rune(0xDFFF));
}

} // namespace
