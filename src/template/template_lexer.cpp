// Lexer for Go template syntax, state for state as Go scans it, so that the
// same input stops at the same place with the same message.
#include "template/template_lexer.hpp"

#include <algorithm>

#include "template/go_fmt.hpp"
#include "template/go_text.hpp"

namespace dm::tmpl {
namespace {

constexpr char32_t eof_rune = static_cast<char32_t>(-1);
constexpr std::string_view open_delim = "{{";
constexpr std::string_view close_delim = "}}";
constexpr std::string_view left_comment = "/*";
constexpr std::string_view right_comment = "*/";
constexpr std::size_t trim_marker_len = 2; // marker plus the space next to it

bool is_space(char32_t r) {
  return r == ' ' || r == '\t' || r == '\r' || r == '\n';
}

bool is_alphanumeric(char32_t r) {
  return r == '_' || is_letter(r) || is_digit(r);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool has_left_trim_marker(std::string_view s) {
  return s.size() >= 2 && s[0] == '-' &&
         is_space(static_cast<unsigned char>(s[1]));
}

bool has_right_trim_marker(std::string_view s) {
  return s.size() >= 2 && is_space(static_cast<unsigned char>(s[0])) &&
         s[1] == '-';
}

std::size_t right_trim_length(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() &&
         is_space(static_cast<unsigned char>(s[s.size() - 1 - n])))
    ++n;
  return n;
}

std::size_t left_trim_length(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && is_space(static_cast<unsigned char>(s[n])))
    ++n;
  return n;
}

std::string unicode_name(char32_t r) {
  return go_sprintf("%#U", {value::of_int(static_cast<std::int64_t>(r))});
}

item_type keyword_type(std::string_view word) {
  if (word == "block")
    return item_type::block;
  if (word == "break")
    return item_type::break_;
  if (word == "continue")
    return item_type::continue_;
  if (word == "define")
    return item_type::define;
  if (word == "else")
    return item_type::else_;
  if (word == "end")
    return item_type::end;
  if (word == "if")
    return item_type::if_;
  if (word == "range")
    return item_type::range;
  if (word == "nil")
    return item_type::nil;
  if (word == "template")
    return item_type::template_;
  if (word == "with")
    return item_type::with;
  return item_type::error;
}

class lexer {
public:
  explicit lexer(std::string_view input) : input_(input) {
    for (std::size_t i = 0; i < input.size(); ++i)
      if (input[i] == '\n')
        newlines_.push_back(i);
  }

  std::vector<item> run() {
    state s = state::text;
    while (s != state::done)
      s = step(s);
    return std::move(items_);
  }

private:
  enum class state {
    text,
    left_delim,
    comment,
    right_delim,
    inside_action,
    space,
    identifier,
    field,
    variable,
    char_constant,
    number,
    quote,
    raw_quote,
    done,
  };

  std::string_view input_;
  std::vector<std::size_t> newlines_;
  std::vector<item> items_;
  std::size_t pos_ = 0, start_ = 0;
  bool at_eof_ = false;
  int paren_depth_ = 0;

  int line_at(std::size_t pos) const {
    return 1 + static_cast<int>(
                   std::lower_bound(newlines_.begin(), newlines_.end(), pos) -
                   newlines_.begin());
  }

  std::string_view rest() const {
    return input_.substr(std::min(pos_, input_.size()));
  }

  char32_t next() {
    if (pos_ >= input_.size()) {
      at_eof_ = true;
      return eof_rune;
    }
    char32_t r;
    pos_ += decode_rune(input_, pos_, r);
    return r;
  }

  // Go never un-reads after reaching the end of input; neither do we.
  void backup() {
    if (!at_eof_ && pos_ > 0) {
      char32_t r;
      pos_ -= decode_last_rune(input_, pos_, r);
    }
  }

  char32_t peek() {
    char32_t r = next();
    backup();
    return r;
  }

  void emit(item_type t) {
    items_.push_back(item{t, start_,
                          std::string(input_.substr(start_, pos_ - start_)),
                          line_at(start_)});
    start_ = pos_;
  }

  void ignore() { start_ = pos_; }

  state errorf(std::string message) {
    items_.push_back(
        item{item_type::error, start_, std::move(message), line_at(start_)});
    return state::done;
  }

  bool accept(std::string_view valid) {
    char32_t r = next();
    if (r != eof_rune && r < 0x80 &&
        valid.find(static_cast<char>(r)) != std::string_view::npos)
      return true;
    backup();
    return false;
  }

  void accept_run(std::string_view valid) {
    while (accept(valid)) {
    }
  }

  std::pair<bool, bool> at_right_delim() const {
    std::string_view r = rest();
    if (has_right_trim_marker(r) &&
        starts_with(r.substr(trim_marker_len), close_delim))
      return {true, true};
    if (starts_with(r, close_delim))
      return {true, false};
    return {false, false};
  }

