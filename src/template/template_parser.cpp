// Recursive-descent parser for Go template syntax. It keeps Go's three-token
// look-ahead buffer because Go's parse errors report the line of the most
// recently lexed token, which depends on how far the parser has peeked.
#include "template/template_parser.hpp"

#include <cmath>
#include <stdexcept>

#include "template/go_text.hpp"
#include "template/template_lexer.hpp"

namespace dm::tmpl {
namespace {

struct parse_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool is_builtin_function(std::string_view name) {
  static constexpr std::string_view names[] = {
      "and", "call", "html",  "index",  "slice",   "js",       "len",
      "not", "or",   "print", "printf", "println", "urlquery", "eq",
      "ge",  "gt",   "le",    "lt",     "ne"};
  for (auto n : names)
    if (n == name)
      return true;
  return false;
}

std::unique_ptr<node> new_node(node_type type, std::size_t pos) {
  auto n = std::make_unique<node>();
  n->type = type;
  n->pos = pos;
  return n;
}

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      parts.emplace_back(s.substr(start));
      return parts;
    }
    parts.emplace_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

// float64(int64(f)) == f and float64(uint64(f)) == f as Go evaluates them
// on amd64, without undefined conversions.
bool float_is_int(double f) {
  return f >= -9223372036854775808.0 && f < 9223372036854775808.0 &&
         static_cast<double>(static_cast<std::int64_t>(f)) == f;
}

bool float_is_uint(double f) {
  return f > -1.0 && f < 18446744073709551616.0 &&
         static_cast<double>(static_cast<std::uint64_t>(f)) == f;
}

void simplify_complex(number_info& n) {
  n.is_float = n.imag == 0;
  if (n.is_float) {
    n.float64 = n.real;
    n.is_int = float_is_int(n.float64);
    if (n.is_int)
      n.int64 = static_cast<std::int64_t>(n.float64);
    n.is_uint = float_is_uint(n.float64);
    if (n.is_uint)
      n.uint64 = static_cast<std::uint64_t>(n.float64);
  }
}

bool is_empty_tree(const node* n) {
  if (!n)
    return true;
  switch (n->type) {
  case node_type::list:
    for (const auto& child : n->nodes)
      if (!is_empty_tree(child.get()))
        return false;
    return true;
  case node_type::text:
    for (char c : n->text)
      if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
            c == '\f'))
        return false;
    return true;
  default:
    return false;
  }
}

// The token stream shared by the top-level tree and any {{define}}d ones,
// which Go parses with separate tree parsers reading one lexer.
// Shared by the tree parsers of one parse.
struct parse_budget {
  int depth = 0;         // current nesting, against max_nesting
  std::size_t nodes = 0; // nodes made so far, against max_nodes
};

struct token_stream {
  std::vector<item> items;
  std::size_t cursor = 0;

  item next() {
    if (cursor < items.size())
      return items[cursor++];
    return item{}; // Go's closed channel yields a zero item
  }
};

class tree_parser {
public:
  tree_parser(std::string name, std::string_view parse_name,
              token_stream& stream, tree_set& trees, parse_budget& budget)
      : name_(std::move(name)), parse_name_(parse_name), stream_(stream),
        trees_(trees), budget_(budget) {}

  // Top level: a sequence of text and actions, with {{define}}s peeled off.
  void parse() {
    root_ = make_node(node_type::list, peek().pos);
    while (peek().type != item_type::eof) {
      if (peek().type == item_type::left_delim) {
        item delim = next();
        if (next_non_space().type == item_type::define) {
          tree_parser definition("definition", parse_name_, stream_, trees_,
                                 budget_);
          definition.parse_definition();
          continue;
        }
        backup2(delim);
      }
      auto n = text_or_action();
      if (n->type == node_type::end || n->type == node_type::else_)
        errorf("unexpected " + node_string(*n));
      root_->nodes.push_back(std::move(n));
    }
    add();
  }

private:
  std::string name_;
  std::string_view parse_name_;
  token_stream& stream_;
  tree_set& trees_;
  parse_budget& budget_;
  std::unique_ptr<node> root_;
  item token_[3];
  int peek_count_ = 0;
  std::vector<std::string> vars_{"$"};
  int action_line_ = 0;
  int range_depth_ = 0;

