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

struct exec_limits {
  std::size_t max_output = 64 * 1024; // bytes written, and any single string
  std::size_t max_steps = 100000;     // nodes walked plus commands evaluated
  int max_template_depth = 100;       // nested {{template}} calls (Go: 100000)
  int max_recursion = 512;            // nested walks and pipelines overall
};

// Runs trees[name] with `data` as dot, like Template.Execute. `text` is the
// parsed source, for error positions. On failure returns false with Go's
// message in `error`; `out` then holds what was written before the error.
bool execute_template(const tree_set& trees, std::string_view name,
                      std::string_view text, const machine_record& data,
                      const exec_limits& limits, std::string& out,
                      std::string& error);

} // namespace dm::tmpl
