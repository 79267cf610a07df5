// Template execution with text/template's semantics: field lookup through
// structs, maps and pointers, Go's typed argument checks for the builtin
// functions, and the "current node" bookkeeping that decides which node an
// execution error quotes.
#include "template/template_exec.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "template/go_fmt.hpp"
#include "template/go_text.hpp"
#include "text/html_escape.hpp"

namespace dm::tmpl {
namespace {

struct exec_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parameter types of the builtins as Go declares them; `none` is the
// untyped context of a chain's operand.
enum class param { none, reflect_value, any, string };

std::string param_name(param p) {
  switch (p) {
  case param::reflect_value:
    return "reflect.Value";
  case param::any:
    return "interface {}";
  case param::string:
    return "string";
  case param::none:
    break;
  }
  return "<nil>";
}

struct builtin_signature {
  std::string_view name;
  std::vector<param> fixed;
  bool variadic;
  param variadic_type;
};

const builtin_signature* find_builtin(std::string_view name) {
  using p = param;
  static const builtin_signature builtins[] = {
      {"and", {p::reflect_value}, true, p::reflect_value},
      {"call", {p::reflect_value}, true, p::reflect_value},
      {"html", {}, true, p::any},
      {"index", {p::reflect_value}, true, p::reflect_value},
      {"slice", {p::reflect_value}, true, p::reflect_value},
      {"js", {}, true, p::any},
      {"len", {p::reflect_value}, false, p::none},
      {"not", {p::reflect_value}, false, p::none},
      {"or", {p::reflect_value}, true, p::reflect_value},
      {"print", {}, true, p::any},
      {"printf", {p::string}, true, p::any},
      {"println", {}, true, p::any},
      {"urlquery", {}, true, p::any},
      {"eq", {p::reflect_value}, true, p::reflect_value},
      {"ge", {p::reflect_value, p::reflect_value}, false, p::none},
      {"gt", {p::reflect_value, p::reflect_value}, false, p::none},
      {"le", {p::reflect_value, p::reflect_value}, false, p::none},
      {"lt", {p::reflect_value, p::reflect_value}, false, p::none},
      {"ne", {p::reflect_value, p::reflect_value}, false, p::none},
  };
  for (const auto& b : builtins)
    if (b.name == name)
      return &b;
  return nullptr;
}

// Go's reflect.Indirect through our only pointer type. A nil pointer is
// returned as is, flagged.
std::pair<value, bool> indirect(const value& v) {
  if (v.kind == value_kind::aws_pointer) {
    if (!v.aws)
      return {v, true};
    value target;
    target.kind = value_kind::aws_struct;
    target.aws = v.aws;
    return {target, false};
  }
  return {v, false};
}

// Go's isTrue; every kind we have is one it accepts.
bool truth(const value& v) {
  switch (v.kind) {
  case value_kind::invalid:
    return false;
  case value_kind::boolean:
    return v.boolean;
  case value_kind::int_:
    return v.integer != 0;
  case value_kind::uint8:
    return v.byte != 0;
  case value_kind::float64:
    return v.real != 0;
  case value_kind::complex128:
    return v.real != 0 || v.imag != 0;
  case value_kind::string:
    return !v.text.empty();
  case value_kind::string_slice:
    return v.slice_size() > 0;
  case value_kind::tags:
    return v.map && !v.map->empty();
  case value_kind::aws_pointer:
    return v.aws != nullptr;
  case value_kind::machine:
  case value_kind::aws_struct:
    return true;
  }
  return false;
}

// ---- builtin functions: each returns its value or throws call_error with
// ---- the error text Go's function returns.

struct call_error {
  std::string message;
};

enum class basic {
  invalid,
  boolean,
  complex,
  integer,
  floating,
  string,
  unsigned_
};

basic basic_kind(const value& v) {
  switch (v.kind) {
  case value_kind::boolean:
    return basic::boolean;
  case value_kind::int_:
    return basic::integer;
  case value_kind::uint8:
    return basic::unsigned_;
  case value_kind::float64:
    return basic::floating;
  case value_kind::complex128:
    return basic::complex;
  case value_kind::string:
    return basic::string;
  default:
    return basic::invalid;
  }
}

bool is_nil(const value& v) {
  switch (v.kind) {
  case value_kind::invalid:
    return true;
  case value_kind::tags:
    return v.map == nullptr;
  case value_kind::string_slice:
    return v.list == nullptr;
  case value_kind::aws_pointer:
    return v.aws == nullptr;
  default:
    return false;
  }
}

bool same_reflect_kind(const value& a, const value& b) {
  auto reflect_kind = [](const value& v) {
    // machine and aws_struct are both reflect.Struct.
    return v.kind == value_kind::aws_struct ? value_kind::machine : v.kind;
  };
  return reflect_kind(a) == reflect_kind(b);
}

bool fn_eq(const value& arg1, const std::vector<value>& rest) {
  if (rest.empty())
    throw call_error{"missing argument for comparison"};
  const basic k1 = basic_kind(arg1);
  for (const value& arg : rest) {
    const basic k2 = basic_kind(arg);
    bool result = false;
    if (k1 != k2) {
      // Integers compare across signedness; anything else is an error
      // unless one side is a missing value.
      if (k1 == basic::integer && k2 == basic::unsigned_) {
        result = arg1.integer >= 0 &&
                 static_cast<std::uint64_t>(arg1.integer) == arg.byte;
      } else if (k1 == basic::unsigned_ && k2 == basic::integer) {
        result = arg.integer >= 0 &&
                 arg1.byte == static_cast<std::uint64_t>(arg.integer);
      } else if (arg1.valid() && arg.valid()) {
        throw call_error{"incompatible types for comparison"};
      }
    } else {
      switch (k1) {
      case basic::boolean:
        result = arg1.boolean == arg.boolean;
        break;
      case basic::complex:
        result = arg1.real == arg.real && arg1.imag == arg.imag;
        break;
      case basic::floating:
        result = arg1.real == arg.real;
        break;
      case basic::integer:
        result = arg1.integer == arg.integer;
        break;
      case basic::string:
        result = arg1.text == arg.text;
        break;
      case basic::unsigned_:
        result = arg1.byte == arg.byte;
        break;
      case basic::invalid:
        if (!(same_reflect_kind(arg1, arg) || !arg1.valid() || !arg.valid())) {
          throw call_error{go_sprintf("non-comparable types %s: %v, %s: %v",
                                      {arg1, value::of_string(type_name(arg1)),
                                       value::of_string(type_name(arg)), arg})};
        }
        if (is_nil(arg1) || is_nil(arg)) {
          result = is_nil(arg) == is_nil(arg1);
        } else {
          // Of our non-basic types only pointers are comparable in Go.
          if (arg.kind != value_kind::aws_pointer)
            throw call_error{
                go_sprintf("non-comparable type %s: %v",
                           {arg, value::of_string(type_name(arg))})};
          result = arg1.aws == arg.aws;
        }
        break;
      }
    }
    if (result)
      return true;
  }
  return false;
}

bool fn_lt(const value& arg1, const value& arg2) {
  const basic k1 = basic_kind(arg1);
  if (k1 == basic::invalid)
    throw call_error{"invalid type for comparison"};
  const basic k2 = basic_kind(arg2);
  if (k2 == basic::invalid)
    throw call_error{"invalid type for comparison"};
  if (k1 != k2) {
    if (k1 == basic::integer && k2 == basic::unsigned_)
      return arg1.integer < 0 ||
             static_cast<std::uint64_t>(arg1.integer) < arg2.byte;
    if (k1 == basic::unsigned_ && k2 == basic::integer)
      return arg2.integer >= 0 &&
             arg1.byte < static_cast<std::uint64_t>(arg2.integer);
    throw call_error{"incompatible types for comparison"};
  }
  switch (k1) {
  case basic::boolean:
  case basic::complex:
    throw call_error{"invalid type for comparison"};
  case basic::floating:
    return arg1.real < arg2.real;
  case basic::integer:
    return arg1.integer < arg2.integer;
  case basic::string:
    return arg1.text < arg2.text;
  case basic::unsigned_:
    return arg1.byte < arg2.byte;
  case basic::invalid:
    break;
  }
  return false;
}

bool fn_le(const value& a, const value& b) {
  if (fn_lt(a, b))
    return true;
  return fn_eq(a, {b});
}

// Go's indexArg: an index into something of length `cap`.
std::size_t index_arg(const value& index, std::size_t cap) {
  std::int64_t x = 0;
  if (index.kind == value_kind::int_)
    x = index.integer;
  else if (index.kind == value_kind::uint8)
    x = static_cast<std::int64_t>(index.byte);
  else if (!index.valid())
    throw call_error{"cannot index slice/array with nil"};
  else
    throw call_error{"cannot index slice/array with type " + type_name(index)};
  if (x < 0 || static_cast<std::uint64_t>(x) > cap)
    throw call_error{"index out of range: " + std::to_string(x)};
  return static_cast<std::size_t>(x);
}

value fn_index(value item, const std::vector<value>& indexes) {
  if (!item.valid())
    throw call_error{"index of untyped nil"};
  for (const value& index : indexes) {
    auto [target, nil] = indirect(item);
    if (nil)
      throw call_error{"index of nil pointer"};
    item = std::move(target);
    switch (item.kind) {
    case value_kind::string: {
      std::size_t x = index_arg(index, item.text.size());
      // Go's check lets x == len through; reflect then panics.
      if (x >= item.text.size())
        throw call_error{"reflect: string index out of range"};
      item = value::of_byte(static_cast<unsigned char>(item.text[x]));
      break;
    }
    case value_kind::string_slice: {
      std::size_t x = index_arg(index, item.slice_size());
      if (x >= item.slice_size())
        throw call_error{"reflect: slice index out of range"};
      item = value::of_string(item.slice_at(x));
      break;
    }
    case value_kind::tags: {
      if (!index.valid())
        throw call_error{"value is nil; should be of type string"};
      if (index.kind != value_kind::string)
        throw call_error{"value has type " + type_name(index) +
                         "; should be string"};
      std::string found;
      if (item.map) {
        auto it = item.map->find(index.text);
        if (it != item.map->end())
          found = it->second;
      }
      item = value::of_string(std::move(found)); // zero value when missing
      break;
    }
    default:
      throw call_error{"can't index item of type " + type_name(item)};
    }
  }
  return item;
}

value fn_slice(value item, const std::vector<value>& indexes) {
  if (!item.valid())
    throw call_error{"slice of untyped nil"};
  if (indexes.size() > 3)
    throw call_error{"too many slice indexes: " +
                     std::to_string(indexes.size())};
  std::size_t cap = 0, len = 0;
  if (item.kind == value_kind::string) {
    if (indexes.size() == 3)
      throw call_error{"cannot 3-index slice a string"};
    cap = len = item.text.size();
  } else if (item.kind == value_kind::string_slice) {
    // The capacity of a decoded Go slice is unknowable; use its length.
    cap = len = item.slice_size();
  } else {
    throw call_error{"can't slice item of type " + type_name(item)};
  }
  std::size_t idx[3] = {0, len, 0};
  for (std::size_t i = 0; i < indexes.size(); ++i)
    idx[i] = index_arg(indexes[i], cap);
  if (idx[0] > idx[1])
    throw call_error{"invalid slice index: " + std::to_string(idx[0]) + " > " +
                     std::to_string(idx[1])};
  if (indexes.size() == 3 && idx[1] > idx[2])
    throw call_error{"invalid slice index: " + std::to_string(idx[1]) + " > " +
                     std::to_string(idx[2])};
  if (item.kind == value_kind::string)
    return value::of_string(item.text.substr(idx[0], idx[1] - idx[0]));
  if (item.list) {
    const std::size_t base = item.begin;
    item.begin = base + idx[0];
    item.end = base + idx[1];
  }
  return item;
}

value fn_len(const value& arg) {
  auto [item, nil] = indirect(arg);
  if (nil)
    throw call_error{"len of nil pointer"};
  switch (item.kind) {
  case value_kind::string:
    return value::of_int(static_cast<std::int64_t>(item.text.size()));
  case value_kind::string_slice:
    return value::of_int(static_cast<std::int64_t>(item.slice_size()));
  case value_kind::tags:
    return value::of_int(item.map ? static_cast<std::int64_t>(item.map->size())
                                  : 0);
  case value_kind::invalid:
    throw call_error{"reflect: call of reflect.Value.Type on zero Value"};
  default:
    throw call_error{"len of type " + type_name(item)};
  }
}

// The argument handling of html, js and urlquery (Go's evalArgs); `limit`
// as for go_sprint.
std::string eval_args(const std::vector<value>& args, std::size_t limit) {
  if (args.size() == 1 && args[0].kind == value_kind::string)
    return args[0].text;
  std::vector<value> printable;
  printable.reserve(args.size());
  for (const value& a : args) {
    if (!a.valid())
      printable.push_back(value::of_string("<no value>"));
    else
      printable.push_back(indirect(a).first);
  }
  return go_sprint(printable, limit);
}

std::string html_escape(const std::string& s) {
  std::string out;
  append_html_escaped(out, s);
  return out;
}

std::string js_escape(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '"':
        out += "\\\"";
        break;
      case '<':
        out += "\\u003C";
        break;
      case '>':
        out += "\\u003E";
        break;
      case '&':
        out += "\\u0026";
        break;
      case '=':
        out += "\\u003D";
        break;
      default:
        if (c < ' ') {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
      }
      ++i;
      continue;
    }
    char32_t r;
    std::size_t w = decode_rune(s, i, r);
    if (is_print(r)) {
      out.append(s, i, w); // invalid bytes decode to U+FFFD, printable
    } else {
      out += "\\u";
      std::string digits;
      for (char32_t x = r;; x >>= 4) {
        digits.insert(digits.begin(), hex[x & 0xF]);
        if (x < 16)
          break;
      }
      if (digits.size() < 4)
        out.append(4 - digits.size(), '0');
      out += digits;
    }
    i += w;
  }
  return out;
}

