// UTF-8 decoding, encoding and validation with Go's rules.
#include "text/utf8.hpp"

namespace dm::utf8 {

std::size_t decode_rune(std::string_view s, std::size_t pos, char32_t& r) {
  if (pos >= s.size()) {
    r = rune_error;
    return 0;
  }
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    r = b0;
    return 1;
  }
  std::size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  char32_t value = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    value = b0 & 0x0F;
    if (b0 == 0xE0)
      lo = 0xA0;
    if (b0 == 0xED)
      hi = 0x9F; // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    value = b0 & 0x07;
    if (b0 == 0xF0)
      lo = 0x90;
    if (b0 == 0xF4)
      hi = 0x8F;
  } else {
    r = rune_error;
    return 1;
  }
  for (std::size_t k = 1; k <= need; ++k) {
    if (pos + k >= s.size()) {
      r = rune_error;
      return 1;
    }
    const auto b = static_cast<unsigned char>(s[pos + k]);
    const unsigned char min = k == 1 ? lo : 0x80;
    const unsigned char max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) {
      r = rune_error;
      return 1;
    }
    value = (value << 6) | (b & 0x3F);
  }
  r = value;
  return need + 1;
}

std::size_t decode_last_rune(std::string_view s, std::size_t end, char32_t& r) {
  if (end == 0) {
    r = rune_error;
    return 0;
  }
  const auto last = static_cast<unsigned char>(s[end - 1]);
  if (last < 0x80) {
    r = last;
    return 1;
  }
  const std::size_t lim = end >= 4 ? end - 4 : 0;
  std::size_t start = end - 1;
  // Back up to a byte that can start a rune, at most four bytes.
  while (start > lim && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
    --start;
  std::size_t width = decode_rune(s.substr(0, end), start, r);
  if (start + width != end) {
    r = rune_error;
    return 1;
  }
  return width;
}

void append_utf8(std::string& out, char32_t r) {
  if (!valid_rune(r))
    r = rune_error;
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

std::size_t rune_count(std::string_view s) {
  std::size_t n = 0;
  char32_t r;
  for (std::size_t i = 0; i < s.size(); i += decode_rune(s, i, r))
    ++n;
  return n;
}

bool valid_utf8(std::string_view s) {
  char32_t r;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t w = decode_rune(s, i, r);
    if (r == rune_error && w == 1)
      return false;
    i += w;
  }
  return true;
}

bool valid_rune(char32_t r) {
  return r <= max_rune && !(r >= 0xD800 && r <= 0xDFFF);
}

std::size_t sequence_length(std::string_view s) {
  char32_t r;
  const std::size_t width = decode_rune(s, 0, r);
  return r == rune_error && width == 1 ? 0 : width;
}

} // namespace dm::utf8