  bool at_terminator() {
    char32_t r = peek();
    if (is_space(r))
      return true;
    switch (r) {
    case eof_rune:
    case '.':
    case ',':
    case '|':
    case ':':
    case ')':
    case '(':
      return true;
    default:
      break;
    }
    return starts_with(rest(), close_delim);
  }

  state step(state s) {
    switch (s) {
    case state::text:
      return lex_text();
    case state::left_delim:
      return lex_left_delim();
    case state::comment:
      return lex_comment();
    case state::right_delim:
      return lex_right_delim();
    case state::inside_action:
      return lex_inside_action();
    case state::space:
      return lex_space();
    case state::identifier:
      return lex_identifier();
    case state::field:
      return lex_field_or_variable(item_type::field);
    case state::variable:
      if (at_terminator()) { // a lone "$"
        emit(item_type::variable);
        return state::inside_action;
      }
      return lex_field_or_variable(item_type::variable);
    case state::char_constant:
      return lex_quoted('\'', item_type::char_constant,
                        "unterminated character constant");
    case state::number:
      return lex_number();
    case state::quote:
      return lex_quoted('"', item_type::string, "unterminated quoted string");
    case state::raw_quote:
      return lex_raw_quote();
    case state::done:
      break;
    }
    return state::done;
  }

  state lex_text() {
    std::size_t x = input_.find(open_delim, pos_);
    if (x != std::string_view::npos) {
      pos_ = x;
      std::size_t trim = 0;
      if (has_left_trim_marker(input_.substr(pos_ + open_delim.size())))
        trim = right_trim_length(input_.substr(start_, pos_ - start_));
      pos_ -= trim;
      if (pos_ > start_)
        emit(item_type::text);
      pos_ += trim;
      ignore();
      return state::left_delim;
    }
    pos_ = input_.size();
    if (pos_ > start_)
      emit(item_type::text);
    emit(item_type::eof);
    return state::done;
  }

  state lex_left_delim() {
    pos_ += open_delim.size();
    const bool trim = has_left_trim_marker(rest());
    const std::size_t after_marker = trim ? trim_marker_len : 0;
    if (starts_with(input_.substr(std::min(pos_ + after_marker, input_.size())),
                    left_comment)) {
      pos_ += after_marker;
      ignore();
      return state::comment;
    }
    emit(item_type::left_delim);
    pos_ += after_marker;
    ignore();
    paren_depth_ = 0;
    return state::inside_action;
  }

  state lex_comment() {
    pos_ += left_comment.size();
    std::size_t i = input_.find(right_comment, pos_);
    if (i == std::string_view::npos)
      return errorf("unclosed comment");
    pos_ = i + right_comment.size();
    auto [delim, trim] = at_right_delim();
    if (!delim)
      return errorf("comment ends before closing delimiter");
    if (trim)
      pos_ += trim_marker_len;
    pos_ += close_delim.size();
    if (trim)
      pos_ += left_trim_length(rest());
    ignore();
    return state::text;
  }

  state lex_right_delim() {
    const bool trim = has_right_trim_marker(rest());
    if (trim) {
      pos_ += trim_marker_len;
      ignore();
    }
    pos_ += close_delim.size();
    emit(item_type::right_delim);
    if (trim) {
      pos_ += left_trim_length(rest());
      ignore();
    }
    return state::text;
  }

  state lex_inside_action() {
    if (at_right_delim().first) {
      if (paren_depth_ == 0)
        return state::right_delim;
      return errorf("unclosed left paren");
    }
    char32_t r = next();
    if (r == eof_rune)
      return errorf("unclosed action");
    if (is_space(r)) {
      backup(); // the space may belong to " -}}"
      return state::space;
    }
    switch (r) {
    case '=':
      emit(item_type::assign);
      return state::inside_action;
    case ':':
      if (next() != '=')
        return errorf("expected :=");
      emit(item_type::declare);
      return state::inside_action;
    case '|':
      emit(item_type::pipe);
      return state::inside_action;
    case '"':
      return state::quote;
    case '`':
      return state::raw_quote;
    case '$':
      return state::variable;
    case '\'':
      return state::char_constant;
    case '(':
      emit(item_type::left_paren);
      ++paren_depth_;
      return state::inside_action;
    case ')':
      emit(item_type::right_paren);
      --paren_depth_;
      if (paren_depth_ < 0)
        return errorf("unexpected right paren " + unicode_name(r));
      return state::inside_action;
    default:
      break;
    }
    if (r == '.') {
      // ".field" unless a digit follows, which makes it a number.
      if (pos_ < input_.size()) {
        char c = input_[pos_];
        if (c < '0' || c > '9')
          return state::field;
      }
      backup();
      return state::number;
    }
    if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
      backup();
      return state::number;
    }
    if (is_alphanumeric(r)) {
      backup();
      return state::identifier;
    }
    if (r < 0x80 && is_print(r)) {
      emit(item_type::char_);
      return state::inside_action;
    }
    return errorf("unrecognized character in action: " + unicode_name(r));
  }

