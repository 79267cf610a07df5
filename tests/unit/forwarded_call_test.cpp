// The forwarding channel's bodies and signatures: a call and an answer
// read back as sent; only the secret, within the time window, signs.
#include <gtest/gtest.h>

#include "frontend/forwarded_call.hpp"

using namespace dm;

TEST(forwarded_call, a_call_reads_back_as_sent_and_is_marked_forwarded) {
  disruption_call call;
  call.kind = request_kind::cancel;
  call.host = "h\xc3\xa9";
  call.group = "g";
  call.limit = 3;
  call.has_gate = true;
  call.gate_timeout_ns = 90'000'000'000;
  call.gate_url = "http://h/ready";
  call.gate_error = "";
  call.wants_queue_position = true;
  call.windows = "Mon-Fri 01:00-05:00 Europe/Berlin";
  disruption_call back;
  std::string error;
  ASSERT_TRUE(decode_forwarded_call(encode_forwarded_call(call), back, error))
      << error;
  EXPECT_EQ(back.kind, call.kind);
  EXPECT_EQ(back.host, call.host);
  EXPECT_EQ(back.group, call.group);
  EXPECT_EQ(back.limit, 3u);
  EXPECT_TRUE(back.has_gate);
  EXPECT_EQ(back.gate_timeout_ns, call.gate_timeout_ns);
  EXPECT_EQ(back.gate_url, call.gate_url);
  EXPECT_TRUE(back.forwarded);
  EXPECT_TRUE(back.wants_queue_position);
  EXPECT_EQ(back.windows, call.windows);
  for (const char* bad :
       {"", "[]", "{}",
        R"({"kind":"sleep","host":"h","group":"","limit":1,)"
        R"("has_gate":false,"gate_timeout_ns":0,)"
        R"("gate_url":"","gate_error":""})",
        R"({"kind":"check","host":"","group":"","limit":1,"has_gate":false,)"
        R"("gate_timeout_ns":0,"gate_url":"","gate_error":""})",
        R"({"kind":"check","host":"h","group":"","limit":"1"})"})
    EXPECT_FALSE(decode_forwarded_call(bad, back, error)) << bad;
}

TEST(forwarded_call, an_answer_reads_back_as_sent) {
  call_result result;
  result.state = disruption_state::requested;
  result.error = "state could not be saved; try again";
  result.queue_position = 2;
  result.queue_length = 5;
  call_result back;
  std::string error;
  ASSERT_TRUE(
      decode_forwarded_result(encode_forwarded_result(result), back, error));
  EXPECT_EQ(back.state, result.state);
  EXPECT_EQ(back.error, result.error);
  EXPECT_EQ(back.queue_position, 2u);
  EXPECT_EQ(back.queue_length, 5u);
  EXPECT_FALSE(back.not_leader);
  call_result refused;
  refused.error = "no leader elected yet";
  refused.not_leader = true;
  ASSERT_TRUE(
      decode_forwarded_result(encode_forwarded_result(refused), back, error));
  EXPECT_TRUE(back.not_leader);
  EXPECT_FALSE(decode_forwarded_result(
      R"({"Response":"denied","Error":"x","NotLeader":1})", back, error));
  EXPECT_FALSE(decode_forwarded_result(
      R"({"Response":"requested","Error":"","QueuePosition":-1,"QueueLength":1})",
      back, error));
  EXPECT_FALSE(decode_forwarded_result(R"({"Response":"maybe","Error":""})",
                                       back, error));
}

TEST(forwarded_call, an_admin_command_reads_back_as_sent) {
  admin_command cmd;
  cmd.operation = admin_operation::window;
  cmd.group = "g/1";
  std::string error;
  cmd.windows =
      window_schedule::parse("Mon-Fri 01:00-05:00 Europe/Berlin", error);
  ASSERT_TRUE(cmd.windows) << error;
  cmd.who = "operator";
  cmd.reason = "night work";
  admin_command back;
  ASSERT_TRUE(decode_forwarded_admin(encode_forwarded_admin(cmd), back, error));
  EXPECT_EQ(back.operation, admin_operation::window);
  EXPECT_EQ(back.group, "g/1");
  ASSERT_TRUE(back.windows);
  EXPECT_EQ(back.windows->spec(), "Mon-Fri 01:00-05:00 Europe/Berlin");
  EXPECT_EQ(back.who, "operator");
  EXPECT_EQ(back.reason, "night work");
  EXPECT_TRUE(back.forwarded);
  cmd.operation = admin_operation::release;
  cmd.windows.reset();
  cmd.host = "h";
  cmd.skip_ready_gate = true;
  ASSERT_TRUE(decode_forwarded_admin(encode_forwarded_admin(cmd), back, error));
  EXPECT_EQ(back.host, "h");
  EXPECT_TRUE(back.skip_ready_gate);
  EXPECT_FALSE(back.windows);
  for (const char* bad :
       {"{}",
        R"({"operation":"sleep","group":"","host":"","limit":0,)"
        R"("windows":"","skip_ready_gate":false,"who":"","reason":""})",
        R"({"operation":"window","group":"g","host":"","limit":0,)"
        R"("windows":"whenever","skip_ready_gate":false,"who":"",)"
        R"("reason":""})"})
    EXPECT_FALSE(decode_forwarded_admin(bad, back, error)) << bad;
}

