// Go fmt semantics over template values (see go_fmt.hpp). The printer keeps
// the same flag state machine as Go's so widths, flags and error forms such
// as %!d(string=x), %!s(MISSING) and %!(EXTRA ...) come out identically.
#include "template/go_fmt.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "template/go_text.hpp"

namespace dm::tmpl {
namespace {

constexpr char lower_digits[] = "0123456789abcdefx";
constexpr char upper_digits[] = "0123456789ABCDEFX";
constexpr int too_large = 1000000; // fmt ignores widths beyond this

// A decimal mantissa: the value is 0.d[0]d[1]... times 10^dp. Zero has no
// digits and dp 0, as in Go's strconv.
struct decimal {
  std::string d;
  int dp = 0;
};

decimal decimal_from_scientific(const char* first, const char* last) {
  decimal out;
  const char* e =
      static_cast<const char*>(std::memchr(first, 'e', last - first));
  for (const char* p = first; p < e; ++p)
    if (*p != '.')
      out.d += *p;
  int exponent = 0;
  std::from_chars(e + (e[1] == '+' ? 2 : 1), last, exponent);
  out.dp = exponent + 1;
  while (!out.d.empty() && out.d.back() == '0')
    out.d.pop_back();
  return out;
}

decimal shortest_decimal(double abs_v) {
  if (abs_v == 0)
    return {};
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, abs_v,
                         std::chars_format::scientific);
  return decimal_from_scientific(buf, r.ptr);
}

decimal rounded_decimal(double abs_v, int ndigits) {
  if (abs_v == 0)
    return {};
  std::vector<char> buf(static_cast<std::size_t>(ndigits) + 32);
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), abs_v,
                         std::chars_format::scientific, ndigits - 1);
  return decimal_from_scientific(buf.data(), r.ptr);
}

void fmt_e(std::string& out, bool neg, const decimal& d, int prec, char fmt) {
  if (neg)
    out += '-';
  const int nd = static_cast<int>(d.d.size());
  out += nd != 0 ? d.d[0] : '0';
  if (prec > 0) {
    out += '.';
    int i = 1;
    const int m = std::min(nd, prec + 1);
    if (i < m) {
      out.append(d.d, 1, static_cast<std::size_t>(m - 1));
      i = m;
    }
    for (; i <= prec; ++i)
      out += '0';
  }
  out += fmt;
  int exp = nd == 0 ? 0 : d.dp - 1;
  out += exp < 0 ? '-' : '+';
  if (exp < 0)
    exp = -exp;
  if (exp < 10) {
    out += '0';
    out += static_cast<char>('0' + exp);
  } else if (exp < 100) {
    out += static_cast<char>('0' + exp / 10);
    out += static_cast<char>('0' + exp % 10);
  } else {
    out += static_cast<char>('0' + exp / 100);
    out += static_cast<char>('0' + (exp / 10) % 10);
    out += static_cast<char>('0' + exp % 10);
  }
}

void fmt_f(std::string& out, bool neg, const decimal& d, int prec) {
  if (neg)
    out += '-';
  const int nd = static_cast<int>(d.d.size());
  if (d.dp > 0) {
    int m = std::min(nd, d.dp);
    out.append(d.d, 0, static_cast<std::size_t>(m));
    for (; m < d.dp; ++m)
      out += '0';
  } else {
    out += '0';
  }
  if (prec > 0) {
    out += '.';
    for (int i = 0; i < prec; ++i) {
      int j = d.dp + i;
      out += (j >= 0 && j < nd) ? d.d[static_cast<std::size_t>(j)] : '0';
    }
  }
}

void fmt_b(std::string& out, bool neg, std::uint64_t mant, int exp) {
  if (neg)
    out += '-';
  out += std::to_string(mant);
  out += 'p';
  exp -= 52;
  if (exp >= 0)
    out += '+';
  out += std::to_string(exp);
}

