// A strict JSON pull reader over a buffer: no tree, no allocation beyond the
// strings it hands out. Request bodies are read with it on the I/O threads,
// where building a document per call was the largest cost in the profile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dm {

enum class json_kind { object, array, string, number, boolean, null, bad };

class json_reader {
public:
  // More than `max_depth` containers open at once is a syntax error.
  explicit json_reader(std::string_view text, std::size_t max_depth = SIZE_MAX)
      : text_(text), max_depth_(max_depth) {}

  // The kind of the next value (after white space); `bad` at a syntax
  // error or the end.
  json_kind peek();

  // Objects: begin_object(), then while next_member(key) read or skip the
  // member's value. Arrays: begin_array(), then while next_item().
  bool begin_object();
  bool next_member(std::string& key);
  bool begin_array();
  bool next_item();

  // Scalars; false (and failed()) when the next value is not of that kind.
  bool read_string(std::string& out);
  // A number token as written ("12", "-1.5e3").
  bool read_number(std::string_view& token);
  bool read_bool(bool& out);
  bool read_null();
  // Any value, checked but dropped.
  bool skip_value();

  // Nothing but white space is left, and nothing failed.
  bool at_end();
  bool failed() const { return failed_; }
  // The failure was a container nested deeper than `max_depth`.
  bool too_deep() const { return too_deep_; }

private:
  void skip_space();
  bool fail() {
    failed_ = true;
    return false;
  }
  // Enters a container ('o' or 'a'), unless that is one too deep.
  bool open(char kind) {
    if (stack_.size() >= max_depth_) {
      too_deep_ = true;
      return fail();
    }
    stack_ += kind;
    return true;
  }
  bool expect_literal(std::string_view word);
  bool next_member_of(std::string* key); // null: the key is dropped
  bool scan_string(std::string* out);
  bool scan_number(std::string_view& token);
  // After a value inside a container: a comma (more) or the closing
  // bracket (no more).
  bool after_value(char close, bool& more);

  std::string_view text_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  bool too_deep_ = false;
  // Per open container: whether a member or item has been read already.
  std::string stack_; // 'o'/'a' = empty, 'O'/'A' = has elements
};

} // namespace dm
