// Go text/template for ready URLs: a DisruptionManagerReadyUrl tag is parsed
// once and expanded with the machine record as data, with the output and the
// error messages Go's text/template gives for an mdb.Machine.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "model/machine_record.hpp"
#include "template/go_fmt.hpp"
#include "template/template_parser.hpp"

namespace dm {

// A parsed template. Immutable after parse: execute() is const and safe to
// call from several threads at once; copies share the parsed tree.
//
// Supported: the full action syntax (fields, variables, pipelines, parens,
// if/else if/with/range/break/continue, define/template/block, comments,
// trim markers) and every builtin function.
//
// Parsing and execution are bounded (docs/testing.md, "Limits and where they
// are enforced"): a template over a limit fails with an error naming it,
// as any other unusable template does. The limits are far above what a
// ready URL needs; they stop a hostile MDB entry from taking seconds of CPU
// and gigabytes of memory on a front-end thread.
class go_template {
public:
  static constexpr std::size_t max_text_bytes = tmpl::max_template_bytes;
  static constexpr std::size_t max_nodes = tmpl::max_nodes;
  static constexpr std::size_t max_output_bytes = 64 * 1024;
  static constexpr std::size_t max_string_bytes = 1024 * 1024;
  static constexpr std::size_t max_steps = 100000;
  static constexpr int max_format_width = tmpl::max_format_width;

  // Parses like template.New(name).Parse(text). On failure returns nullopt
  // and sets `error` to Go's message, e.g.
  // `template: NAME:1: function "nope" not defined`.
  static std::optional<go_template>
  parse(std::string_view name, std::string_view text, std::string& error);

  // Expands the template with `data` as dot, like Template.Execute with an
  // mdb.Machine value. On failure returns false and sets `error` to Go's
  // message, e.g. `template: NAME:1:2: executing "NAME" at <.Nope>: can't
  // evaluate field Nope in type mdb.Machine`; `out` then holds the output
  // written before the error, as Go's writer would.
  bool execute(const machine_record& data, std::string& out,
               std::string& error) const;

  const std::string& name() const { return *name_; }
  const std::string& text() const { return *text_; }

private:
  struct parsed;
  explicit go_template(std::shared_ptr<const parsed> p);

  std::shared_ptr<const parsed> parsed_;
  const std::string* name_ = nullptr;
  const std::string* text_ = nullptr;
};

} // namespace dm
