// Syntax tree and parser for Go's text/template. Node positions and String()
// forms match Go's because execution errors quote them ("at <.Tags.Port>",
// "NAME:1:7").
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dm::tmpl {

enum class node_type {
  text,
  action,
  boolean,
  chain,
  command,
  dot,
  else_,
  end,
  field,
  identifier,
  if_,
  list,
  nil,
  number,
  pipe,
  range,
  string,
  template_,
  variable,
  with,
  break_,
  continue_,
};

// A number literal with every reading Go's parser accepts for it.
struct number_info {
  bool is_int = false, is_uint = false, is_float = false, is_complex = false;
  std::int64_t int64 = 0;
  std::uint64_t uint64 = 0;
  double float64 = 0;
  double real = 0, imag = 0; // complex
};

struct node {
  node_type type = node_type::list;
  std::size_t pos = 0; // byte offset in the template text
  // text: the text; string: unquoted value; identifier: function name;
  // number: the literal; template_: the invoked template's name.
  std::string text;
  std::string quoted;                       // string: the literal as written
  std::vector<std::string> ident;           // field, variable, chain: names
  std::vector<std::unique_ptr<node>> nodes; // list: items; command: args;
                                            // pipe: commands
  std::vector<std::unique_ptr<node>> decl;  // pipe: declared variables
  bool is_assign = false;                   // pipe: "=" rather than ":="
  bool truth = false;                       // boolean
  number_info number;                       // number
  // action, if_, range, with, template_ (may be null): the pipeline;
  // chain: the operand the fields apply to.
  std::unique_ptr<node> pipe;
  std::unique_ptr<node> list, else_list; // if_, range, with
};

// Go's Node.String().
std::string node_string(const node& n);

// Named templates of one parse: the top-level one under its own name plus
// any {{define}} or {{block}}.
using tree_set = std::map<std::string, std::unique_ptr<node>>;

// Parses like template.New(name).Parse(text). On failure returns false with
// Go's message, e.g. `template: NAME:1: unexpected "}" in operand`, or ours
// for text over max_template_bytes or a tree over max_nodes.
bool parse_template(std::string_view name, std::string_view text,
                    tree_set& trees, std::string& error);

// Deepest nesting of parentheses and control structures accepted, to bound
// recursion on hostile input (Go itself has no such limit).
constexpr int max_nesting = 256;

// Longest template text parsed, and most syntax nodes one parse may build
// (over all its {{define}}d trees). Go has neither limit; they bound the
// memory and the time a parse and every later execution can take. A ready
// URL template is a few hundred bytes and a few dozen nodes.
constexpr std::size_t max_template_bytes = 64 * 1024;
constexpr std::size_t max_nodes = 4096;

} // namespace dm::tmpl