void fmt_x(std::string& out, int prec, char fmt, bool neg, std::uint64_t mant,
           int exp) {
  if (mant == 0)
    exp = 0;
  // Normalize so the leading 1 sits at bit 60.
  mant <<= 60 - 52;
  while (mant != 0 && (mant & (std::uint64_t{1} << 60)) == 0) {
    mant <<= 1;
    --exp;
  }
  if (prec >= 0 && prec < 15) {
    const unsigned shift = static_cast<unsigned>(prec * 4);
    const std::uint64_t extra =
        (mant << shift) & ((std::uint64_t{1} << 60) - 1);
    mant >>= 60 - shift;
    if ((extra | (mant & 1)) > (std::uint64_t{1} << 59))
      ++mant;
    mant <<= 60 - shift;
    if (mant & (std::uint64_t{1} << 61)) {
      mant >>= 1;
      ++exp;
    }
  }
  const char* hex = fmt == 'X' ? upper_digits : lower_digits;
  if (neg)
    out += '-';
  out += '0';
  out += fmt;
  out += static_cast<char>('0' + ((mant >> 60) & 1));
  mant <<= 4;
  if (prec < 0 && mant != 0) {
    out += '.';
    while (mant != 0) {
      out += hex[(mant >> 60) & 15];
      mant <<= 4;
    }
  } else if (prec > 0) {
    out += '.';
    for (int i = 0; i < prec; ++i) {
      out += hex[(mant >> 60) & 15];
      mant <<= 4;
    }
  }
  out += fmt == 'X' ? 'P' : 'p';
  out += exp < 0 ? '-' : '+';
  if (exp < 0)
    exp = -exp;
  if (exp < 100) {
    out += static_cast<char>('0' + exp / 10);
    out += static_cast<char>('0' + exp % 10);
  } else if (exp < 1000) {
    out += static_cast<char>('0' + exp / 100);
    out += static_cast<char>('0' + (exp / 10) % 10);
    out += static_cast<char>('0' + exp % 10);
  } else {
    out += static_cast<char>('0' + exp / 1000);
    out += static_cast<char>('0' + (exp / 100) % 10);
    out += static_cast<char>('0' + (exp / 10) % 10);
    out += static_cast<char>('0' + exp % 10);
  }
}

// The flag and width state of one verb, as in Go's fmt.fmt.
struct flags {
  bool wid_present = false, prec_present = false;
  bool minus = false, plus = false, sharp = false, space = false, zero = false;
  bool plus_v = false, sharp_v = false;
  int wid = 0, prec = 0;
};

class printer {
public:
  explicit printer(std::size_t limit) : limit_(limit) {}

  std::string buf;

  void print(const std::vector<value>& args) {
    bool prev_string = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const bool is_string = args[i].kind == value_kind::string;
      if (i > 0 && !is_string && !prev_string)
        buf += ' ';
      print_arg(args[i], 'v');
      prev_string = is_string;
    }
    check_room();
  }

  void println(const std::vector<value>& args) {
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (i > 0)
        buf += ' ';
      print_arg(args[i], 'v');
    }
    buf += '\n';
    check_room();
  }

  void printf(std::string_view format, const std::vector<value>& a);

