// Execution of a parsed Go template against a machine record, following
// text/template's evaluation rules and error messages, with limits so that a
// hostile template cannot run away with time, memory or stack.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "model/machine_record.hpp"
#include "template/template_parser.hpp"

namespace dm::tmpl {

// What one execution may spend. Each step costs little beyond the string
// bytes it touches, and those are counted in max_string_bytes, so together
// the limits bound time as well as memory; they count work rather than
// time so a template's fate does not depend on how busy the machine is.
struct exec_limits {
  std::size_t max_output = 64 * 1024; // bytes written, and any single string
  // Bytes of string values computed in all: every string a function returns
  // and every string read from a field, variable, range element or dot as
  // an operand. Variables hold only such strings, so this also bounds what
  // they can hold at once.
  std::size_t max_string_bytes = 1024 * 1024;
  // Nodes walked, commands evaluated, and variables looked through when
  // finding one by name.
  std::size_t max_steps = 100000;
  int max_template_depth = 100; // nested {{template}} calls (Go: 100000)
  int max_recursion = 512;      // nested walks and pipelines overall
};

// What an execution spent, against exec_limits.
struct exec_usage {
  std::size_t steps = 0;
  std::size_t string_bytes = 0;
};

// Runs trees[name] with `data` as dot, like Template.Execute. `text` is the
// parsed source, for error positions. On failure returns false with Go's
// message in `error`; `out` then holds what was written before the error.
// `usage`, when given, receives what the execution spent.
bool execute_template(const tree_set& trees, std::string_view name,
                      std::string_view text, const machine_record& data,
                      const exec_limits& limits, std::string& out,
                      std::string& error, exec_usage* usage = nullptr);

} // namespace dm::tmpl