  // RAII guard on nesting depth.
  struct nesting {
    tree_parser& p;
    explicit nesting(tree_parser& parser) : p(parser) {
      if (++p.budget_.depth > max_nesting)
        p.errorf("template nesting too deep");
    }
    ~nesting() { --p.budget_.depth; }
  };

  // Every node of every tree of the parse counts against max_nodes.
  std::unique_ptr<node> make_node(node_type type, std::size_t pos) {
    if (++budget_.nodes > max_nodes)
      errorf("template has more than " + std::to_string(max_nodes) + " nodes");
    return new_node(type, pos);
  }

  [[noreturn]] void errorf(const std::string& message) {
    throw parse_failure("template: " + std::string(parse_name_) + ":" +
                        std::to_string(token_[0].line) + ": " + message);
  }

  [[noreturn]] void unexpected(const item& token, std::string_view context) {
    if (token.type == item_type::error) {
      std::string extra;
      if (action_line_ != 0 && action_line_ != token.line) {
        extra = " in action started at " + std::string(parse_name_) + ":" +
                std::to_string(action_line_);
        const std::string suffix = " action";
        if (token.val.size() >= suffix.size() &&
            token.val.compare(token.val.size() - suffix.size(), suffix.size(),
                              suffix) == 0)
          extra = extra.substr(std::string(" in action").size());
      }
      errorf(item_string(token) + extra);
    }
    errorf("unexpected " + item_string(token) + " in " + std::string(context));
  }

  item next() {
    if (peek_count_ > 0)
      --peek_count_;
    else
      token_[0] = stream_.next();
    return token_[peek_count_];
  }

  void backup() { ++peek_count_; }

  void backup2(const item& t1) {
    token_[1] = t1;
    peek_count_ = 2;
  }

  void backup3(const item& t2, const item& t1) {
    token_[1] = t1;
    token_[2] = t2;
    peek_count_ = 3;
  }

  item peek() {
    if (peek_count_ > 0)
      return token_[peek_count_ - 1];
    peek_count_ = 1;
    token_[0] = stream_.next();
    return token_[0];
  }

  item next_non_space() {
    item token;
    do {
      token = next();
    } while (token.type == item_type::space);
    return token;
  }

  item peek_non_space() {
    item token = next_non_space();
    backup();
    return token;
  }

  item expect(item_type expected, std::string_view context) {
    item token = next_non_space();
    if (token.type != expected)
      unexpected(token, context);
    return token;
  }

  std::string unquote_or_fail(const std::string& literal) {
    std::string value;
    if (!unquote(literal, value))
      errorf("invalid syntax");
    return value;
  }

  void add() {
    auto it = trees_.find(name_);
    if (it == trees_.end() || is_empty_tree(it->second.get())) {
      trees_[name_] = std::move(root_);
      return;
    }
    if (!is_empty_tree(root_.get()))
      errorf("template: multiple definition of template " + quote(name_));
  }

  void parse_definition() {
    const std::string_view context = "define clause";
    item token = next_non_space();
    if (token.type != item_type::string && token.type != item_type::raw_string)
      unexpected(token, context);
    name_ = unquote_or_fail(token.val);
    expect(item_type::right_delim, context);
    auto [list, end] = item_list();
    root_ = std::move(list);
    if (end->type != node_type::end)
      errorf("unexpected " + node_string(*end) + " in " + std::string(context));
    add();
  }

  std::pair<std::unique_ptr<node>, std::unique_ptr<node>> item_list() {
    nesting guard(*this);
    auto list = make_node(node_type::list, peek_non_space().pos);
    while (peek_non_space().type != item_type::eof) {
      auto n = text_or_action();
      if (n->type == node_type::end || n->type == node_type::else_)
        return {std::move(list), std::move(n)};
      list->nodes.push_back(std::move(n));
    }
    errorf("unexpected EOF");
  }