std::string query_escape(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

enum class walk_status { normal, break_, continue_ };

using final_value = std::optional<value>; // nullopt is Go's missingVal

class executor {
public:
  executor(const tree_set& trees, std::string_view text,
           std::string_view parse_name, const exec_limits& limits,
           std::string& out)
      : trees_(trees), text_(text), parse_name_(parse_name), limits_(limits),
        out_(out) {}

  void run(std::string_view name, const value& data) {
    auto it = trees_.find(std::string(name));
    current_name_ = std::string(name);
    if (it == trees_.end() || !it->second)
      errorf(quote(name) + " is an incomplete or empty template");
    vars_.emplace_back("$", data);
    walk(data, *it->second);
  }

  exec_usage usage() const { return {steps_, string_bytes_}; }

private:
  const tree_set& trees_;
  std::string_view text_;
  std::string_view parse_name_;
  const exec_limits& limits_;
  std::string& out_;
  std::string current_name_;
  const node* node_ = nullptr;
  std::vector<std::pair<std::string, value>> vars_;
  int template_depth_ = 0;
  int recursion_ = 0;
  std::size_t steps_ = 0;
  std::size_t string_bytes_ = 0;

  struct recursion_guard {
    executor& e;
    explicit recursion_guard(executor& ex) : e(ex) {
      if (++e.recursion_ > e.limits_.max_recursion)
        e.errorf("execution nesting exceeds " +
                 std::to_string(e.limits_.max_recursion) + " levels");
    }
    ~recursion_guard() { --e.recursion_; }
  };

  void at(const node& n) { node_ = &n; }

  void step() {
    if (++steps_ > limits_.max_steps)
      errorf("execution exceeds " + std::to_string(limits_.max_steps) +
             " steps");
  }

  // Counts a string value computed as an operand or a command's result
  // against max_string_bytes.
  value charged(value v) {
    if (v.kind == value_kind::string) {
      string_bytes_ += v.text.size();
      if (string_bytes_ > limits_.max_string_bytes)
        errorf(string_budget_text());
    }
    return v;
  }

  std::string string_budget_text() const {
    return "execution computes more than " +
           std::to_string(limits_.max_string_bytes) + " bytes of strings";
  }

  [[noreturn]] void errorf(const std::string& message) {
    if (!node_)
      throw exec_failure("template: " + current_name_ + ": " + message);
    // Go's ErrorContext: line, and a byte column that is the absolute
    // offset on the first line and zero-based after a newline.
    const std::size_t pos = std::min(node_->pos, text_.size());
    const std::string_view before = text_.substr(0, pos);
    const std::size_t last_newline = before.rfind('\n');
    const std::size_t column =
        last_newline == std::string_view::npos ? pos : pos - (last_newline + 1);
    const auto line = 1 + std::count(before.begin(), before.end(), '\n');
    throw exec_failure("template: " + std::string(parse_name_) + ":" +
                       std::to_string(line) + ":" + std::to_string(column) +
                       ": executing " + quote(current_name_) + " at <" +
                       node_string(*node_) + ">: " + message);
  }

  void write(std::string_view s) {
    if (out_.size() + s.size() > limits_.max_output)
      errorf("output exceeds " + std::to_string(limits_.max_output) + " bytes");
    out_ += s;
  }

  // Function results are bounded like the output, and by what is left of
  // the string budget; reported as the function's error, at the call.
  // `produce(limit)` builds the result and may stop early by throwing
  // format_limit_error.
  template <class Produce>
  std::string bounded_result(Produce&& produce) {
    const std::size_t left = limits_.max_string_bytes -
                             std::min(string_bytes_, limits_.max_string_bytes);
    const std::size_t limit = std::min(limits_.max_output, left);
    auto too_long = [&]() -> call_error {
      if (limit < limits_.max_output)
        return call_error{string_budget_text()};
      return call_error{"result exceeds " + std::to_string(limits_.max_output) +
                        " bytes"};
    };
    try {
      std::string s = produce(limit);
      if (s.size() > limit)
        throw too_long();
      return s;
    } catch (const format_limit_error& e) {
      if (e.width)
        throw call_error{e.what()};
      throw too_long();
    }
  }

  // html, js and urlquery: their escapes never shorten the text, so input
  // over the limit is refused before escaping.
  template <class Escape>
  std::string escaped(const std::vector<value>& argv, Escape&& escape) {
    return bounded_result([&](std::size_t limit) {
      std::string text = eval_args(argv, limit);
      if (text.size() > limit)
        throw format_limit_error("", false);
      return escape(text);
    });
  }

  // ---- variables ----

  void set_var(const std::string& name, const value& v) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      step();
      if (it->first == name) {
        it->second = v;
        return;
      }
    }
    errorf("undefined variable: " + name);
  }

  // Each variable looked through costs a step, so thousands of variables
  // cannot make every lookup slow.
  const value& var_value(const std::string& name) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      step();
      if (it->first == name)
        return it->second;
    }
    errorf("undefined variable: " + name);
  }

  // Pops variables pushed after construction when leaving a scope.
  struct scope {
    std::vector<std::pair<std::string, value>>& vars;
    std::size_t mark;
    explicit scope(std::vector<std::pair<std::string, value>>& v)
        : vars(v), mark(v.size()) {}
    ~scope() { vars.resize(mark); }
  };

  // ---- walking the tree ----

  walk_status walk(const value& dot, const node& n) {
    recursion_guard guard(*this);
    step();
    at(n);
    switch (n.type) {
    case node_type::action: {
      value v = eval_pipeline(dot, n.pipe.get());
      if (n.pipe->decl.empty())
        print_value(n, v);
      return walk_status::normal;
    }
    case node_type::break_:
      return walk_status::break_;
    case node_type::continue_:
      return walk_status::continue_;
    case node_type::if_:
    case node_type::with:
      return walk_if_or_with(dot, n);
    case node_type::list:
      for (const auto& child : n.nodes) {
        walk_status s = walk(dot, *child);
        if (s != walk_status::normal)
          return s;
      }
      return walk_status::normal;
    case node_type::range:
      return walk_range(dot, n);
    case node_type::template_:
      walk_template(dot, n);
      return walk_status::normal;
    case node_type::text:
      write(n.text);
      return walk_status::normal;
    default:
      errorf("unknown node: " + node_string(n));
    }
  }

  walk_status walk_if_or_with(const value& dot, const node& n) {
    scope variables(vars_);
    value v = eval_pipeline(dot, n.pipe.get());
    if (truth(v)) {
      if (n.type == node_type::with)
        return walk(v, *n.list);
      return walk(dot, *n.list);
    }
    if (n.else_list)
      return walk(dot, *n.else_list);
    return walk_status::normal;
  }

  walk_status walk_range(const value& dot, const node& r) {
    at(r);
    scope variables(vars_);
    const value val = indirect(eval_pipeline(dot, r.pipe.get())).first;
    const std::size_t mark = vars_.size();
    const std::size_t decls = r.pipe->decl.size();
    // One pass of the body; false when {{break}} ends the loop.
    auto one_iteration = [&](const value& index, const value& elem) {
      if (decls > 0)
        vars_[vars_.size() - 1].second = elem;
      if (decls > 1)
        vars_[vars_.size() - 2].second = index;
      walk_status s = walk(elem, *r.list);
      vars_.resize(mark);
      return s != walk_status::break_;
    };
    switch (val.kind) {
    case value_kind::string_slice:
      if (val.slice_size() == 0)
        break;
      for (std::size_t i = 0; i < val.slice_size(); ++i) {
        if (!one_iteration(value::of_int(static_cast<std::int64_t>(i)),
                           charged(value::of_string(val.slice_at(i)))))
          break;
      }
      return walk_status::normal;
    case value_kind::tags:
      if (!val.map || val.map->empty())
        break;
      // std::map order is Go's sorted key order for string keys.
      for (const auto& [key, elem] : *val.map) {
        if (!one_iteration(charged(value::of_string(key)),
                           charged(value::of_string(elem))))
          break;
      }
      return walk_status::normal;
    case value_kind::invalid:
      break; // like a nil map: no iterations
    default:
      errorf("range can't iterate over " + go_sprint({val}));
    }
    if (r.else_list) {
      // Go's range swallows a {{break}} from its else branch too.
      walk_status s = walk(dot, *r.else_list);
      if (s == walk_status::continue_)
        return s;
    }
    return walk_status::normal;
  }

  void walk_template(const value& dot, const node& t) {
    at(t);
    auto it = trees_.find(t.text);
    if (it == trees_.end() || !it->second)
      errorf("template " + quote(t.text) + " not defined");
    if (template_depth_ >= limits_.max_template_depth)
      errorf("exceeded maximum template depth (" +
             std::to_string(limits_.max_template_depth) + ")");
    value new_dot = eval_pipeline(dot, t.pipe.get());
    std::vector<std::pair<std::string, value>> saved_vars;
    saved_vars.swap(vars_);
    vars_.emplace_back("$", new_dot);
    std::string saved_name = std::exchange(current_name_, t.text);
    ++template_depth_;
    walk(new_dot, *it->second);
    --template_depth_;
    current_name_ = std::move(saved_name);
    vars_.swap(saved_vars);
  }

  void print_value(const node& n, const value& v) {
    at(n);
    if (!v.valid()) {
      write("<no value>");
      return;
    }
    const std::size_t room =
        limits_.max_output - std::min(out_.size(), limits_.max_output);
    std::string text;
    try {
      text = go_sprint({indirect(v).first}, room);
    } catch (const format_limit_error&) {
      errorf("output exceeds " + std::to_string(limits_.max_output) + " bytes");
    }
    write(text);
  }

  // ---- evaluation ----

  value eval_pipeline(const value& dot, const node* pipe) {
    if (!pipe)
      return value{};
    recursion_guard guard(*this);
    at(*pipe);
    final_value v;
    for (const auto& cmd : pipe->nodes)
      v = eval_command(dot, *cmd, v);
    for (const auto& variable : pipe->decl) {
      if (pipe->is_assign)
        set_var(variable->ident[0], *v);
      else
        vars_.emplace_back(variable->ident[0], *v);
    }
    return *v;
  }

  void not_a_function(const std::vector<std::unique_ptr<node>>& args,
                      const final_value& final) {
    if (args.size() > 1 || final)
      errorf("can't give argument to non-function " + node_string(*args[0]));
  }

  // A command's value, a string counted against the string budget (a
  // parenthesized pipeline's was counted inside it).
  value eval_command(const value& dot, const node& cmd,
                     const final_value& final) {
    step();
    if (cmd.nodes[0]->type == node_type::pipe) {
      not_a_function(cmd.nodes, final);
      return eval_pipeline(dot, cmd.nodes[0].get());
    }
    return charged(eval_uncounted_command(dot, cmd, final));
  }

  value eval_uncounted_command(const value& dot, const node& cmd,
                               const final_value& final) {
    const node& first = *cmd.nodes[0];
    switch (first.type) {
    case node_type::field:
      return eval_field_node(dot, first, &cmd.nodes, final);
    case node_type::chain:
      return eval_chain_node(dot, first, &cmd.nodes, final);
    case node_type::identifier:
      return eval_function(dot, first, cmd, &cmd.nodes, final);
    case node_type::variable:
      return eval_variable_node(first, &cmd.nodes, final);
    default:
      break;
    }
    at(first);
    not_a_function(cmd.nodes, final);
    switch (first.type) {
    case node_type::boolean:
      return value::of_bool(first.truth);
    case node_type::dot:
      return dot;
    case node_type::nil:
      errorf("nil is not a command");
    case node_type::number:
      return ideal_constant(first);
    case node_type::string:
      return value::of_string(first.text);
    default:
      errorf("can't evaluate command " + quote(node_string(first)));
    }
  }

  // A number literal with no type context: complex, float if written like
  // one, else int.
  value ideal_constant(const node& constant) {
    at(constant);
    const number_info& n = constant.number;
    const std::string& text = constant.text;
    const bool hex_int = text.size() > 2 && text[0] == '0' &&
                         (text[1] == 'x' || text[1] == 'X') &&
                         text.find_first_of("pP") == std::string::npos;
    const bool rune_int = !text.empty() && text[0] == '\'';
    if (n.is_complex)
      return value::of_complex(n.real, n.imag);
    if (n.is_float && !hex_int && !rune_int &&
        text.find_first_of(".eEpP") != std::string::npos)
      return value::of_float(n.float64);
    if (n.is_int)
      return value::of_int(n.int64);
    if (n.is_uint)
      errorf(text + " overflows int");
    return value{};
  }

  value eval_field_node(const value& dot, const node& field,
                        const std::vector<std::unique_ptr<node>>* args,
                        const final_value& final) {
    at(field);
    return eval_field_chain(dot, field.ident, 0, args, final);
  }

  value eval_chain_node(const value& dot, const node& chain,
                        const std::vector<std::unique_ptr<node>>* args,
                        const final_value& final) {
    at(chain);
    if (chain.ident.empty())
      errorf("internal error: no fields in evalChainNode");
    if (chain.pipe->type == node_type::nil)
      errorf("indirection through explicit nil in " + node_string(chain));
    value receiver = eval_arg(dot, param::none, *chain.pipe);
    return eval_field_chain(receiver, chain.ident, 0, args, final);
  }

  value eval_variable_node(const node& variable,
                           const std::vector<std::unique_ptr<node>>* args,
                           const final_value& final) {
    at(variable);
    value v = var_value(variable.ident[0]);
    if (variable.ident.size() == 1) {
      if (args)
        not_a_function(*args, final);
      else if (final)
        errorf("can't give argument to non-function " + node_string(variable));
      return v;
    }
    return eval_field_chain(v, variable.ident, 1, args, final);
  }

  value eval_field_chain(value receiver, const std::vector<std::string>& ident,
                         std::size_t from,
                         const std::vector<std::unique_ptr<node>>* args,
                         const final_value& final) {
    const std::size_t last = ident.size() - 1;
    for (std::size_t i = from; i < last; ++i)
      receiver = eval_field(ident[i], nullptr, std::nullopt, receiver);
    return eval_field(ident[last], args, final, receiver);
  }

  // One step of a field chain: a struct field, a map key, or an error.
  // There are no methods to call: mdb.Machine's are not modelled.
  value eval_field(const std::string& field_name,
                   const std::vector<std::unique_ptr<node>>* args,
                   const final_value& final, const value& receiver_in) {
    if (!receiver_in.valid())
      return value{}; // missing key stays missing
    const std::string typ = type_name(receiver_in);
    auto [receiver, nil] = indirect(receiver_in);
    const bool has_args = (args && args->size() > 1) || final.has_value();
    switch (receiver.kind) {
    case value_kind::machine:
    case value_kind::aws_struct:
      if (has_field(receiver.kind, field_name)) {
        if (has_args)
          errorf(field_name +
                 " has arguments but cannot be invoked as function");
        return struct_field(receiver, field_name);
      }
      break;
    case value_kind::tags: {
      if (has_args)
        errorf(field_name + " is not a method but has arguments");
      if (receiver.map) {
        auto it = receiver.map->find(field_name);
        if (it != receiver.map->end())
          return value::of_string(it->second);
      }
      return value{}; // Go's default missingkey: an invalid value
    }
    case value_kind::aws_pointer:
      if (!has_field(value_kind::aws_pointer, field_name))
        break;
      if (nil)
        errorf("nil pointer evaluating " + typ + "." + field_name);
      break;
    default:
      break;
    }
    errorf("can't evaluate field " + field_name + " in type " + typ);
  }

  value eval_function(const value& dot, const node& identifier, const node& cmd,
                      const std::vector<std::unique_ptr<node>>* args,
                      const final_value& final) {
    at(identifier);
    const builtin_signature* fn = find_builtin(identifier.text);
    if (!fn)
      errorf(quote(identifier.text) + " is not a defined function");
    return eval_call(dot, *fn, cmd, args, final);
  }

  value eval_call(const value& dot, const builtin_signature& fn,
                  const node& call_node,
                  const std::vector<std::unique_ptr<node>>* all_args,
                  const final_value& final) {
    // The first node names the function; the rest are its arguments.
    std::vector<const node*> args;
    if (all_args)
      for (std::size_t i = 1; i < all_args->size(); ++i)
        args.push_back((*all_args)[i].get());
    const std::string name(fn.name);
    const std::size_t num_in = args.size() + (final ? 1 : 0);
    const std::size_t num_params = fn.fixed.size() + (fn.variadic ? 1 : 0);
    std::size_t num_fixed = args.size();
    if (fn.variadic) {
      num_fixed = fn.fixed.size();
      if (num_in < num_fixed)
        errorf("wrong number of args for " + name + ": want at least " +
               std::to_string(num_fixed) + " got " +
               std::to_string(args.size()));
    } else if (num_in != num_params) {
      errorf("wrong number of args for " + name + ": want " +
             std::to_string(num_params) + " got " + std::to_string(num_in));
    }

    if (name == "and" || name == "or") {
      // Short-circuit: stop at the first false (and) or true (or) value.
      value v;
      for (const node* arg : args) {
        v = eval_arg(dot, param::reflect_value, *arg);
        if (truth(v) == (name == "or"))
          return v;
      }
      if (final)
        v = validate_type(*final, param::reflect_value);
      return v;
    }

    std::vector<value> argv;
    argv.reserve(num_in);
    std::size_t i = 0;
    for (; i < num_fixed && i < args.size(); ++i)
      argv.push_back(eval_arg(dot, fn.fixed[i], *args[i]));
    if (fn.variadic)
      for (; i < args.size(); ++i)
        argv.push_back(eval_arg(dot, fn.variadic_type, *args[i]));
    if (final) {
      param t = fn.variadic ? fn.variadic_type : fn.fixed.back();
      if (fn.variadic && num_in - 1 < num_fixed)
        t = fn.fixed[num_in - 1];
      argv.push_back(validate_type(*final, t));
    }
    try {
      return call_builtin(name, argv);
    } catch (const call_error& e) {
      at(call_node);
      errorf("error calling " + name + ": " + e.message);
    }
  }

  value call_builtin(const std::string& name, const std::vector<value>& argv) {
    const std::vector<value> rest(
        argv.size() > 1 ? argv.begin() + 1 : argv.end(), argv.end());
    if (name == "print")
      return value::of_string(bounded_result(
          [&](std::size_t limit) { return go_sprint(argv, limit); }));
    if (name == "println")
      return value::of_string(bounded_result(
          [&](std::size_t limit) { return go_sprintln(argv, limit); }));
    if (name == "printf")
      return value::of_string(bounded_result([&](std::size_t limit) {
        return go_sprintf(argv[0].text, rest, limit);
      }));
    if (name == "html")
      return value::of_string(escaped(argv, html_escape));
    if (name == "js")
      return value::of_string(escaped(argv, js_escape));
    if (name == "urlquery")
      return value::of_string(escaped(argv, query_escape));
    if (name == "len")
      return fn_len(argv[0]);
    if (name == "not")
      return value::of_bool(!truth(argv[0]));
    if (name == "index")
      return fn_index(argv[0], rest);
    if (name == "slice")
      return fn_slice(argv[0], rest);
    if (name == "eq")
      return value::of_bool(fn_eq(argv[0], rest));
    if (name == "ne")
      return value::of_bool(!fn_eq(argv[0], {argv[1]}));
    if (name == "lt")
      return value::of_bool(fn_lt(argv[0], argv[1]));
    if (name == "le")
      return value::of_bool(fn_le(argv[0], argv[1]));
    if (name == "gt")
      return value::of_bool(!fn_le(argv[0], argv[1]));
    if (name == "ge")
      return value::of_bool(!fn_lt(argv[0], argv[1]));
    if (name == "call") {
      if (!argv[0].valid())
        throw call_error{"call of nil"};
      throw call_error{"non-function of type " + type_name(argv[0])};
    }
    throw call_error{"unknown function " + name};
  }

  bool can_be_nil(param typ) {
    return typ == param::reflect_value || typ == param::any;
  }

  // Go's validateType: check (and for nil, convert) a computed value for a
  // parameter of type `typ`.
  value validate_type(const value& v, param typ) {
    if (!v.valid()) {
      if (typ == param::none || can_be_nil(typ))
        return value{};
      errorf("invalid value; expected " + param_name(typ));
    }
    if (typ == param::string && v.kind != value_kind::string)
      errorf("wrong type for value; expected string; got " + type_name(v));
    return v;
  }

  // An argument's value, a string counted against the string budget (a
  // parenthesized pipeline's was counted inside it).
  value eval_arg(const value& dot, param typ, const node& n) {
    if (n.type == node_type::pipe) {
      at(n);
      return validate_type(eval_pipeline(dot, &n), typ);
    }
    return charged(eval_uncounted_arg(dot, typ, n));
  }

  value eval_uncounted_arg(const value& dot, param typ, const node& n) {
    at(n);
    switch (n.type) {
    case node_type::dot:
      return validate_type(dot, typ);
    case node_type::nil:
      if (can_be_nil(typ))
        return value{};
      errorf("cannot assign nil to " + param_name(typ));
    case node_type::field:
      return validate_type(eval_field_node(dot, n, nullptr, std::nullopt), typ);
    case node_type::variable:
      return validate_type(eval_variable_node(n, nullptr, std::nullopt), typ);
    case node_type::identifier:
      return validate_type(eval_function(dot, n, n, nullptr, std::nullopt),
                           typ);
    case node_type::chain:
      return validate_type(eval_chain_node(dot, n, nullptr, std::nullopt), typ);
    default:
      break;
    }
    switch (typ) {
    case param::string:
      at(n);
      if (n.type == node_type::string)
        return value::of_string(n.text);
      errorf("expected string; found " + node_string(n));
    case param::any:
    case param::reflect_value:
      return eval_empty_interface(dot, n);
    case param::none:
      break;
    }
    errorf("can't handle " + node_string(n) + " for arg of type " +
           param_name(typ));
  }

  value eval_empty_interface(const value& dot, const node& n) {
    at(n);
    switch (n.type) {
    case node_type::boolean:
      return value::of_bool(n.truth);
    case node_type::dot:
      return dot;
    case node_type::number:
      return ideal_constant(n);
    case node_type::string:
      return value::of_string(n.text);
    case node_type::nil:
      errorf("evalEmptyInterface: nil (can't happen)");
    default:
      break;
    }
    errorf("can't handle assignment of " + node_string(n) +
           " to empty interface argument");
  }
};

} // namespace

bool execute_template(const tree_set& trees, std::string_view name,
                      std::string_view text, const machine_record& data,
                      const exec_limits& limits, std::string& out,
                      std::string& error, exec_usage* usage) {
  out.clear();
  error.clear();
  executor e(trees, text, name, limits, out);
  bool ok = true;
  try {
    e.run(name, value::of_machine(data));
  } catch (const exec_failure& failure) {
    error = failure.what();
    ok = false;
  }
  if (usage)
    *usage = e.usage();
  return ok;
}

} // namespace dm::tmpl
