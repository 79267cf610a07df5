// The SRPC test vectors written by Go's own encoders (tests/data/gob:
// reference-vectors.json and extra-vectors.json), and feeding helpers that
// deliver bytes as a socket would.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "codec/machine_json.hpp"

namespace dm::test {

inline nlohmann::json load_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

inline const nlohmann::json& reference_vectors() {
  static const nlohmann::json vectors =
      load_json(DM_SOURCE_DIR "/tests/data/gob/reference-vectors.json");
  return vectors;
}

inline const nlohmann::json& extra_vectors() {
  static const nlohmann::json vectors =
      load_json(DM_SOURCE_DIR "/tests/data/gob/extra-vectors.json");
  return vectors;
}

inline std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// The Go type name without its package ("DisruptionCheckRequest").
inline std::string short_type(const nlohmann::json& vector) {
  auto type = vector.at("Type").get<std::string>();
  return type.substr(type.find('.') + 1);
}

inline bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The reference vectors whose Go type ends in `kind` ("Request",
// "Response"), in file order.
inline std::vector<nlohmann::json>
reference_vectors_of_kind(const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& vector : reference_vectors())
    if (ends_with(short_type(vector), kind))
      out.push_back(vector);
  return out;
}

inline machine_record expected_machine(const nlohmann::json& mdb) {
  std::string error;
  auto machine = machine_from_json(mdb, error);
  EXPECT_TRUE(machine.has_value()) << error;
  return machine.value_or(machine_record{});
}

// Feeds `bytes` in pieces of `chunk` bytes as a socket would deliver them,
// keeping unconsumed bytes for the next call. Returns the last status and
// the bytes consumed in all. Works for every decoder with the feed()
// contract (gob and JSON alike).
template <class Decoder>
auto feed_in_pieces(Decoder& decoder, const std::string& bytes,
                    std::size_t chunk, std::size_t& total_consumed) {
  std::string pending;
  std::size_t offset = 0;
  total_consumed = 0;
  std::size_t consumed = 0;
  using status_type = decltype(decoder.feed(pending, consumed));
  status_type status = status_type::need_more;
  while (true) {
    consumed = 0;
    status = decoder.feed(pending, consumed);
    EXPECT_LE(consumed, pending.size());
    pending.erase(0, consumed);
    total_consumed += consumed;
    if (status != status_type::need_more || offset >= bytes.size())
      return status;
    pending.append(bytes, offset, chunk);
    offset += chunk;
  }
}

} // namespace dm::test