  std::unique_ptr<node> text_or_action() {
    item token = next_non_space();
    switch (token.type) {
    case item_type::text: {
      auto n = make_node(node_type::text, token.pos);
      n->text = token.val;
      return n;
    }
    case item_type::left_delim: {
      action_line_ = token.line;
      auto n = action();
      action_line_ = 0;
      return n;
    }
    default:
      unexpected(token, "input");
    }
  }

  std::unique_ptr<node> action() {
    item token = next_non_space();
    switch (token.type) {
    case item_type::block:
      return block_control();
    case item_type::break_:
      return break_or_continue(token, node_type::break_);
    case item_type::continue_:
      return break_or_continue(token, node_type::continue_);
    case item_type::else_:
      return else_control();
    case item_type::end:
      return end_control();
    case item_type::if_:
      return if_control();
    case item_type::range:
      return branch_control(node_type::range);
    case item_type::template_:
      return template_control();
    case item_type::with:
      return branch_control(node_type::with);
    default:
      break;
    }
    backup();
    item first = peek();
    auto n = make_node(node_type::action, first.pos);
    n->pipe = pipeline("command", item_type::right_delim);
    return n;
  }

  std::unique_ptr<node> break_or_continue(const item& keyword, node_type type) {
    const char* name = type == node_type::break_ ? "{{break}}" : "{{continue}}";
    item token = next_non_space();
    if (token.type != item_type::right_delim)
      unexpected(token, name);
    if (range_depth_ == 0)
      errorf(std::string(name) + " outside {{range}}");
    return make_node(type, keyword.pos);
  }

  std::unique_ptr<node> pipeline(std::string_view context, item_type end) {
    nesting guard(*this);
    item first = peek_non_space();
    auto pipe = make_node(node_type::pipe, first.pos);
    // Declarations or assignments: "$x :=", "$x =", "$i, $v :=".
    for (;;) {
      item v = peek_non_space();
      if (v.type != item_type::variable)
        break;
      next();
      // Spaces are tokens, so three tokens of look-ahead are needed: in
      // "$x foo" the variable is an argument, not a declaration.
      item token_after_variable = peek();
      item after = peek_non_space();
      if (after.type == item_type::assign || after.type == item_type::declare) {
        pipe->is_assign = after.type == item_type::assign;
        next_non_space();
        pipe->decl.push_back(new_variable(v.pos, v.val));
        vars_.push_back(v.val);
        break;
      }
      if (after.type == item_type::char_ && after.val == ",") {
        next_non_space();
        pipe->decl.push_back(new_variable(v.pos, v.val));
        vars_.push_back(v.val);
        if (context == "range" && pipe->decl.size() < 2) {
          item_type t = peek_non_space().type;
          if (t == item_type::variable || t == item_type::right_delim ||
              t == item_type::right_paren)
            continue; // the second variable of a range
          errorf("range can only initialize variables");
        }
        errorf("too many declarations in " + std::string(context));
      }
      if (token_after_variable.type == item_type::space)
        backup3(v, token_after_variable);
      else
        backup2(v);
      break;
    }
    for (;;) {
      item token = next_non_space();
      if (token.type == end) {
        check_pipeline(*pipe, context);
        return pipe;
      }
      switch (token.type) {
      case item_type::boolean:
      case item_type::char_constant:
      case item_type::complex:
      case item_type::dot:
      case item_type::field:
      case item_type::identifier:
      case item_type::number:
      case item_type::nil:
      case item_type::raw_string:
      case item_type::string:
      case item_type::variable:
      case item_type::left_paren:
        backup();
        pipe->nodes.push_back(command());
        break;
      default:
        unexpected(token, context);
      }
    }
  }