private:
  std::size_t limit_;
  flags f_;
  bool reordered_ = false, good_arg_num_ = true;

  // Called between pieces: the text so far must fit the limit.
  void check_room(std::size_t more = 0) const {
    if (buf.size() > limit_ || more > limit_ - buf.size())
      throw format_limit_error(
          "result exceeds " + std::to_string(limit_) + " bytes", false);
  }

  // Refuses a width or precision no ready URL needs (see max_format_width).
  static void check_width(bool present, int n, const char* what) {
    if (present && n > max_format_width)
      throw format_limit_error(std::string(what) + " " + std::to_string(n) +
                                   " exceeds " +
                                   std::to_string(max_format_width),
                               true);
  }

  // ---- fmt.fmt: padding and the primitive formatters ----

  void write_padding(int n) {
    if (n <= 0)
      return;
    check_room(static_cast<std::size_t>(n));
    buf.append(static_cast<std::size_t>(n), f_.zero ? '0' : ' ');
  }

  void pad(std::string_view s) {
    if (!f_.wid_present || f_.wid == 0) {
      buf += s;
      return;
    }
    const int width = f_.wid - static_cast<int>(rune_count(s));
    if (!f_.minus) {
      write_padding(width);
      buf += s;
    } else {
      buf += s;
      write_padding(width);
    }
  }

  void fmt_boolean(bool v) { pad(v ? "true" : "false"); }

  void fmt_unicode(std::uint64_t u) {
    int prec = 4;
    if (f_.prec_present && f_.prec > 4)
      prec = f_.prec;
    std::string digits;
    for (std::uint64_t x = u;; x >>= 4) {
      digits.insert(digits.begin(), upper_digits[x & 0xF]);
      if (x < 16)
        break;
    }
    std::string s = "U+";
    if (static_cast<int>(digits.size()) < prec)
      s.append(static_cast<std::size_t>(prec) - digits.size(), '0');
    s += digits;
    if (f_.sharp && u <= max_rune && is_print(static_cast<char32_t>(u))) {
      s += " '";
      append_utf8(s, static_cast<char32_t>(u));
      s += '\'';
    }
    const bool old_zero = f_.zero;
    f_.zero = false;
    pad(s);
    f_.zero = old_zero;
  }

  void fmt_integer(std::uint64_t u, int base, bool is_signed, char verb,
                   const char* digits) {
    const bool negative = is_signed && static_cast<std::int64_t>(u) < 0;
    if (negative)
      u = 0 - u;
    int prec = 0;
    if (f_.prec_present) {
      prec = f_.prec;
      if (prec == 0 && u == 0) {
        const bool old_zero = f_.zero;
        f_.zero = false;
        write_padding(f_.wid);
        f_.zero = old_zero;
        return;
      }
    } else if (f_.zero && f_.wid_present) {
      prec = f_.wid;
      if (negative || f_.plus || f_.space)
        --prec; // room for the sign
    }
    std::string s; // built backwards, reversed at the end
    const auto b = static_cast<std::uint64_t>(base);
    do {
      s += digits[u % b];
      u /= b;
    } while (u != 0);
    while (static_cast<int>(s.size()) < prec)
      s += '0';
    if (f_.sharp) {
      if (base == 2) {
        s += "b0";
      } else if (base == 8) {
        if (s.back() != '0')
          s += '0';
      } else if (base == 16) {
        s += digits[16];
        s += '0';
      }
    }
    if (verb == 'O')
      s += "o0";
    if (negative)
      s += '-';
    else if (f_.plus)
      s += '+';
    else if (f_.space)
      s += ' ';
    std::string forward(s.rbegin(), s.rend());
    const bool old_zero = f_.zero;
    f_.zero = false;
    pad(forward);
    f_.zero = old_zero;
  }

  std::string truncate(std::string_view s) const {
    if (f_.prec_present) {
      int n = f_.prec;
      char32_t r;
      for (std::size_t i = 0; i < s.size(); i += decode_rune(s, i, r)) {
        if (--n < 0)
          return std::string(s.substr(0, i));
      }
    }
    return std::string(s);
  }

  void fmt_s(std::string_view s) { pad(truncate(s)); }

  void fmt_sx(std::string_view s, const char* digits) {
    int length = static_cast<int>(s.size());
    if (f_.prec_present && f_.prec < length)
      length = f_.prec;
    int width = 2 * length;
    if (width > 0) {
      if (f_.space) {
        if (f_.sharp)
          width *= 2;
        width += length - 1;
      } else if (f_.sharp) {
        width += 2;
      }
    } else {
      if (f_.wid_present)
        write_padding(f_.wid);
      return;
    }
    if (f_.wid_present && f_.wid > width && !f_.minus)
      write_padding(f_.wid - width);
    if (f_.sharp) {
      buf += '0';
      buf += digits[16];
    }
    for (int i = 0; i < length; ++i) {
      if (f_.space && i > 0) {
        buf += ' ';
        if (f_.sharp) {
          buf += '0';
          buf += digits[16];
        }
      }
      const auto c = static_cast<unsigned char>(s[static_cast<std::size_t>(i)]);
      buf += digits[c >> 4];
      buf += digits[c & 0xF];
    }
    if (f_.wid_present && f_.wid > width && f_.minus)
      write_padding(f_.wid - width);
  }

  void fmt_q(std::string_view s) {
    const std::string t = truncate(s);
    if (f_.sharp && can_backquote(t)) {
      pad("`" + t + "`");
      return;
    }
    pad(quote(t, f_.plus));
  }

  void fmt_c(std::uint64_t c) {
    char32_t r = c > max_rune ? rune_error : static_cast<char32_t>(c);
    std::string s;
    append_utf8(s, r);
    pad(s);
  }

  void fmt_qc(std::uint64_t c) {
    char32_t r = c > max_rune ? rune_error : static_cast<char32_t>(c);
    pad(quote_rune(r, f_.plus));
  }

  void fmt_float(double v, char verb, int prec) {
    if (f_.prec_present)
      prec = f_.prec;
    std::string num = format_float(v, verb, prec);
    // Work with an explicit sign, as Go does, to place padding after it.
    if (num[0] != '-' && num[0] != '+')
      num.insert(num.begin(), '+');
    if (f_.space && num[0] == '+' && !f_.plus)
      num[0] = ' ';
    if (num[1] == 'I' || num[1] == 'N') {
      const bool old_zero = f_.zero;
      f_.zero = false;
      if (num[1] == 'N' && !f_.space && !f_.plus)
        num.erase(0, 1);
      pad(num);
      f_.zero = old_zero;
      return;
    }
    if (f_.sharp && verb != 'b') {
      // %#g and friends keep a decimal point and trailing zeros.
      int digits = 0;
      if (verb == 'v' || verb == 'g' || verb == 'G' || verb == 'x') {
        digits = prec;
        if (digits == -1)
          digits = 6;
      }
      std::string tail;
      bool has_point = false, saw_nonzero = false;
      for (std::size_t i = 1; i < num.size(); ++i) {
        const char c = num[i];
        if (c == '.') {
          has_point = true;
        } else if (c == 'p' || c == 'P') {
          tail = num.substr(i);
          num.resize(i);
          break;
        } else if ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X') {
          tail = num.substr(i);
          num.resize(i);
          break;
        } else {
          if (c != '0')
            saw_nonzero = true;
          if (saw_nonzero)
            --digits;
        }
      }
      if (!has_point) {
        if (num.size() == 2 && num[1] == '0')
          --digits;
        num += '.';
      }
      for (; digits > 0; --digits)
        num += '0';
      num += tail;
    }
    if (f_.plus || num[0] != '+') {
      if (f_.zero && f_.wid_present && f_.wid > static_cast<int>(num.size())) {
        buf += num[0];
        write_padding(f_.wid - static_cast<int>(num.size()));
        buf.append(num, 1, std::string::npos);
        return;
      }
      pad(num);
      return;
    }
    pad(std::string_view(num).substr(1));
  }

  // ---- fmt.pp: dispatch on the argument's type ----

  void bad_verb(char32_t verb, const value& arg) {
    buf += "%!";
    append_utf8(buf, verb);
    buf += '(';
    if (arg.valid()) {
      buf += type_name(arg);
      buf += '=';
      print_arg(arg, 'v');
    } else {
      buf += "<nil>";
    }
    buf += ')';
  }

  void fmt_0x64(std::uint64_t v, bool leading_0x) {
    const bool sharp = f_.sharp;
    f_.sharp = leading_0x;
    fmt_integer(v, 16, false, 'v', lower_digits);
    f_.sharp = sharp;
  }

  void fmt_int_verb(const value& arg, std::uint64_t v, bool is_signed,
                    char32_t verb) {
    switch (verb) {
    case 'v':
      if (f_.sharp_v && !is_signed)
        fmt_0x64(v, true);
      else
        fmt_integer(v, 10, is_signed, 'v', lower_digits);
      return;
    case 'd':
      fmt_integer(v, 10, is_signed, 'd', lower_digits);
      return;
    case 'b':
      fmt_integer(v, 2, is_signed, 'b', lower_digits);
      return;
    case 'o':
    case 'O':
      fmt_integer(v, 8, is_signed, static_cast<char>(verb), lower_digits);
      return;
    case 'x':
      fmt_integer(v, 16, is_signed, 'x', lower_digits);
      return;
    case 'X':
      fmt_integer(v, 16, is_signed, 'X', upper_digits);
      return;
    case 'c':
      fmt_c(v);
      return;
    case 'q':
      fmt_qc(v);
      return;
    case 'U':
      fmt_unicode(v);
      return;
    default:
      bad_verb(verb, arg);
      return;
    }
  }

  void fmt_float_verb(const value& arg, double v, char32_t verb) {
    switch (verb) {
    case 'v':
      fmt_float(v, 'g', -1);
      return;
    case 'b':
    case 'g':
    case 'G':
    case 'x':
    case 'X':
      fmt_float(v, static_cast<char>(verb), -1);
      return;
    case 'f':
    case 'e':
    case 'E':
      fmt_float(v, static_cast<char>(verb), 6);
      return;
    case 'F':
      fmt_float(v, 'f', 6);
      return;
    default:
      bad_verb(verb, arg);
      return;
    }
  }

  void fmt_complex_verb(const value& arg, char32_t verb) {
    switch (verb) {
    case 'v':
    case 'b':
    case 'g':
    case 'G':
    case 'x':
    case 'X':
    case 'f':
    case 'F':
    case 'e':
    case 'E': {
      const bool old_plus = f_.plus;
      buf += '(';
      fmt_float_verb(arg, arg.real, verb);
      f_.plus = true;
      fmt_float_verb(arg, arg.imag, verb);
      buf += "i)";
      f_.plus = old_plus;
      return;
    }
    default:
      bad_verb(verb, arg);
      return;
    }
  }

  void fmt_string_verb(const value& arg, std::string_view s, char32_t verb) {
    switch (verb) {
    case 'v':
      if (f_.sharp_v)
        fmt_q(s);
      else
        fmt_s(s);
      return;
    case 's':
      fmt_s(s);
      return;
    case 'x':
      fmt_sx(s, lower_digits);
      return;
    case 'X':
      fmt_sx(s, upper_digits);
      return;
    case 'q':
      fmt_q(s);
      return;
    default:
      bad_verb(verb, arg);
      return;
    }
  }

  // Addresses are whatever this process uses; Go's differ run to run too.
  static std::uint64_t address_of(const value& v) {
    switch (v.kind) {
    case value_kind::aws_pointer:
      return reinterpret_cast<std::uintptr_t>(v.aws);
    case value_kind::tags:
      return reinterpret_cast<std::uintptr_t>(v.map);
    case value_kind::string_slice:
      return v.list ? reinterpret_cast<std::uintptr_t>(v.list->data() + v.begin)
                    : 0;
    default:
      return 0;
    }
  }

  void fmt_pointer(const value& v, char32_t verb) {
    if (v.kind != value_kind::aws_pointer && v.kind != value_kind::tags &&
        v.kind != value_kind::string_slice) {
      bad_verb(verb, v);
      return;
    }
    const std::uint64_t u = address_of(v);
    switch (verb) {
    case 'v':
      if (f_.sharp_v) {
        buf += '(';
        buf += type_name(v);
        buf += ")(";
        if (u == 0)
          buf += "nil";
        else
          fmt_0x64(u, true);
        buf += ')';
      } else if (u == 0) {
        pad("<nil>");
      } else {
        fmt_0x64(u, !f_.sharp);
      }
      return;
    case 'p':
      fmt_0x64(u, !f_.sharp);
      return;
    case 'b':
    case 'o':
    case 'd':
    case 'x':
    case 'X':
      fmt_int_verb(v, u, false, verb);
      return;
    default:
      bad_verb(verb, v);
      return;
    }
  }

  void print_arg(const value& arg, char32_t verb) {
    check_room();
    if (!arg.valid()) {
      if (verb == 'T' || verb == 'v')
        pad("<nil>");
      else
        bad_verb(verb, arg);
      return;
    }
    if (verb == 'T') {
      fmt_s(type_name(arg));
      return;
    }
    if (verb == 'p') {
      fmt_pointer(arg, 'p');
      return;
    }
    print_value(arg, verb, 0);
  }

  void print_value(const value& v, char32_t verb, int depth) {
    check_room(); // between the elements of a map, slice or struct
    switch (v.kind) {
    case value_kind::invalid:
      // Only reachable at depth 0 through a reflect.Value in Go.
      buf += depth == 0 ? "<invalid reflect.Value>" : "<nil>";
      return;
    case value_kind::boolean:
      if (verb == 't' || verb == 'v')
        fmt_boolean(v.boolean);
      else
        bad_verb(verb, v);
      return;
    case value_kind::int_:
      fmt_int_verb(v, static_cast<std::uint64_t>(v.integer), true, verb);
      return;
    case value_kind::uint8:
      fmt_int_verb(v, v.byte, false, verb);
      return;
    case value_kind::float64:
      fmt_float_verb(v, v.real, verb);
      return;
    case value_kind::complex128:
      fmt_complex_verb(v, verb);
      return;
    case value_kind::string:
      fmt_string_verb(v, v.text, verb);
      return;
    case value_kind::tags: {
      if (f_.sharp_v) {
        buf += type_name(v);
        if (!v.map) {
          buf += "(nil)";
          return;
        }
        buf += '{';
      } else {
        buf += "map[";
      }
      if (v.map) {
        bool first = true;
        for (const auto& [key, val] : *v.map) {
          if (!first)
            buf += f_.sharp_v ? ", " : " ";
          first = false;
          print_value(value::of_string(key), verb, depth + 1);
          buf += ':';
          print_value(value::of_string(val), verb, depth + 1);
        }
      }
      buf += f_.sharp_v ? '}' : ']';
      return;
    }
    case value_kind::machine:
    case value_kind::aws_struct: {
      if (f_.sharp_v)
        buf += type_name(v);
      buf += '{';
      bool first = true;
      for (const auto& [name, field] : struct_fields(v)) {
        if (!first)
          buf += f_.sharp_v ? ", " : " ";
        first = false;
        if (f_.plus_v || f_.sharp_v) {
          buf += name;
          buf += ':';
        }
        print_value(field, verb, depth + 1);
      }
      buf += '}';
      return;
    }
    case value_kind::string_slice: {
      if (f_.sharp_v) {
        buf += type_name(v);
        if (!v.list) {
          buf += "(nil)";
          return;
        }
        buf += '{';
        for (std::size_t i = 0; i < v.slice_size(); ++i) {
          if (i > 0)
            buf += ", ";
          print_value(value::of_string(v.slice_at(i)), verb, depth + 1);
        }
        buf += '}';
      } else {
        buf += '[';
        for (std::size_t i = 0; i < v.slice_size(); ++i) {
          if (i > 0)
            buf += ' ';
          print_value(value::of_string(v.slice_at(i)), verb, depth + 1);
        }
        buf += ']';
      }
      return;
    }
    case value_kind::aws_pointer:
      if (depth == 0 && v.aws) {
        buf += '&';
        value target;
        target.kind = value_kind::aws_struct;
        target.aws = v.aws;
        print_value(target, verb, depth + 1);
        return;
      }
      fmt_pointer(v, verb);
      return;
    }
  }

  // Go's parsenum: a run of digits, refused when absurdly long.
  static bool parse_num(std::string_view s, std::size_t& i, int& num) {
    num = 0;
    bool is_num = false;
    if (i >= s.size())
      return false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (num > too_large || num < -too_large) {
        i = s.size();
        num = 0;
        return false;
      }
      num = num * 10 + (s[i] - '0');
      is_num = true;
    }
    return is_num;
  }

  // Go's intFromArg: the argument consumed by a '*' width or precision.
  static bool int_from_arg(const std::vector<value>& a, std::size_t& arg_num,
                           int& num) {
    num = 0;
    bool is_int = false;
    if (arg_num < a.size()) {
      const value& v = a[arg_num];
      std::int64_t n = 0;
      if (v.kind == value_kind::int_) {
        n = v.integer;
        is_int = true;
      } else if (v.kind == value_kind::uint8) {
        n = static_cast<std::int64_t>(v.byte);
        is_int = true;
      }
      ++arg_num;
      if (n > too_large || n < -too_large) {
        n = 0;
        is_int = false;
      }
      num = static_cast<int>(n);
    }
    return is_int;
  }

  // Go's argNumber: an explicit [n] argument index.
  std::size_t arg_number(std::size_t arg_num, std::string_view format,
                         std::size_t& i, std::size_t num_args, bool& found) {
    found = false;
    if (format.size() <= i || format[i] != '[')
      return arg_num;
    reordered_ = true;
    // parseArgNumber
    std::string_view rest = format.substr(i);
    int index = 0;
    std::size_t wid = 1;
    bool ok = false;
    if (rest.size() >= 3) {
      for (std::size_t k = 1; k < rest.size(); ++k) {
        if (rest[k] == ']') {
          std::size_t j = 1;
          int width = 0;
          bool is_num = parse_num(rest.substr(0, k), j, width);
          if (!is_num || j != k) {
            wid = k + 1;
            ok = false;
          } else {
            index = width - 1;
            wid = k + 1;
            ok = true;
          }
          break;
        }
      }
    }
    if (ok && index >= 0 && static_cast<std::size_t>(index) < num_args) {
      i += wid;
      found = true;
      return static_cast<std::size_t>(index);
    }
    good_arg_num_ = false;
    i += wid;
    found = ok;
    return arg_num;
  }

  void clear_flags() { f_ = flags{}; }
};

