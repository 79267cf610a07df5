// The SRPC JSON coder: value framing over a byte stream, request and
// response decoding, and Go-exact encoding.
#include "codec/srpc_json.hpp"

#include <nlohmann/json.hpp>

#include "codec/machine_json.hpp"
#include "text/utf8.hpp"

namespace dm {

namespace {

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Characters that may appear in numbers and the literals true/false/null.
bool is_token_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.';
}

// Go quotes the offending character in its syntax errors.
std::string describe_char(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f)
    return std::string("'") + c + "'";
  static const char hex[] = "0123456789abcdef";
  return std::string("'\\x") + hex[byte >> 4] + hex[byte & 0xf] + "'";
}

} // namespace

json_value_framer::json_value_framer(std::size_t max_value_bytes,
                                     std::size_t max_depth)
    : max_value_bytes_(max_value_bytes), max_depth_(max_depth) {}

void json_value_framer::reset() {
  phase_ = phase::before_value;
  value_.clear();
  error_.clear();
  open_.clear();
  in_string_ = false;
  escaped_ = false;
  scalar_ = false;
}

json_status json_value_framer::fail(std::string message) {
  error_ = std::move(message);
  phase_ = phase::failed;
  return json_status::error;
}

json_status json_value_framer::feed(std::string_view available,
                                    std::size_t& consumed) {
  consumed = 0;
  if (phase_ == phase::failed)
    return json_status::error;
  if (phase_ == phase::finished)
    return json_status::done;

  std::size_t i = 0;
  const std::size_t n = available.size();
  if (phase_ == phase::before_value) {
    while (i < n && is_json_space(available[i]))
      ++i;
    if (i == n) {
      consumed = i;
      return json_status::need_more;
    }
    char c = available[i];
    if (c == '{' || c == '[') {
      open_.push_back(c == '{' ? '}' : ']');
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' ||
               c == 'n') {
      scalar_ = true;
    } else {
      consumed = i;
      return fail("invalid character " + describe_char(c) +
                  " looking for beginning of value");
    }
    value_.push_back(c);
    ++i;
    phase_ = phase::in_value;
  }

  if (phase_ == phase::in_value) {
    const std::size_t start = i;
    bool complete = false;
    if (scalar_) {
      while (i < n && is_token_char(available[i]))
        ++i;
      complete = i < n; // ends at the first byte that is not part of it
    } else {
      while (i < n && !complete) {
        char c = available[i++];
        if (in_string_) {
          if (escaped_) {
            escaped_ = false;
            if (std::string_view("\"\\/bfnrtu").find(c) ==
                std::string_view::npos)
              return fail("invalid character " + describe_char(c) +
                          " in string escape code");
          } else if (c == '\\') {
            escaped_ = true;
          } else if (c == '"') {
            in_string_ = false;
            complete = open_.empty();
          } else if (static_cast<unsigned char>(c) < 0x20) {
            return fail("invalid character " + describe_char(c) +
                        " in string literal");
          }
          continue;
        }
        if (c == '"') {
          in_string_ = true;
        } else if (c == '{' || c == '[') {
          if (open_.size() >= max_depth_)
            return fail("json: exceeded max depth");
          open_.push_back(c == '{' ? '}' : ']');
        } else if (c == '}' || c == ']') {
          if (open_.empty() || open_.back() != c)
            return fail("invalid character " + describe_char(c) +
                        " looking for beginning of value");
          open_.pop_back();
          complete = open_.empty();
        } else if (!is_json_space(c) && c != ',' && c != ':' &&
                   !is_token_char(c)) {
          return fail("invalid character " + describe_char(c) +
                      " looking for beginning of value");
        }
      }
    }
    if (value_.size() + (i - start) > max_value_bytes_)
      return fail("json: value exceeds " + std::to_string(max_value_bytes_) +
                  " bytes");
    value_.append(available.substr(start, i - start));
    if (!complete) {
      consumed = i;
      return json_status::need_more;
    }
    phase_ = phase::after_value;
  }

  // Whitespace already here after the value is the encoder's newline; taking
  // it keeps it from being read as the start of the next exchange.
  while (i < n && is_json_space(available[i]))
    ++i;
  consumed = i;
  phase_ = phase::finished;
  return json_status::done;
}