  void check_pipeline(const node& pipe, std::string_view context) {
    if (pipe.nodes.empty())
      errorf("missing value for " + std::string(context));
    for (std::size_t i = 1; i < pipe.nodes.size(); ++i) {
      switch (pipe.nodes[i]->nodes[0]->type) {
      case node_type::boolean:
      case node_type::dot:
      case node_type::nil:
      case node_type::number:
      case node_type::string:
        errorf("non executable command in pipeline stage " +
               std::to_string(i + 1));
      default:
        break;
      }
    }
  }

  struct control_parts {
    std::size_t pos;
    std::unique_ptr<node> pipe, list, else_list;
  };

  control_parts parse_control(bool allow_else_if, std::string_view context) {
    nesting guard(*this);
    const std::size_t saved_vars = vars_.size();
    control_parts parts;
    parts.pipe = pipeline(context, item_type::right_delim);
    if (context == "range")
      ++range_depth_;
    auto [list, next_node] = item_list();
    if (context == "range")
      --range_depth_;
    parts.list = std::move(list);
    if (next_node->type == node_type::else_) {
      if (allow_else_if && peek().type == item_type::if_) {
        // "{{else if ...}}" is an if inside the else branch that shares
        // this {{end}}.
        next();
        parts.else_list = make_node(node_type::list, next_node->pos);
        parts.else_list->nodes.push_back(if_control());
      } else {
        auto [else_list, end] = item_list();
        if (end->type != node_type::end)
          errorf("expected end; found " + node_string(*end));
        parts.else_list = std::move(else_list);
      }
    }
    parts.pos = parts.pipe->pos;
    vars_.resize(saved_vars);
    return parts;
  }

  std::unique_ptr<node> build_branch(node_type type, control_parts parts) {
    auto n = make_node(type, parts.pos);
    n->pipe = std::move(parts.pipe);
    n->list = std::move(parts.list);
    n->else_list = std::move(parts.else_list);
    return n;
  }

  std::unique_ptr<node> if_control() {
    return build_branch(node_type::if_, parse_control(true, "if"));
  }

  std::unique_ptr<node> branch_control(node_type type) {
    return build_branch(
        type,
        parse_control(false, type == node_type::range ? "range" : "with"));
  }

  std::unique_ptr<node> end_control() {
    return make_node(node_type::end, expect(item_type::right_delim, "end").pos);
  }

  std::unique_ptr<node> else_control() {
    item p = peek_non_space();
    if (p.type == item_type::if_)
      return make_node(node_type::else_, p.pos);
    item token = expect(item_type::right_delim, "else");
    return make_node(node_type::else_, token.pos);
  }

  std::string parse_template_name(const item& token, std::string_view context) {
    if (token.type != item_type::string && token.type != item_type::raw_string)
      unexpected(token, context);
    return unquote_or_fail(token.val);
  }

  std::unique_ptr<node> template_control() {
    const std::string_view context = "template clause";
    item token = next_non_space();
    std::string name = parse_template_name(token, context);
    std::unique_ptr<node> pipe;
    if (next_non_space().type != item_type::right_delim) {
      backup();
      pipe = pipeline(context, item_type::right_delim);
    }
    auto n = make_node(node_type::template_, token.pos);
    n->text = std::move(name);
    n->pipe = std::move(pipe);
    return n;
  }

  // {{block "name" pipeline}}...{{end}}: define the body, then invoke it.
  std::unique_ptr<node> block_control() {
    const std::string_view context = "block clause";
    item token = next_non_space();
    std::string name = parse_template_name(token, context);
    auto pipe = pipeline(context, item_type::right_delim);
    tree_parser block(name, parse_name_, stream_, trees_, budget_);
    auto [list, end] = block.item_list();
    block.root_ = std::move(list);
    if (end->type != node_type::end)
      errorf("unexpected " + node_string(*end) + " in " + std::string(context));
    block.add();
    auto n = make_node(node_type::template_, token.pos);
    n->text = std::move(name);
    n->pipe = std::move(pipe);
    return n;
  }

