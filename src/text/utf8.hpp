// UTF-8 as Go's unicode/utf8 package reads and writes it: the one decoder
// and validator for every codec, the template engine and the front ends.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dm::utf8 {

constexpr char32_t rune_error = 0xFFFD;
constexpr char32_t max_rune = 0x10FFFF;

// Decodes the rune at s[pos]. Like Go's utf8.DecodeRuneInString: an invalid,
// overlong, surrogate or truncated sequence yields rune_error with width 1;
// at the end, width 0.
std::size_t decode_rune(std::string_view s, std::size_t pos, char32_t& r);

// Decodes the rune ending just before s[end]; width 0 when end == 0.
std::size_t decode_last_rune(std::string_view s, std::size_t end, char32_t& r);

// The length of the valid sequence at the front of `s`, or 0 when there is
// none (Go's DecodeRune then gives RuneError with width 1) or `s` is empty.
std::size_t sequence_length(std::string_view s);

// Appends r in UTF-8; invalid runes (surrogates, > max_rune) become U+FFFD.
void append_utf8(std::string& out, char32_t r);

std::size_t rune_count(std::string_view s);
bool valid_utf8(std::string_view s);
bool valid_rune(char32_t r);

} // namespace dm::utf8
