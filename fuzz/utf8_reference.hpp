// UTF-8 validity as Go's utf8.ValidString defines it, written from the
// Unicode table of well-formed byte sequences (Table 3-7) independently of
// the library's own check, so targets can test that check against it.
#pragma once

#include <cstddef>
#include <string_view>

namespace dm::fuzz {

inline bool well_formed_utf8(std::string_view text) {
  auto byte = [&](std::size_t i) {
    return static_cast<unsigned char>(text[i]);
  };
  auto in = [](unsigned char b, unsigned lo, unsigned hi) {
    return b >= lo && b <= hi;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    unsigned char b0 = byte(i);
    if (b0 <= 0x7F) {
      i += 1;
      continue;
    }
    std::size_t left = text.size() - i;
    if (in(b0, 0xC2, 0xDF)) {
      if (left < 2 || !in(byte(i + 1), 0x80, 0xBF))
        return false;
      i += 2;
      continue;
    }
    if (in(b0, 0xE0, 0xEF)) {
      unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80; // no overlong forms
      unsigned hi = b0 == 0xED ? 0x9F : 0xBF; // no surrogates
      if (left < 3 || !in(byte(i + 1), lo, hi) || !in(byte(i + 2), 0x80, 0xBF))
        return false;
      i += 3;
      continue;
    }
    if (in(b0, 0xF0, 0xF4)) {
      unsigned lo = b0 == 0xF0 ? 0x90 : 0x80; // no overlong forms
      unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF; // nothing past U+10FFFF
      if (left < 4 || !in(byte(i + 1), lo, hi) ||
          !in(byte(i + 2), 0x80, 0xBF) || !in(byte(i + 3), 0x80, 0xBF))
        return false;
      i += 4;
      continue;
    }
    return false; // 0x80-0xC1, 0xF5-0xFF never start a sequence
  }
  return true;
}

} // namespace dm::fuzz
