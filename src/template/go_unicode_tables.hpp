// Rune classes above ASCII exactly as Go 1.19 defines them, as sorted,
// disjoint, inclusive ranges (generated into go_unicode_tables.cpp).
#pragma once

#include <cstddef>

namespace dm::tmpl::unicode_tables {

struct rune_range {
  char32_t lo, hi;
};

extern const rune_range letter[]; // unicode.IsLetter
extern const std::size_t letter_size;
extern const rune_range digit[]; // unicode.IsDigit
extern const std::size_t digit_size;
extern const rune_range print[]; // strconv.IsPrint
extern const std::size_t print_size;

} // namespace dm::tmpl::unicode_tables
