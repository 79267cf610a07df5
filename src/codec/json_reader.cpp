#include "codec/json_reader.hpp"

#include "text/hex_digit.hpp"
#include "text/utf8.hpp"

#include <array>

namespace dm {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Bytes that stand for themselves inside a string: printable ASCII but for
// the quote and the backslash.
constexpr std::array<bool, 256> plain_string_bytes = [] {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c)
    table[c] = c != '"' && c != '\\';
  return table;
}();

} // namespace

void json_reader::skip_space() {
  while (pos_ < text_.size() && is_space(text_[pos_]))
    ++pos_;
}

json_kind json_reader::peek() {
  if (failed_)
    return json_kind::bad;
  skip_space();
  if (pos_ >= text_.size())
    return json_kind::bad;
  char c = text_[pos_];
  switch (c) {
  case '{':
    return json_kind::object;
  case '[':
    return json_kind::array;
  case '"':
    return json_kind::string;
  case 't':
  case 'f':
    return json_kind::boolean;
  case 'n':
    return json_kind::null;
  default:
    if (c == '-' || (c >= '0' && c <= '9'))
      return json_kind::number;
    return json_kind::bad;
  }
}

bool json_reader::begin_object() {
  if (peek() != json_kind::object)
    return fail();
  ++pos_;
  return open('o');
}

bool json_reader::begin_array() {
  if (peek() != json_kind::array)
    return fail();
  ++pos_;
  return open('a');
}

bool json_reader::after_value(char close, bool& more) {
  skip_space();
  if (pos_ >= text_.size())
    return fail();
  if (text_[pos_] == close) {
    ++pos_;
    stack_.pop_back();
    more = false;
    return true;
  }
  if (text_[pos_] != ',')
    return fail();
  ++pos_;
  more = true;
  return true;
}

bool json_reader::next_member(std::string& key) {
  return next_member_of(&key);
}

bool json_reader::next_member_of(std::string* key) {
  if (failed_ || stack_.empty() ||
      (stack_.back() != 'o' && stack_.back() != 'O'))
    return fail();
  skip_space();
  if (stack_.back() == 'o') {
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      stack_.pop_back();
      return false;
    }
    stack_.back() = 'O';
  } else {
    bool more = false;
    if (!after_value('}', more) || !more)
      return false;
    skip_space();
  }
  if (pos_ >= text_.size() || text_[pos_] != '"')
    return fail();
  if (key != nullptr)
    key->clear();
  if (!scan_string(key))
    return false;
  skip_space();
  if (pos_ >= text_.size() || text_[pos_] != ':')
    return fail();
  ++pos_;
  return true;
}

bool json_reader::next_item() {
  if (failed_ || stack_.empty() ||
      (stack_.back() != 'a' && stack_.back() != 'A'))
    return fail();
  skip_space();
  if (stack_.back() == 'a') {
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      stack_.pop_back();
      return false;
    }
    stack_.back() = 'A';
    return true;
  }
  bool more = false;
  return after_value(']', more) && more;
}

