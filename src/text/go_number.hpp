// Go's rules for number literals that more than one reader follows: where
// underscores may stand (strconv's underscoreOK).
#pragma once

#include <cstddef>
#include <string_view>

#include "text/hex_digit.hpp"

namespace dm {

// Whether each "_" in `s` stands between digits, or between a base prefix
// (0b, 0o, 0x, either case) and a digit; a leading sign is skipped.
inline bool go_underscores_ok(std::string_view s) {
  auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  if (!s.empty() && (s[0] == '-' || s[0] == '+'))
    s.remove_prefix(1);
  char saw = '^'; // '^' start, '0' digit or prefix, '_' underscore, '!' other
  std::size_t i = 0;
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    int digit = hex_digit_value(c);
    if (digit >= 0 && (hex || digit < 10)) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0')
        return false;
      saw = '_';
      continue;
    }
    if (saw == '_')
      return false;
    saw = '!';
  }
  return saw != '_';
}

} // namespace dm
