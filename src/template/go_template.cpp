// go_template: the public face of the template engine, tying the Go-faithful
// parser and executor to a parse-once, execute-many object.
#include "template/go_template.hpp"

#include "template/template_exec.hpp"
#include "template/template_parser.hpp"

namespace dm {

struct go_template::parsed {
  std::string name;
  std::string text;
  tmpl::tree_set trees;
};

go_template::go_template(std::shared_ptr<const parsed> p)
    : parsed_(std::move(p)), name_(&parsed_->name), text_(&parsed_->text) {}

std::optional<go_template> go_template::parse(std::string_view name,
                                              std::string_view text,
                                              std::string& error) {
  auto p = std::make_shared<parsed>();
  p->name.assign(name);
  p->text.assign(text);
  if (!tmpl::parse_template(p->name, p->text, p->trees, error))
    return std::nullopt;
  error.clear();
  return go_template(std::move(p));
}

bool go_template::execute(const machine_record& data, std::string& out,
                          std::string& error) const {
  tmpl::exec_limits limits;
  limits.max_output = max_output_bytes;
  limits.max_string_bytes = max_string_bytes;
  limits.max_steps = max_steps;
  return tmpl::execute_template(parsed_->trees, parsed_->name, parsed_->text,
                                data, limits, out, error);
}

} // namespace dm