  state lex_space() {
    int spaces = 0;
    while (is_space(peek())) {
      next();
      ++spaces;
    }
    // A space followed by "-}}" belongs to the trim marker, not to us.
    std::string_view from_last = input_.substr(pos_ - 1);
    if (has_right_trim_marker(from_last) &&
        starts_with(from_last.substr(trim_marker_len), close_delim)) {
      backup();
      if (spaces == 1)
        return state::right_delim;
    }
    emit(item_type::space);
    return state::inside_action;
  }

  state lex_identifier() {
    for (;;) {
      char32_t r = next();
      if (is_alphanumeric(r))
        continue;
      backup();
      std::string_view word = input_.substr(start_, pos_ - start_);
      if (!at_terminator())
        return errorf("bad character " + unicode_name(r));
      item_type keyword = keyword_type(word);
      if (keyword != item_type::error)
        emit(keyword);
      else if (word == "true" || word == "false")
        emit(item_type::boolean);
      else
        emit(item_type::identifier);
      return state::inside_action;
    }
  }

  state lex_field_or_variable(item_type t) {
    if (at_terminator()) { // nothing follows: "." or "$"
      emit(t == item_type::variable ? item_type::variable : item_type::dot);
      return state::inside_action;
    }
    char32_t r;
    for (;;) {
      r = next();
      if (!is_alphanumeric(r)) {
        backup();
        break;
      }
    }
    if (!at_terminator())
      return errorf("bad character " + unicode_name(r));
    emit(t);
    return state::inside_action;
  }

  state lex_quoted(char32_t quote_char, item_type t, const char* unterminated) {
    for (;;) {
      char32_t r = next();
      if (r == '\\') {
        r = next();
        if (r != eof_rune && r != '\n')
          continue;
        return errorf(unterminated);
      }
      if (r == eof_rune || r == '\n')
        return errorf(unterminated);
      if (r == quote_char)
        break;
    }
    emit(t);
    return state::inside_action;
  }

  state lex_raw_quote() {
    for (;;) {
      char32_t r = next();
      if (r == eof_rune)
        return errorf("unterminated raw quoted string");
      if (r == '`')
        break;
    }
    emit(item_type::raw_string);
    return state::inside_action;
  }

  state lex_number() {
    if (!scan_number())
      return errorf("bad number syntax: " +
                    quote(input_.substr(start_, pos_ - start_)));
    char32_t sign = peek();
    if (sign == '+' || sign == '-') {
      // Complex: 1+2i, no spaces, must end in 'i'.
      if (!scan_number() || input_[pos_ - 1] != 'i')
        return errorf("bad number syntax: " +
                      quote(input_.substr(start_, pos_ - start_)));
      emit(item_type::complex);
    } else {
      emit(item_type::number);
    }
    return state::inside_action;
  }

  bool scan_number() {
    accept("+-");
    std::string_view digits = "0123456789_";
    if (accept("0")) {
      // A leading 0 does not mean octal in floats.
      if (accept("xX"))
        digits = "0123456789abcdefABCDEF_";
      else if (accept("oO"))
        digits = "01234567_";
      else if (accept("bB"))
        digits = "01_";
    }
    accept_run(digits);
    if (accept("."))
      accept_run(digits);
    if (digits.size() == 10 + 1 && accept("eE")) {
      accept("+-");
      accept_run("0123456789_");
    }
    if (digits.size() == 16 + 6 + 1 && accept("pP")) {
      accept("+-");
      accept_run("0123456789_");
    }
    accept("i"); // imaginary
    if (is_alphanumeric(peek())) {
      next();
      return false;
    }
    return true;
  }
};

} // namespace

std::string item_string(const item& it) {
  if (it.type == item_type::eof)
    return "EOF";
  if (it.type == item_type::error)
    return it.val;
  if (it.type > item_type::keyword)
    return "<" + it.val + ">";
  if (it.val.size() > 10) {
    // %.10q: at most ten runes, quoted, then "...".
    std::size_t cut = 0;
    char32_t r;
    for (int n = 0; n < 10 && cut < it.val.size(); ++n)
      cut += decode_rune(it.val, cut, r);
    return quote(std::string_view(it.val).substr(0, cut)) + "...";
  }
  return quote(it.val);
}

std::vector<item> lex_template(std::string_view input) {
  return lexer(input).run();
}

} // namespace dm::tmpl