void printer::printf(std::string_view format, const std::vector<value>& a) {
  const std::size_t end = format.size();
  std::size_t arg_num = 0;
  bool after_index = false;
  reordered_ = false;
  std::size_t i = 0;
  while (i < end) {
    good_arg_num_ = true;
    const std::size_t last = i;
    while (i < end && format[i] != '%')
      ++i;
    if (i > last) {
      check_room(i - last);
      buf += format.substr(last, i - last);
    }
    if (i >= end)
      break;
    ++i; // skip %
    clear_flags();

    bool handled = false;
    for (; i < end; ++i) {
      const char c = format[i];
      if (c == '#') {
        f_.sharp = true;
      } else if (c == '0') {
        f_.zero = !f_.minus; // zero padding only to the left
      } else if (c == '+') {
        f_.plus = true;
      } else if (c == '-') {
        f_.minus = true;
        f_.zero = false;
      } else if (c == ' ') {
        f_.space = true;
      } else {
        // Fast path: a simple lower-case verb right after the flags.
        if (c >= 'a' && c <= 'z' && arg_num < a.size()) {
          if (c == 'v') {
            f_.sharp_v = f_.sharp;
            f_.sharp = false;
            f_.plus_v = f_.plus;
            f_.plus = false;
          }
          print_arg(a[arg_num], static_cast<char32_t>(c));
          ++arg_num;
          ++i;
          handled = true;
        }
        break;
      }
    }
    if (handled)
      continue;

    arg_num = arg_number(arg_num, format, i, a.size(), after_index);

    if (i < end && format[i] == '*') {
      ++i;
      f_.wid_present = int_from_arg(a, arg_num, f_.wid);
      if (!f_.wid_present)
        buf += "%!(BADWIDTH)";
      if (f_.wid < 0) {
        f_.wid = -f_.wid;
        f_.minus = true;
        f_.zero = false;
      }
      after_index = false;
    } else {
      f_.wid_present = parse_num(format, i, f_.wid);
      if (after_index && f_.wid_present)
        good_arg_num_ = false;
    }
    check_width(f_.wid_present, f_.wid, "width");

    if (i + 1 < end && format[i] == '.') {
      ++i;
      if (after_index)
        good_arg_num_ = false;
      arg_num = arg_number(arg_num, format, i, a.size(), after_index);
      if (i < end && format[i] == '*') {
        ++i;
        f_.prec_present = int_from_arg(a, arg_num, f_.prec);
        if (f_.prec < 0) {
          f_.prec = 0;
          f_.prec_present = false;
        }
        if (!f_.prec_present)
          buf += "%!(BADPREC)";
        after_index = false;
      } else {
        f_.prec_present = parse_num(format, i, f_.prec);
        if (!f_.prec_present) {
          f_.prec = 0;
          f_.prec_present = true;
        }
      }
      check_width(f_.prec_present, f_.prec, "precision");
    }

    if (!after_index)
      arg_num = arg_number(arg_num, format, i, a.size(), after_index);

    if (i >= end) {
      buf += "%!(NOVERB)";
      break;
    }

    char32_t verb = static_cast<unsigned char>(format[i]);
    std::size_t size = 1;
    if (verb >= 0x80)
      size = decode_rune(format, i, verb);
    i += size;

    if (verb == '%') {
      buf += '%'; // absorbs no operand, ignores width and precision
    } else if (!good_arg_num_) {
      buf += "%!";
      append_utf8(buf, verb);
      buf += "(BADINDEX)";
    } else if (arg_num >= a.size()) {
      buf += "%!";
      append_utf8(buf, verb);
      buf += "(MISSING)";
    } else {
      if (verb == 'v') {
        f_.sharp_v = f_.sharp;
        f_.sharp = false;
        f_.plus_v = f_.plus;
        f_.plus = false;
      }
      print_arg(a[arg_num], verb);
      ++arg_num;
    }
  }

  check_room();
  if (!reordered_ && arg_num < a.size()) {
    clear_flags();
    buf += "%!(EXTRA ";
    for (std::size_t k = arg_num; k < a.size(); ++k) {
      if (k > arg_num)
        buf += ", ";
      if (!a[k].valid()) {
        buf += "<nil>";
      } else {
        buf += type_name(a[k]);
        buf += '=';
        print_arg(a[k], 'v');
      }
    }
    buf += ')';
    check_room();
  }
}

} // namespace

