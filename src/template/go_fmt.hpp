// Go's fmt.Sprint, Sprintln and Sprintf over template values, and
// strconv.FormatFloat: what the print, println and printf functions and plain
// {{.X}} output produce in Go, including fmt's %!verb(type=value) errors.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "template/template_value.hpp"

namespace dm::tmpl {

// Arguments are Go interface values; an invalid value is a nil interface.
std::string go_sprint(const std::vector<value>& args);
std::string go_sprintln(const std::vector<value>& args);
std::string go_sprintf(std::string_view format, const std::vector<value>& args);

// strconv.FormatFloat(v, fmt, prec, 64) for fmt in b e E f g G x X;
// prec -1 asks for the shortest text that reads back as the same double.
std::string format_float(double v, char fmt, int prec);

} // namespace dm::tmpl
