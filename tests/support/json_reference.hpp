// A reading of REST bodies through a full JSON document (nlohmann):
// slower than the service's own reader but plainly right. The unit tests
// and the fuzz target compare the two.
#pragma once

#include <nlohmann/json.hpp>

#include <cctype>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "codec/machine_json.hpp"

namespace dm::test {

// The document-based reading: exact member name, else any case.
inline std::optional<decoded_request>
reference_parse(std::string_view text, bool with_kind, std::string& error) {
  // nlohmann stops reading at a NUL byte as if the text ended there; in
  // JSON (and to Go) a NUL anywhere is an error.
  if (text.find('\0') != std::string_view::npos) {
    error = "malformed JSON";
    return std::nullopt;
  }
  auto body = nlohmann::json::parse(text.begin(), text.end(), nullptr, false,
                                    /*ignore_comments=*/false);
  if (body.is_discarded()) {
    error = "malformed JSON";
    return std::nullopt;
  }
  if (!body.is_object()) {
    error = "request body must be a JSON object";
    return std::nullopt;
  }
  decoded_request result;
  if (const auto* mdb = find_go_member(body, "MDB")) {
    auto machine = machine_from_json(*mdb, error);
    if (!machine) {
      if (error.rfind("MDB", 0) != 0)
        error = "MDB." + error;
      return std::nullopt;
    }
    result.machine = std::move(*machine);
  }
  const auto* kind = with_kind ? find_go_member(body, "Request") : nullptr;
  if (kind != nullptr && !kind->is_null()) {
    if (kind->is_string()) {
      result.kind = parse_request_kind(kind->get<std::string>());
      if (!result.kind) {
        error = "unknown request: " + kind->get<std::string>();
        return std::nullopt;
      }
    } else {
      error = request_type_error;
      return std::nullopt;
    }
  }
  if (with_kind && !result.kind)
    result.kind = request_kind::check;
  return result;
}

// Inputs where the two readings may rightly differ: a member named twice,
// exactly or ignoring case (Go decodes each in the order of the text, so an
// earlier one of the wrong type is an error; the document keeps only the
// last exact name), a byte-order mark (Go refuses it, nlohmann skips it),
// or a number too large for a double.
inline bool ambiguous(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    return true;
  bool twice = false;
  // The names seen so far in each open object (empty for arrays).
  std::vector<std::set<std::string>> open;
  nlohmann::json::parser_callback_t watch =
      [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using event_t = nlohmann::json::parse_event_t;
        if (event == event_t::object_start || event == event_t::array_start)
          open.emplace_back();
        else if (event == event_t::object_end || event == event_t::array_end)
          open.pop_back();
        else if (event == event_t::key && !open.empty()) {
          std::string k = parsed.get<std::string>();
          for (auto& c : k)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (!open.back().insert(k).second)
            twice = true;
        }
        return true;
      };
  try {
    [[maybe_unused]] auto doc =
        nlohmann::json::parse(text.begin(), text.end(), watch);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond a double's range (406): the document refuses it, Go
    // reads it as valid syntax (refusing it only where a number is wanted).
    return e.id == 406;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return twice;
}

} // namespace dm::test
