// Tokens of Go's text/template syntax. The lexer follows Go's state machine
// (trim markers, comments, numbers, the points where it stops with an error)
// because parse error messages quote its tokens and line numbers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dm::tmpl {

enum class item_type {
  error,         // lexing stopped; val holds the message
  boolean,       // true, false
  char_,         // printable ASCII character not otherwise meaningful (',')
  char_constant, // 'x'
  complex,       // 1+2i
  assign,        // =
  declare,       // :=
  eof,
  field,      // .Name
  identifier, // function name
  left_delim, // {{
  left_paren, // (
  number,
  pipe,        // |
  raw_string,  // `...`
  right_delim, // }}
  right_paren, // )
  space,       // run of spaces
  string,      // "..."
  text,        // plain text outside actions
  variable,    // $ or $name
  keyword,     // marker: everything after is a keyword
  block,
  break_,
  continue_,
  dot,
  define,
  else_,
  end,
  if_,
  nil,
  range,
  template_,
  with,
};

struct item {
  item_type type = item_type::error;
  std::size_t pos = 0; // byte offset in the template text
  std::string val;
  int line = 0;
};

// Go's item.String(): "EOF", the error text, "<end>" for keywords, or the
// quoted value (cut to 10 runes with "...").
std::string item_string(const item& it);

// All items of `input`, ending with an eof or an error item.
std::vector<item> lex_template(std::string_view input);

} // namespace dm::tmpl