bool json_reader::scan_string(std::string* out) {
  ++pos_; // the opening quote
  const auto* bytes = reinterpret_cast<const unsigned char*>(text_.data());
  std::size_t size = text_.size();
  while (pos_ < size) {
    std::size_t start = pos_;
    while (pos_ < size && plain_string_bytes[bytes[pos_]])
      ++pos_;
    if (out != nullptr)
      out->append(text_.data() + start, pos_ - start);
    if (pos_ >= size)
      break;
    unsigned char c = bytes[pos_];
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c < 0x20)
      return fail(); // Control characters must be escaped.
    if (c >= 0x80) {
      char32_t rune = 0;
      auto n = utf8::decode_rune(text_, pos_, rune);
      if (rune == utf8::rune_error && n == 1)
        return fail(); // Not UTF-8.
      if (out != nullptr)
        out->append(text_.data() + pos_, n);
      pos_ += n;
      continue;
    }
    // A backslash escape.
    if (++pos_ >= size)
      break;
    char e = text_[pos_++];
    char plain = 0;
    switch (e) {
    case '"':
      plain = '"';
      break;
    case '\\':
      plain = '\\';
      break;
    case '/':
      plain = '/';
      break;
    case 'b':
      plain = '\b';
      break;
    case 'f':
      plain = '\f';
      break;
    case 'n':
      plain = '\n';
      break;
    case 'r':
      plain = '\r';
      break;
    case 't':
      plain = '\t';
      break;
    case 'u':
      break;
    default:
      return fail();
    }
    if (plain != 0) {
      if (out != nullptr)
        *out += plain;
      continue;
    }
    auto read_hex4 = [&](std::uint32_t& code) {
      if (size - pos_ < 4)
        return false;
      code = 0;
      for (int i = 0; i < 4; ++i) {
        int v = hex_digit_value(text_[pos_ + i]);
        if (v < 0)
          return false;
        code = code * 16 + static_cast<std::uint32_t>(v);
      }
      pos_ += 4;
      return true;
    };
    std::uint32_t code = 0;
    if (!read_hex4(code))
      return fail();
    if (code >= 0xDC00 && code <= 0xDFFF)
      return fail(); // A low surrogate without its high half.
    if (code >= 0xD800 && code <= 0xDBFF) {
      std::uint32_t low = 0;
      if (size - pos_ < 2 || text_[pos_] != '\\' || text_[pos_ + 1] != 'u')
        return fail();
      pos_ += 2;
      if (!read_hex4(low) || low < 0xDC00 || low > 0xDFFF)
        return fail();
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    if (out != nullptr)
      utf8::append_utf8(*out, code);
  }
  return fail(); // Unterminated.
}

bool json_reader::scan_number(std::string_view& token) {
  std::size_t start = pos_;
  std::size_t size = text_.size();
  auto digits = [&] {
    std::size_t from = pos_;
    while (pos_ < size && text_[pos_] >= '0' && text_[pos_] <= '9')
      ++pos_;
    return pos_ - from;
  };
  if (text_[pos_] == '-')
    ++pos_;
  if (pos_ < size && text_[pos_] == '0')
    ++pos_;
  else if (digits() == 0)
    return fail();
  if (pos_ < size && text_[pos_] == '.') {
    ++pos_;
    if (digits() == 0)
      return fail();
  }
  if (pos_ < size && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < size && (text_[pos_] == '+' || text_[pos_] == '-'))
      ++pos_;
    if (digits() == 0)
      return fail();
  }
  token = text_.substr(start, pos_ - start);
  return true;
}

bool json_reader::expect_literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word)
    return fail();
  pos_ += word.size();
  return true;
}

bool json_reader::read_string(std::string& out) {
  if (peek() != json_kind::string)
    return fail();
  out.clear();
  return scan_string(&out);
}

bool json_reader::read_number(std::string_view& token) {
  if (peek() != json_kind::number)
    return fail();
  return scan_number(token);
}

bool json_reader::read_bool(bool& out) {
  if (peek() != json_kind::boolean)
    return fail();
  out = text_[pos_] == 't';
  return expect_literal(out ? "true" : "false");
}

bool json_reader::read_null() {
  if (peek() != json_kind::null)
    return fail();
  return expect_literal("null");
}

bool json_reader::skip_value() {
  const std::size_t base = stack_.size();
  for (;;) {
    std::string_view token;
    switch (peek()) {
    case json_kind::object:
      ++pos_;
      if (!open('o'))
        return false;
      break;
    case json_kind::array:
      ++pos_;
      if (!open('a'))
        return false;
      break;
    case json_kind::string:
      if (!scan_string(nullptr))
        return false;
      break;
    case json_kind::number:
      if (!scan_number(token))
        return false;
      break;
    case json_kind::boolean:
      if (!expect_literal(text_[pos_] == 't' ? "true" : "false"))
        return false;
      break;
    case json_kind::null:
      if (!expect_literal("null"))
        return false;
      break;
    case json_kind::bad:
      return fail();
    }
    // Close what ends here; stop at the next value to read.
    for (;;) {
      if (stack_.size() == base)
        return true;
      char top = stack_.back();
      bool more =
          top == 'o' || top == 'O' ? next_member_of(nullptr) : next_item();
      if (failed_)
        return false;
      if (more)
        break;
    }
  }
}

bool json_reader::at_end() {
  skip_space();
  return !failed_ && stack_.empty() && pos_ == text_.size();
}

} // namespace dm
