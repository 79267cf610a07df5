// Go duration syntax. The arithmetic (unsigned accumulation, the float
// product for fractions, the overflow checks) follows Go's rules step by step
// so that edge cases round and overflow exactly as they do in Go.
#include "duration/go_duration.hpp"

#include <cstdint>

namespace dm {
namespace {

constexpr std::uint64_t two_to_63 = std::uint64_t{1} << 63;

// Go's time package quotes offending input with its own minimal quoting:
// printable ASCII as is (with \" and \\ escaped), every byte of anything
// else as \xNN.
std::string quote(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x80 || c < ' ') {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
      continue;
    }
    if (c == '"' || c == '\\')
      out += '\\';
    out += static_cast<char>(c);
  }
  out += '"';
  return out;
}

duration_result failure(std::string message) {
  return duration_result{std::nullopt, std::move(message)};
}

duration_result invalid(std::string_view orig) {
  return failure("time: invalid duration " + quote(orig));
}

// Leading decimal digits; false on overflow past 2^63, which Go reports as
// an invalid duration.
bool leading_int(std::string_view& s, std::uint64_t& x) {
  x = 0;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9')
      break;
    if (x > two_to_63 / 10)
      return false;
    x = x * 10 + static_cast<std::uint64_t>(c - '0');
    if (x > two_to_63)
      return false;
  }
  s.remove_prefix(i);
  return true;
}

// Digits after the decimal point. Precision beyond 63 bits is dropped
// silently, as Go does, rather than failing.
void leading_fraction(std::string_view& s, std::uint64_t& x, double& scale) {
  x = 0;
  scale = 1;
  bool overflow = false;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9')
      break;
    if (overflow)
      continue;
    if (x > (two_to_63 - 1) / 10) {
      overflow = true;
      continue;
    }
    std::uint64_t y = x * 10 + static_cast<std::uint64_t>(c - '0');
    if (y > two_to_63) {
      overflow = true;
      continue;
    }
    x = y;
    scale *= 10;
  }
  s.remove_prefix(i);
}

// Nanoseconds per unit; 0 for an unknown unit.
std::uint64_t unit_nanoseconds(std::string_view unit) {
  if (unit == "ns")
    return 1;
  if (unit == "us" || unit == "\xC2\xB5s" /* U+00B5 */
      || unit == "\xCE\xBCs" /* U+03BC */)
    return 1000;
  if (unit == "ms")
    return 1000 * 1000;
  if (unit == "s")
    return 1000 * 1000 * 1000;
  if (unit == "m")
    return std::uint64_t{60} * 1000 * 1000 * 1000;
  if (unit == "h")
    return std::uint64_t{3600} * 1000 * 1000 * 1000;
  return 0;
}

// Writes the fraction digits of v (prec of them, trailing zeros and a bare
// point omitted) in front of `out` and returns v without those digits.
std::uint64_t prepend_fraction(std::string& out, std::uint64_t v, int prec) {
  std::string digits;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    std::uint64_t digit = v % 10;
    print = print || digit != 0;
    if (print)
      digits.insert(digits.begin(), static_cast<char>('0' + digit));
    v /= 10;
  }
  if (print)
    out.insert(0, "." + digits);
  return v;
}

void prepend_int(std::string& out, std::uint64_t v) {
  out.insert(0, std::to_string(v));
}

} // namespace

duration_result parse_go_duration(std::string_view text) {
  const std::string_view orig = text;
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  // A bare zero is the only number allowed without a unit.
  if (s == "0")
    return duration_result{std::chrono::nanoseconds{0}, {}};
  if (s.empty())
    return invalid(orig);

  std::uint64_t d = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9')))
      return invalid(orig);

    const std::size_t before = s.size();
    std::uint64_t v = 0;
    if (!leading_int(s, v))
      return invalid(orig);
    const bool pre = before != s.size();

    std::uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      const std::size_t after_point = s.size();
      leading_fraction(s, f, scale);
      post = after_point != s.size();
    }
    if (!pre && !post)
      return invalid(orig); // "." or ".s"

    std::size_t i = 0;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '.' || (c >= '0' && c <= '9'))
        break;
    }
    if (i == 0)
      return failure("time: missing unit in duration " + quote(orig));
    const std::string_view unit_text = s.substr(0, i);
    s.remove_prefix(i);
    const std::uint64_t unit = unit_nanoseconds(unit_text);
    if (unit == 0) {
      return failure("time: unknown unit " + quote(unit_text) +
                     " in duration " + quote(orig));
    }
    if (v > two_to_63 / unit)
      return invalid(orig);
    v *= unit;
    if (f > 0) {
      // Go computes the fractional part in float64; doing the same keeps
      // the rounding identical (e.g. "0.3333333333333333333h").
      v += static_cast<std::uint64_t>(static_cast<double>(f) *
                                      (static_cast<double>(unit) / scale));
      if (v > two_to_63)
        return invalid(orig);
    }
    d += v; // may wrap past 2^64 exactly as Go's uint64 does
    if (d > two_to_63)
      return invalid(orig);
  }
  if (neg) {
    // -2^63 is representable; two's complement negation of the magnitude.
    return duration_result{
        std::chrono::nanoseconds{static_cast<std::int64_t>(0 - d)}, {}};
  }
  if (d > two_to_63 - 1)
    return invalid(orig);
  return duration_result{std::chrono::nanoseconds{static_cast<std::int64_t>(d)},
                         {}};
}

std::string format_go_duration(std::chrono::nanoseconds d) {
  const std::int64_t n = d.count();
  const bool neg = n < 0;
  std::uint64_t u = static_cast<std::uint64_t>(n);
  if (neg)
    u = 0 - u;

  std::string out;
  if (u < 1000000000) {
    // Sub-second values use the largest unit that keeps an integer part.
    int prec = 0;
    if (u == 0)
      return "0s";
    if (u < 1000) {
      out = "ns";
    } else if (u < 1000000) {
      prec = 3;
      out = "\xC2\xB5s"; // "µs", U+00B5 as Go writes it
    } else {
      prec = 6;
      out = "ms";
    }
    u = prepend_fraction(out, u, prec);
    prepend_int(out, u);
  } else {
    out = "s";
    u = prepend_fraction(out, u, 9);
    prepend_int(out, u % 60);
    u /= 60;
    if (u > 0) {
      out.insert(0, "m");
      prepend_int(out, u % 60);
      u /= 60;
      if (u > 0) {
        out.insert(0, "h");
        prepend_int(out, u);
      }
    }
  }
  if (neg)
    out.insert(0, "-");
  return out;
}

} // namespace dm