  std::unique_ptr<node> command() {
    auto cmd = make_node(node_type::command, peek_non_space().pos);
    for (;;) {
      peek_non_space(); // skip leading spaces
      if (auto operand_node = operand())
        cmd->nodes.push_back(std::move(operand_node));
      item token = next();
      if (token.type == item_type::space)
        continue;
      if (token.type == item_type::right_delim ||
          token.type == item_type::right_paren) {
        backup();
      } else if (token.type != item_type::pipe) {
        unexpected(token, "operand");
      }
      break;
    }
    if (cmd->nodes.empty())
      errorf("empty command");
    return cmd;
  }

  std::unique_ptr<node> operand() {
    auto n = term();
    if (!n)
      return n;
    if (peek().type == item_type::field) {
      auto chain = make_node(node_type::chain, peek().pos);
      while (peek().type == item_type::field)
        chain->ident.push_back(next().val.substr(1));
      switch (n->type) {
      case node_type::field: {
        // .A followed by .B is the single field node .A.B.
        std::string joined = node_string(*n);
        for (const auto& f : chain->ident)
          joined += "." + f;
        auto field = make_node(node_type::field, chain->pos);
        field->ident = split_dots(std::string_view(joined).substr(1));
        return field;
      }
      case node_type::variable: {
        std::string joined = node_string(*n);
        for (const auto& f : chain->ident)
          joined += "." + f;
        return new_variable(chain->pos, joined);
      }
      case node_type::boolean:
      case node_type::string:
      case node_type::number:
      case node_type::nil:
      case node_type::dot:
        errorf("unexpected . after term " + quote(node_string(*n)));
      default:
        chain->pipe = std::move(n);
        return chain;
      }
    }
    return n;
  }

  std::unique_ptr<node> term() {
    item token = next_non_space();
    switch (token.type) {
    case item_type::identifier: {
      if (!is_builtin_function(token.val))
        errorf("function " + quote(token.val) + " not defined");
      auto n = make_node(node_type::identifier, token.pos);
      n->text = token.val;
      return n;
    }
    case item_type::dot:
      return make_node(node_type::dot, token.pos);
    case item_type::nil:
      return make_node(node_type::nil, token.pos);
    case item_type::variable:
      return use_var(token.pos, token.val);
    case item_type::field: {
      auto n = make_node(node_type::field, token.pos);
      n->ident = split_dots(std::string_view(token.val).substr(1));
      return n;
    }
    case item_type::boolean: {
      auto n = make_node(node_type::boolean, token.pos);
      n->truth = token.val == "true";
      return n;
    }
    case item_type::char_constant:
    case item_type::complex:
    case item_type::number:
      return new_number(token);
    case item_type::left_paren:
      return pipeline("parenthesized pipeline", item_type::right_paren);
    case item_type::string:
    case item_type::raw_string: {
      auto n = make_node(node_type::string, token.pos);
      n->text = unquote_or_fail(token.val);
      n->quoted = token.val;
      return n;
    }
    default:
      backup();
      return nullptr;
    }
  }

  std::unique_ptr<node> new_variable(std::size_t pos, std::string_view name) {
    auto v = make_node(node_type::variable, pos);
    v->ident = split_dots(name);
    return v;
  }

  std::unique_ptr<node> use_var(std::size_t pos, std::string_view name) {
    auto v = new_variable(pos, name);
    for (const auto& known : vars_)
      if (known == v->ident[0])
        return v;
    errorf("undefined variable " + quote(v->ident[0]));
  }

