// The forwarding channel's bodies and signatures.
#include "frontend/forwarded_call.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "frontend/admin_request.hpp"
#include "text/decimal.hpp"
#include "text/hex_digit.hpp"

namespace dm {

using json = nlohmann::json;

std::string encode_forwarded_call(const disruption_call& call) {
  json out = {{"kind", std::string(to_string(call.kind))},
              {"host", call.host},
              {"group", call.group},
              {"limit", call.limit},
              {"has_gate", call.has_gate},
              {"gate_timeout_ns", call.gate_timeout_ns},
              {"gate_url", call.gate_url},
              {"gate_error", call.gate_error},
              {"wants_queue_position", call.wants_queue_position}};
  if (!call.windows.empty())
    out["windows"] = call.windows;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool decode_forwarded_call(std::string_view body, disruption_call& call,
                           std::string& error) {
  auto in = json::parse(body.begin(), body.end(), nullptr, false);
  error = "not a forwarded call";
  if (!in.is_object())
    return false;
  try {
    auto kind = parse_request_kind(in.at("kind").get<std::string>());
    if (!kind)
      return false;
    call.kind = *kind;
    call.host = in.at("host").get<std::string>();
    call.group = in.at("group").get<std::string>();
    call.limit = in.at("limit").get<std::uint64_t>();
    call.has_gate = in.at("has_gate").get<bool>();
    call.gate_timeout_ns = in.at("gate_timeout_ns").get<std::int64_t>();
    call.gate_url = in.at("gate_url").get<std::string>();
    call.gate_error = in.at("gate_error").get<std::string>();
    call.wants_queue_position = in.value("wants_queue_position", false);
    call.windows = in.value("windows", std::string());
  } catch (const json::exception&) {
    return false;
  }
  if (call.host.empty() || call.limit == 0)
    return false;
  call.forwarded = true;
  error.clear();
  return true;
}

std::string encode_forwarded_result(const call_result& result) {
  json out = {{"Response", std::string(to_string(result.state))},
              {"Error", result.error}};
  if (result.queue_position > 0) {
    out["QueuePosition"] = result.queue_position;
    out["QueueLength"] = result.queue_length;
  }
  if (result.not_leader)
    out["NotLeader"] = true;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool decode_forwarded_result(std::string_view body, call_result& result,
                             std::string& error) {
  auto in = json::parse(body.begin(), body.end(), nullptr, false);
  error = "the leader's answer is not one";
  if (!in.is_object() || !in.contains("Response") ||
      !in["Response"].is_string() || !in.contains("Error") ||
      !in["Error"].is_string())
    return false;
  auto state = parse_disruption_state(in["Response"].get<std::string>());
  if (!state)
    return false;
  result.state = *state;
  result.error = in["Error"].get<std::string>();
  if (in.contains("QueuePosition") || in.contains("QueueLength")) {
    if (!in.contains("QueuePosition") || !in.contains("QueueLength") ||
        !in["QueuePosition"].is_number_unsigned() ||
        !in["QueueLength"].is_number_unsigned())
      return false;
    result.queue_position = in["QueuePosition"].get<std::uint64_t>();
    result.queue_length = in["QueueLength"].get<std::uint64_t>();
  }
  if (in.contains("NotLeader")) {
    if (!in["NotLeader"].is_boolean())
      return false;
    result.not_leader = in["NotLeader"].get<bool>();
  }
  error.clear();
  return true;
}

std::string encode_forwarded_admin(const admin_command& cmd) {
  json out = {{"operation", std::string(admin_operation_name(cmd.operation))},
              {"group", cmd.group},
              {"host", cmd.host},
              {"limit", cmd.limit},
              {"windows", cmd.windows ? cmd.windows->spec() : std::string()},
              {"skip_ready_gate", cmd.skip_ready_gate},
              {"who", cmd.who},
              {"reason", cmd.reason}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool decode_forwarded_admin(std::string_view body, admin_command& cmd,
                            std::string& error) {
  auto in = json::parse(body.begin(), body.end(), nullptr, false);
  error = "not a forwarded admin command";
  if (!in.is_object())
    return false;
  try {
    auto operation =
        admin_operation_named(in.at("operation").get<std::string>());
    if (!operation)
      return false;
    cmd.operation = *operation;
    cmd.group = in.at("group").get<std::string>();
    cmd.host = in.at("host").get<std::string>();
    cmd.limit = in.at("limit").get<std::uint64_t>();
    cmd.skip_ready_gate = in.at("skip_ready_gate").get<bool>();
    auto windows = in.at("windows").get<std::string>();
    cmd.windows.reset();
    if (!windows.empty()) {
      std::string why;
      cmd.windows = window_schedule::parse(windows, why);
      if (!cmd.windows)
        return false;
    }
    cmd.who = in.at("who").get<std::string>();
    cmd.reason = in.at("reason").get<std::string>();
  } catch (const json::exception&) {
    return false;
  }
  cmd.forwarded = true;
  error.clear();
  return true;
}

std::string encode_leader_revision(std::int64_t revision) {
  return json{{"Revision", revision}}.dump();
}

bool decode_leader_revision(std::string_view body, std::int64_t& revision) {
  auto in = json::parse(body.begin(), body.end(), nullptr, false);
  if (!in.is_object() || !in.contains("Revision") ||
      !in["Revision"].is_number_integer())
    return false;
  revision = in["Revision"].get<std::int64_t>();
  return revision >= 0;
}

std::string replica_signature(const std::string& secret,
                              const replica_stamp& stamp,
                              std::string_view body) {
  std::string message;
  message.reserve(stamp.time.size() + stamp.nonce.size() + stamp.to.size() + 3 +
                  body.size());
  for (const auto* part : {&stamp.time, &stamp.nonce, &stamp.to}) {
    message += *part;
    message += '\n';
  }
  message.append(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       digest, &length);
  return lower_hex(digest, length);
}

bool replica_signature_valid(const std::string& secret,
                             const replica_stamp& stamp, std::string_view body,
                             std::string_view signature,
                             std::int64_t now_unix) {
  if (secret.empty())
    return false;
  std::int64_t sent = 0;
  if (!parse_decimal(stamp.time, sent))
    return false;
  auto window = forwarded_call_window.count();
  if (sent < now_unix - window || sent > now_unix + window)
    return false;
  auto expected = replica_signature(secret, stamp, body);
  return signature.size() == expected.size() &&
         CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

replica_signer::replica_signer(std::string secret)
    : secret_(std::move(secret)) {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // No randomness: the clock's nanoseconds stand in (a collision with
    // another sender only makes some of both refused, never accepted).
    auto ns = std::chrono::steady_clock::now().time_since_epoch().count() ^
              std::chrono::system_clock::now().time_since_epoch().count();
    for (auto& b : bytes) {
      b = static_cast<unsigned char>(ns);
      ns >>= 8;
    }
  }
  sender_ = lower_hex(bytes, sizeof(bytes));
}

std::vector<std::pair<std::string, std::string>>
replica_signer::sign(const std::string& to, std::string_view body) {
  replica_stamp stamp;
  stamp.time =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  stamp.nonce = sender_ + ":" + std::to_string(++sequence_);
  stamp.to = to;
  auto signature = replica_signature(secret_, stamp, body);
  return {{std::string(replica_time_header), stamp.time},
          {std::string(replica_nonce_header), stamp.nonce},
          {std::string(replica_to_header), stamp.to},
          {std::string(replica_signature_header), std::move(signature)}};
}

bool replay_guard::admit(std::string_view nonce, std::int64_t signed_unix,
                         std::int64_t now_unix, std::string& why) {
  auto colon = nonce.find(':');
  std::uint64_t sequence = 0;
  if (colon == std::string_view::npos || colon == 0 ||
      colon + 1 >= nonce.size()) {
    why = "a replica's message without a nonce";
    return false;
  }
  auto digits = nonce.substr(colon + 1);
  if (!parse_decimal(digits, sequence) || sequence == 0) {
    why = "a replica's message without a nonce";
    return false;
  }
  if (signed_unix < started_unix_) {
    why = "a replica's message signed before this replica started (a replay)";
    return false;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (now_unix >= next_sweep_) {
    auto horizon = forwarded_call_window.count() + 1;
    for (auto it = senders_.begin(); it != senders_.end();)
      if (it->second.newest_time + horizon < now_unix)
        it = senders_.erase(it);
      else
        ++it;
    next_sweep_ = now_unix + 10;
  }
  auto& from = senders_[std::string(nonce.substr(0, colon))];
  if (sequence > from.newest) {
    if (sequence - from.newest >= window) {
      from.seen.reset();
    } else {
      for (auto s = from.newest + 1; s < sequence; ++s)
        from.seen.reset(s % window);
    }
    from.newest = sequence;
    from.seen.set(sequence % window);
    from.newest_time = std::max(from.newest_time, signed_unix);
    return true;
  }
  if (from.newest - sequence >= window || from.seen.test(sequence % window)) {
    why = "a replayed replica's message";
    return false;
  }
  from.seen.set(sequence % window);
  from.newest_time = std::max(from.newest_time, signed_unix);
  return true;
}

} // namespace dm
