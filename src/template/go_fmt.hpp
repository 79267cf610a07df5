// Go's fmt.Sprint, Sprintln and Sprintf over template values, and
// strconv.FormatFloat: what the print, println and printf functions and plain
// {{.X}} output produce in Go, including fmt's %!verb(type=value) errors.
#pragma once

#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "template/template_value.hpp"

namespace dm::tmpl {

// A printf width or precision above this is refused rather than honoured
// (Go's fmt takes up to about 10^7): it is what lets one verb allocate
// megabytes, and no ready URL pads a field to thousands of characters.
constexpr int max_format_width = 4096;

// Thrown by the formatters when a verb's width or precision is above
// max_format_width (`width` set), or when the text would grow past the
// caller's byte limit. The formatter stops as soon as it notices, so it
// never holds much more than the limit.
struct format_limit_error : std::length_error {
  bool width;
  format_limit_error(const std::string& what, bool is_width)
      : std::length_error(what), width(is_width) {}
};

constexpr std::size_t no_format_limit = std::numeric_limits<std::size_t>::max();

// Arguments are Go interface values; an invalid value is a nil interface.
// `limit` caps the bytes produced (see format_limit_error).
std::string go_sprint(const std::vector<value>& args,
                      std::size_t limit = no_format_limit);
std::string go_sprintln(const std::vector<value>& args,
                        std::size_t limit = no_format_limit);
std::string go_sprintf(std::string_view format, const std::vector<value>& args,
                       std::size_t limit = no_format_limit);

// strconv.FormatFloat(v, fmt, prec, 64) for fmt in b e E f g G x X;
// prec -1 asks for the shortest text that reads back as the same double.
std::string format_float(double v, char fmt, int prec);

} // namespace dm::tmpl