  // What fmt.Sscan does with a complex literal such as "1+2i": a float
  // token, a sign, another float token, then 'i'.
  void parse_complex(std::string_view text, number_info& num) {
    std::size_t i = 0;
    auto accept = [&](std::string_view valid) {
      if (i < text.size() && valid.find(text[i]) != std::string_view::npos) {
        ++i;
        return true;
      }
      return false;
    };
    auto float_token = [&](std::size_t start) {
      accept("+-");
      if (accept("iI")) { // Sscan's "Inf" check consumes the i
        if (accept("nN"))
          accept("fF");
        return text.substr(start, i - start);
      }
      std::string_view digits = "0123456789_";
      std::string_view exponent = "eEpP";
      if (accept("0") && accept("xX")) {
        digits = "0123456789aAbBcCdDeEfF_";
        exponent = "pP";
      }
      while (accept(digits)) {
      }
      if (accept(".")) {
        while (accept(digits)) {
        }
      }
      if (accept(exponent)) {
        accept("+-");
        while (accept("0123456789_")) {
        }
      }
      return text.substr(start, i - start);
    };
    const std::string_view real_text = float_token(0);
    const std::size_t sign = i;
    if (!accept("+-"))
      errorf("syntax error scanning complex number");
    i = sign + 1;
    const std::string_view imag_text = float_token(sign + 1);
    const std::string imag_with_sign =
        std::string(text.substr(sign, 1)) + std::string(imag_text);
    if (!accept("i"))
      errorf("syntax error scanning complex number");
    auto convert = [&](std::string_view part) {
      double value;
      bool out_of_range = false;
      if (!parse_float(part, value, &out_of_range))
        errorf("strconv.ParseFloat: parsing " + quote(part) +
               (out_of_range ? ": value out of range" : ": invalid syntax"));
      return value;
    };
    num.is_complex = true;
    num.real = convert(real_text);
    num.imag = convert(imag_with_sign);
    simplify_complex(num);
  }

  std::unique_ptr<node> new_number(const item& token) {
    auto n = make_node(node_type::number, token.pos);
    n->text = token.val;
    number_info& num = n->number;
    const std::string& text = token.val;

    if (token.type == item_type::char_constant) {
      std::string_view rest = std::string_view(text).substr(1);
      char32_t r;
      bool multibyte;
      if (!unquote_char(rest, text[0], r, multibyte))
        errorf("invalid syntax");
      if (rest != "'")
        errorf("malformed character constant: " + text);
      num.int64 = r;
      num.is_int = true;
      num.uint64 = r;
      num.is_uint = true;
      num.float64 = r;
      num.is_float = true;
      return n;
    }
    if (token.type == item_type::complex) {
      parse_complex(text, num);
      return n;
    }
    // Imaginary constants are complex unless they are zero.
    if (!text.empty() && text.back() == 'i') {
      double f;
      if (parse_float(std::string_view(text).substr(0, text.size() - 1), f)) {
        num.is_complex = true;
        num.real = 0;
        num.imag = f;
        simplify_complex(num);
        return n;
      }
    }
    std::uint64_t u = 0;
    if (parse_uint(text, u)) {
      num.is_uint = true;
      num.uint64 = u;
    }
    std::int64_t i = 0;
    if (parse_int(text, i)) {
      num.is_int = true;
      num.int64 = i;
      if (i == 0) { // "-0"
        num.is_uint = true;
        num.uint64 = u;
      }
    }
    if (num.is_int) {
      num.is_float = true;
      num.float64 = static_cast<double>(num.int64);
    } else if (num.is_uint) {
      num.is_float = true;
      num.float64 = static_cast<double>(num.uint64);
    } else {
      double f;
      if (parse_float(text, f)) {
        // A float-looking parse of something without a point or exponent
        // is an integer too large for 64 bits.
        if (text.find_first_of(".eEpP") == std::string::npos)
          errorf("integer overflow: " + quote(text));
        num.is_float = true;
        num.float64 = f;
        if (!num.is_int && float_is_int(f)) {
          num.is_int = true;
          num.int64 = static_cast<std::int64_t>(f);
        }
        if (!num.is_uint && float_is_uint(f)) {
          num.is_uint = true;
          num.uint64 = static_cast<std::uint64_t>(f);
        }
      }
    }
    if (!num.is_int && !num.is_uint && !num.is_float)
      errorf("illegal number syntax: " + quote(text));
    return n;
  }
};