TEST(forwarded_call, only_the_secret_within_the_window_signs) {
  const std::string secret(64, 'a');
  const std::string body = "{}";
  const std::int64_t now = 1'800'000'000;
  replica_stamp stamp{std::to_string(now), "0123456789abcdef:1",
                      "10.0.0.1:6979"};
  auto signature = replica_signature(secret, stamp, body);
  EXPECT_TRUE(replica_signature_valid(secret, stamp, body, signature, now));
  EXPECT_TRUE(
      replica_signature_valid(secret, stamp, body, signature, now + 30));
  EXPECT_FALSE(
      replica_signature_valid(secret, stamp, body, signature, now + 31));
  EXPECT_FALSE(replica_signature_valid(secret, stamp, "{ }", signature, now));
  EXPECT_FALSE(replica_signature_valid(std::string(64, 'b'), stamp, body,
                                       signature, now));
  EXPECT_FALSE(replica_signature_valid(
      "", stamp, body, replica_signature("", stamp, body), now));
  EXPECT_FALSE(
      replica_signature_valid(secret, stamp, body, signature.substr(1), now));
  // Every part of the stamp is signed.
  for (auto part :
       {&replica_stamp::time, &replica_stamp::nonce, &replica_stamp::to}) {
    auto changed = stamp;
    changed.*part += "1";
    EXPECT_FALSE(
        replica_signature_valid(secret, changed, body, signature, now + 1));
  }
}

TEST(forwarded_call, a_signer_stamps_each_message_anew) {
  replica_signer signer(std::string(64, 'a'));
  auto first = signer.sign("10.0.0.1:6979", "{}");
  auto second = signer.sign("10.0.0.1:6979", "{}");
  auto header = [](const auto& headers, std::string_view name) {
    for (const auto& [key, value] : headers)
      if (key == name)
        return value;
    return std::string();
  };
  auto nonce = header(first, replica_nonce_header);
  ASSERT_EQ(nonce.size(), 16u + 2u) << nonce;
  EXPECT_EQ(nonce.substr(16), ":1");
  EXPECT_EQ(header(second, replica_nonce_header), nonce.substr(0, 16) + ":2");
  EXPECT_EQ(header(first, replica_to_header), "10.0.0.1:6979");
  replica_stamp stamp{header(first, replica_time_header), nonce,
                      "10.0.0.1:6979"};
  EXPECT_TRUE(replica_signature_valid(std::string(64, 'a'), stamp, "{}",
                                      header(first, replica_signature_header),
                                      std::stoll(stamp.time)));
}

// Each signed message is taken once: out of order within the window, never
// twice, never one older than the window, never one signed before the
// receiver started; a sender is forgotten only once its messages' time is
// out of the window anyway.
TEST(replay_guard, takes_each_message_once) {
  const std::int64_t start = 1'800'000'000;
  replay_guard guard(start);
  std::string why;
  EXPECT_TRUE(guard.admit("aa:1", start, start, why));
  EXPECT_FALSE(guard.admit("aa:1", start, start, why));
  EXPECT_NE(why.find("replayed"), std::string::npos) << why;
  EXPECT_TRUE(guard.admit("aa:3", start, start, why));
  EXPECT_TRUE(guard.admit("aa:2", start, start, why)); // a slower connection
  EXPECT_FALSE(guard.admit("aa:2", start, start, why));
  EXPECT_FALSE(guard.admit("aa:3", start, start, why));
  EXPECT_TRUE(guard.admit("bb:1", start, start, why)); // another sender
  EXPECT_TRUE(guard.admit("aa:5000", start, start, why));
  EXPECT_FALSE(guard.admit("aa:4", start, start, why)); // beyond the window
  EXPECT_TRUE(guard.admit("aa:4999", start, start, why));
  EXPECT_FALSE(guard.admit("aa:5000", start, start, why));
  // Signed before this process started: meant for an earlier one.
  EXPECT_FALSE(guard.admit("cc:1", start - 1, start, why));
  EXPECT_NE(why.find("before this replica started"), std::string::npos);
  for (const char* bad : {"", "aa", ":1", "aa:", "aa:0", "aa:x", "aa:1x"})
    EXPECT_FALSE(guard.admit(bad, start, start, why)) << bad;
  // Much later, aa's entry is swept: its old messages' time is out of the
  // window (which the signature check refuses first); its memory is not
  // needed for them.
  EXPECT_TRUE(guard.admit("dd:1", start + 100, start + 100, why));
  EXPECT_TRUE(guard.admit("aa:1", start + 100, start + 100, why));
}