json_request_decoder::json_request_decoder(std::size_t max_value_bytes)
    : framer_(max_value_bytes) {}

json_status json_request_decoder::feed(std::string_view available,
                                       std::size_t& consumed) {
  consumed = 0;
  if (status_ != json_status::need_more)
    return status_;
  if (framer_.idle()) {
    auto line_end = available.find('\n');
    if (line_end != std::string_view::npos &&
        line_end <= framer_.max_value_bytes()) {
      std::string reason;
      auto request = parse_request_body(available.substr(0, line_end), false,
                                        reason, framer_.max_depth());
      if (request) {
        // As the framer does: white space already here after the value
        // is taken with it.
        std::size_t end = line_end + 1;
        while (end < available.size() && is_json_space(available[end]))
          ++end;
        consumed = end;
        machine_ = std::move(request->machine);
        return status_ = json_status::done;
      }
    }
  }
  json_status framed = framer_.feed(available, consumed);
  if (framed == json_status::need_more)
    return framed;
  if (framed == json_status::error) {
    error_ = framer_.error();
    return status_ = json_status::error;
  }
  std::string reason;
  auto request = parse_request_body(framer_.value(), false, reason);
  if (!request) {
    error_ = reason;
    return status_ = json_status::error;
  }
  machine_ = std::move(request->machine);
  return status_ = json_status::done;
}

void json_request_decoder::reset() {
  framer_.reset();
  machine_ = machine_record{};
  error_.clear();
  status_ = json_status::need_more;
}

json_response_decoder::json_response_decoder(std::size_t max_value_bytes)
    : framer_(max_value_bytes) {}

namespace {

using json = nlohmann::json;

const json* find_member(const json& object, const char* name) {
  return find_go_member(object, name);
}

const char* json_type_word(const json& value) {
  if (value.is_number())
    return "number";
  if (value.is_boolean())
    return "bool";
  if (value.is_array())
    return "array";
  if (value.is_object())
    return "object";
  return "string";
}

} // namespace

json_status json_response_decoder::feed(std::string_view available,
                                        std::size_t& consumed) {
  consumed = 0;
  if (status_ != json_status::need_more)
    return status_;
  json_status framed = framer_.feed(available, consumed);
  if (framed == json_status::need_more)
    return framed;
  auto fail = [&](std::string message) {
    error_ = std::move(message);
    return status_ = json_status::error;
  };
  if (framed == json_status::error)
    return fail(framer_.error());
  const std::string& text = framer_.value();
  json body = json::parse(text.begin(), text.end(), nullptr, false);
  if (body.is_discarded())
    return fail("malformed JSON response");
  if (!body.is_object())
    return fail(std::string("json: cannot unmarshal ") + json_type_word(body) +
                " into a response");
  if (const json* error = find_member(body, "Error");
      error != nullptr && !error->is_null()) {
    if (!error->is_string())
      return fail(std::string("json: cannot unmarshal ") +
                  json_type_word(*error) +
                  " into Go struct field Error of type string");
    response_error_ = error->get<std::string>();
  }
  if (const json* response = find_member(body, "Response");
      response != nullptr && !response->is_null()) {
    if (!response->is_string())
      return fail(std::string("json: cannot unmarshal ") +
                  json_type_word(*response) +
                  " into Go struct field Response of type "
                  "sub.DisruptionState");
    const auto& name = response->get_ref<const std::string&>();
    auto state = parse_disruption_state(name);
    if (!state)
      return fail("unknown DisruptionState: " + name);
    state_ = *state;
  }
  return status_ = json_status::done;
}

void json_response_decoder::reset() {
  framer_.reset();
  response_error_.clear();
  state_ = disruption_state::anytime;
  error_.clear();
  status_ = json_status::need_more;
}

namespace {

void append_go_json_string(std::string& out, std::string_view text) {
  static const char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      switch (b) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      // Go 1.22 and later write these two short; older Go wrote \u0008
      // and \u000c. Both read back the same.
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '<':
      case '>':
      case '&':
        out += "\\u00";
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 0xf]);
        break;
      default:
        if (b < 0x20) {
          out += "\\u00";
          out.push_back(hex[b >> 4]);
          out.push_back(hex[b & 0xf]);
        } else {
          out.push_back(static_cast<char>(b));
        }
      }
      ++i;
      continue;
    }
    std::size_t length = utf8::sequence_length(text.substr(i));
    if (length == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8 / A9) break JavaScript; Go escapes them.
    if (length == 3 && b == 0xe2 &&
        static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(text[i + 2]) == 0xa8 ||
         static_cast<unsigned char>(text[i + 2]) == 0xa9)) {
      out += static_cast<unsigned char>(text[i + 2]) == 0xa8 ? "\\u2028"
                                                             : "\\u2029";
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  out.push_back('"');
}

