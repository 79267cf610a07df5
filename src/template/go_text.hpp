// Go's text primitives the template engine depends on: Go's notion of letters and printable runes, strconv-style
// quoting and unquoting, and Go's integer and float literal syntax.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "text/utf8.hpp"

namespace dm::tmpl {

// The template engine reads UTF-8 through the one shared module.
using utf8::append_utf8;
using utf8::decode_last_rune;
using utf8::decode_rune;
using utf8::max_rune;
using utf8::rune_count;
using utf8::rune_error;
using utf8::valid_rune;
using utf8::valid_utf8;

// Go's unicode.IsLetter / IsDigit / strconv.IsPrint (Unicode 13, as in the
// Go release the original is built with).
bool is_letter(char32_t r);
bool is_digit(char32_t r);
bool is_print(char32_t r);

// strconv.Quote / QuoteToASCII / QuoteRune / QuoteRuneToASCII / CanBackquote.
std::string quote(std::string_view s, bool ascii_only = false);
std::string quote_rune(char32_t r, bool ascii_only = false);
bool can_backquote(std::string_view s);

// strconv.UnquoteChar: consumes one (possibly escaped) character of a
// literal quoted with `quote`. False means Go's "invalid syntax".
bool unquote_char(std::string_view& s, char quote, char32_t& value,
                  bool& multibyte);

// strconv.Unquote for "...", `...` and '...' literals.
bool unquote(std::string_view s, std::string& out);

// strconv.ParseUint(s, 0, 64) and ParseInt(s, 0, 64): prefixes 0b 0o 0x and
// a bare leading 0 for octal, underscores per Go syntax. False on any error.
bool parse_uint(std::string_view s, std::uint64_t& out);
bool parse_int(std::string_view s, std::int64_t& out);

// strconv.ParseFloat(s, 64) for Go float literal syntax (decimal and hex).
// False on syntax errors and on overflow to infinity; out_of_range (when
// given) tells the two apart.
bool parse_float(std::string_view s, double& out, bool* out_of_range = nullptr);

} // namespace dm::tmpl