std::string format_float(double v, char fmt, int prec) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v < 0 ? "-Inf" : "+Inf";
  const bool neg = std::signbit(v);
  const double abs_v = std::fabs(v);
  std::string out;

  if (fmt == 'b' || fmt == 'x' || fmt == 'X') {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    int exp = static_cast<int>((bits >> 52) & 0x7FF);
    std::uint64_t mant = bits & ((std::uint64_t{1} << 52) - 1);
    if (exp == 0)
      ++exp; // denormal
    else
      mant |= std::uint64_t{1} << 52;
    exp += -1023;
    if (fmt == 'b')
      fmt_b(out, neg, mant, exp);
    else
      fmt_x(out, prec, fmt, neg, mant, exp);
    return out;
  }

  decimal digs;
  const bool shortest = prec < 0;
  if (shortest) {
    digs = shortest_decimal(abs_v);
    const int nd = static_cast<int>(digs.d.size());
    switch (fmt) {
    case 'e':
    case 'E':
      prec = std::max(nd - 1, 0);
      break;
    case 'f':
      prec = std::max(nd - digs.dp, 0);
      break;
    case 'g':
    case 'G':
      prec = nd;
      break;
    default:
      break;
    }
  } else if (fmt == 'f') {
    // Fixed notation with a precision: exact decimal rounding.
    std::vector<char> buf(static_cast<std::size_t>(prec) + 400);
    auto r = std::to_chars(buf.data(), buf.data() + buf.size(), abs_v,
                           std::chars_format::fixed, prec);
    if (neg)
      out += '-';
    out.append(buf.data(), r.ptr);
    return out;
  } else {
    int digits = prec;
    if (fmt == 'e' || fmt == 'E') {
      ++digits;
    } else if (fmt == 'g' || fmt == 'G') {
      if (prec == 0)
        prec = 1;
      digits = prec;
    }
    digs = rounded_decimal(abs_v, digits);
  }

  const int nd = static_cast<int>(digs.d.size());
  switch (fmt) {
  case 'e':
  case 'E':
    fmt_e(out, neg, digs, prec, fmt);
    break;
  case 'f':
    fmt_f(out, neg, digs, prec);
    break;
  case 'g':
  case 'G': {
    int eprec = prec;
    if (eprec > nd && nd >= digs.dp)
      eprec = nd;
    if (shortest)
      eprec = 6; // %e is used if the exponent is >= this
    const int exp = digs.dp - 1;
    if (exp < -4 || exp >= eprec) {
      if (prec > nd)
        prec = nd;
      fmt_e(out, neg, digs, prec - 1, fmt == 'g' ? 'e' : 'E');
    } else {
      if (prec > digs.dp)
        prec = nd;
      fmt_f(out, neg, digs, std::max(prec - digs.dp, 0));
    }
    break;
  }
  default:
    out += '%';
    out += fmt;
  }
  return out;
}

std::string go_sprint(const std::vector<value>& args, std::size_t limit) {
  printer p(limit);
  p.print(args);
  return std::move(p.buf);
}

std::string go_sprintln(const std::vector<value>& args, std::size_t limit) {
  printer p(limit);
  p.println(args);
  return std::move(p.buf);
}

std::string go_sprintf(std::string_view format, const std::vector<value>& args,
                       std::size_t limit) {
  printer p(limit);
  p.printf(format, args);
  return std::move(p.buf);
}

} // namespace dm::tmpl