void write_node(std::string& out, const node& n);

void write_pipe(std::string& out, const node& pipe) {
  if (!pipe.decl.empty()) {
    for (std::size_t i = 0; i < pipe.decl.size(); ++i) {
      if (i > 0)
        out += ", ";
      write_node(out, *pipe.decl[i]);
    }
    out += " := "; // Go prints ":=" for assignments too
  }
  for (std::size_t i = 0; i < pipe.nodes.size(); ++i) {
    if (i > 0)
      out += " | ";
    write_node(out, *pipe.nodes[i]);
  }
}

void write_node(std::string& out, const node& n) {
  switch (n.type) {
  case node_type::text:
    out += n.text;
    return;
  case node_type::action:
    out += "{{";
    write_pipe(out, *n.pipe);
    out += "}}";
    return;
  case node_type::boolean:
    out += n.truth ? "true" : "false";
    return;
  case node_type::chain:
    if (n.pipe->type == node_type::pipe) {
      out += '(';
      write_node(out, *n.pipe);
      out += ')';
    } else {
      write_node(out, *n.pipe);
    }
    for (const auto& f : n.ident)
      out += "." + f;
    return;
  case node_type::command:
    for (std::size_t i = 0; i < n.nodes.size(); ++i) {
      if (i > 0)
        out += ' ';
      if (n.nodes[i]->type == node_type::pipe) {
        out += '(';
        write_node(out, *n.nodes[i]);
        out += ')';
      } else {
        write_node(out, *n.nodes[i]);
      }
    }
    return;
  case node_type::dot:
    out += '.';
    return;
  case node_type::else_:
    out += "{{else}}";
    return;
  case node_type::end:
    out += "{{end}}";
    return;
  case node_type::field:
    for (const auto& f : n.ident)
      out += "." + f;
    return;
  case node_type::identifier:
    out += n.text;
    return;
  case node_type::if_:
  case node_type::range:
  case node_type::with:
    out += n.type == node_type::if_     ? "{{if "
           : n.type == node_type::range ? "{{range "
                                        : "{{with ";
    write_pipe(out, *n.pipe);
    out += "}}";
    write_node(out, *n.list);
    if (n.else_list) {
      out += "{{else}}";
      write_node(out, *n.else_list);
    }
    out += "{{end}}";
    return;
  case node_type::list:
    for (const auto& child : n.nodes)
      write_node(out, *child);
    return;
  case node_type::nil:
    out += "nil";
    return;
  case node_type::number:
    out += n.text;
    return;
  case node_type::pipe:
    write_pipe(out, n);
    return;
  case node_type::string:
    out += n.quoted;
    return;
  case node_type::template_:
    out += "{{template " + quote(n.text);
    if (n.pipe) {
      out += ' ';
      write_pipe(out, *n.pipe);
    }
    out += "}}";
    return;
  case node_type::variable:
    for (std::size_t i = 0; i < n.ident.size(); ++i) {
      if (i > 0)
        out += '.';
      out += n.ident[i];
    }
    return;
  case node_type::break_:
    out += "{{break}}";
    return;
  case node_type::continue_:
    out += "{{continue}}";
    return;
  }
}

} // namespace

std::string node_string(const node& n) {
  std::string out;
  write_node(out, n);
  return out;
}

bool parse_template(std::string_view name, std::string_view text,
                    tree_set& trees, std::string& error) {
  trees.clear();
  error.clear();
  if (text.size() > max_template_bytes) {
    error = "template: " + std::string(name) + ": template text is " +
            std::to_string(text.size()) + " bytes, more than " +
            std::to_string(max_template_bytes);
    return false;
  }
  token_stream stream{lex_template(text), 0};
  parse_budget budget;
  try {
    tree_parser parser(std::string(name), name, stream, trees, budget);
    parser.parse();
  } catch (const parse_failure& failure) {
    trees.clear();
    error = failure.what();
    return false;
  }
  return true;
}

} // namespace dm::tmpl
