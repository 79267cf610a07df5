// Go's text primitives the template engine depends on: UTF-8 decoding the way
// Go decodes it, Go's notion of letters and printable runes, strconv-style
// quoting and unquoting, and Go's integer and float literal syntax.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dm::tmpl {

constexpr char32_t rune_error = 0xFFFD;
constexpr char32_t max_rune = 0x10FFFF;

// Decodes the rune at s[pos]. Like Go's utf8.DecodeRuneInString: an invalid
// or truncated sequence yields rune_error with width 1; at the end, width 0.
std::size_t decode_rune(std::string_view s, std::size_t pos, char32_t& r);

// Decodes the rune ending just before s[end]; width 0 when end == 0.
std::size_t decode_last_rune(std::string_view s, std::size_t end, char32_t& r);

// Appends r in UTF-8; invalid runes (surrogates, > max_rune) become U+FFFD.
void append_utf8(std::string& out, char32_t r);

std::size_t rune_count(std::string_view s);
bool valid_utf8(std::string_view s);
bool valid_rune(char32_t r);

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
