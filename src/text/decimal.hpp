// A whole decimal number that is the whole of a text: digits, a leading
// "-" for signed types, nothing else, within the type's range.
#pragma once

#include <charconv>
#include <string_view>
#include <system_error>

namespace dm {

template <class Integer>
bool parse_decimal(std::string_view text, Integer& out) {
  auto end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && stop == end;
}

} // namespace dm