// Writes `"Name":"value"` with a leading comma when not first.
void append_member(std::string& out, bool& first, std::string_view name) {
  if (!first)
    out.push_back(',');
  first = false;
  out.push_back('"');
  out.append(name);
  out += "\":";
}

void append_string_map(std::string& out,
                       const std::map<std::string, std::string>& values) {
  // std::map orders keys bytewise, as Go sorts map keys.
  out.push_back('{');
  bool first = true;
  for (const auto& [key, value] : values) {
    if (!first)
      out.push_back(',');
    first = false;
    append_go_json_string(out, key);
    out.push_back(':');
    append_go_json_string(out, value);
  }
  out.push_back('}');
}

void append_string_list(std::string& out,
                        const std::vector<std::string>& list) {
  out.push_back('[');
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i != 0)
      out.push_back(',');
    append_go_json_string(out, list[i]);
  }
  out.push_back(']');
}

void append_machine(std::string& out, const machine_record& m) {
  out.push_back('{');
  bool first = true;
  append_member(out, first, "Hostname");
  append_go_json_string(out, m.hostname);
  auto optional_string = [&](std::string_view name, const std::string& value) {
    if (value.empty())
      return;
    append_member(out, first, name);
    append_go_json_string(out, value);
  };
  optional_string("DataSourceIdentifier", m.data_source_identifier);
  optional_string("DataSourceType", m.data_source_type);
  optional_string("IpAddress", m.ip_address);
  optional_string("Location", m.location);
  optional_string("RequiredImage", m.required_image);
  optional_string("PlannedImage", m.planned_image);
  if (m.disable_updates) {
    append_member(out, first, "DisableUpdates");
    out += "true";
  }
  optional_string("OwnerGroup", m.owner_group);
  if (!m.owner_groups.empty()) {
    append_member(out, first, "OwnerGroups");
    append_string_list(out, m.owner_groups);
  }
  if (!m.owner_users.empty()) {
    append_member(out, first, "OwnerUsers");
    append_string_list(out, m.owner_users);
  }
  if (!m.tags.empty()) {
    append_member(out, first, "Tags");
    append_string_map(out, m.tags);
  }
  if (m.aws) {
    // mdb.AwsMetadata has no omitempty: every field is written.
    append_member(out, first, "AwsMetadata");
    out += "{\"AccountId\":";
    append_go_json_string(out, m.aws->account_id);
    out += ",\"AccountName\":";
    append_go_json_string(out, m.aws->account_name);
    out += ",\"InstanceId\":";
    append_go_json_string(out, m.aws->instance_id);
    out += ",\"Region\":";
    append_go_json_string(out, m.aws->region);
    out += ",\"Tags\":";
    if (m.aws->tags.empty())
      out += "null";
    else
      append_string_map(out, m.aws->tags);
    out.push_back('}');
  }
  out.push_back('}');
}

} // namespace

std::string go_json_string(std::string_view text) {
  std::string out;
  append_go_json_string(out, text);
  return out;
}

std::string encode_json_response(const std::string& error,
                                 disruption_state state) {
  std::string out = "{\"Error\":";
  append_go_json_string(out, error);
  out += ",\"Response\":";
  append_go_json_string(out, to_string(state));
  out += "}\n";
  return out;
}

std::string encode_json_rest_response(disruption_state state) {
  std::string out = "{\"Response\":";
  append_go_json_string(out, to_string(state));
  out += "}\n";
  return out;
}

std::string encode_json_request(const machine_record& machine,
                                std::optional<request_kind> kind) {
  std::string out = "{\"MDB\":";
  append_machine(out, machine);
  if (kind) {
    out += ",\"Request\":";
    append_go_json_string(out, to_string(*kind));
  }
  out += "}\n";
  return out;
}

} // namespace dm
