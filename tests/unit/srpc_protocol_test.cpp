// SRPC on a fake channel: method lines and pings, gob and JSON framing,
// a value that arrives a byte at a time, the self-only rule with its
// look-up, and the marks that give each line and value its own deadline.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include "codec/gob.hpp"
#include "codec/srpc_json.hpp"
#include "srpc/local_upgrade.hpp"
#include "srpc/srpc_protocol.hpp"
#include "tests/support/fake_channel.hpp"

using namespace dm;
using dm::test::fake_channel;

namespace {

machine_record machine(std::string host) {
  machine_record m;
  m.hostname = std::move(host);
  m.tags["DisruptionManagerGroupIdentifier"] = "G";
  return m;
}

call_result state(disruption_state s) {
  call_result r;
  r.state = s;
  return r;
}

} // namespace

TEST(srpc_protocol, ping_and_bad_method_lines) {
  fake_channel ch;
  srpc_protocol proto(srpc_coder::gob, true);
  ch.feed(proto, "\n");
  EXPECT_EQ(ch.take_output(), "\n");
  ch.feed(proto, "nodot\n");
  EXPECT_EQ(ch.take_output(), "malformed Service.Method: nodot\n");
  ch.feed(proto, "Other.Check\n");
  EXPECT_EQ(ch.take_output(), "unknown service: Other\n");
  ch.feed(proto, "DisruptionManager.Nope\n");
  EXPECT_EQ(ch.take_output(), "DisruptionManager: unknown method: Nope\n");
  EXPECT_FALSE(ch.closing);
  ch.feed(proto, std::string(5000, 'x'));
  EXPECT_EQ(ch.take_output(), "malformed Service.Method: line too long\n");
  EXPECT_TRUE(ch.closing);
}

TEST(srpc_protocol, gob_call_framing) {
  fake_channel ch;
  srpc_protocol proto(srpc_coder::gob, true);
  ch.feed(proto,
          "DisruptionManager.Check\n" +
              encode_gob_request("DisruptionCheckRequest", machine("h1")));
  ASSERT_EQ(ch.calls.size(), 1u);
  EXPECT_EQ(ch.calls[0].kind, request_kind::check);
  EXPECT_EQ(ch.calls[0].host, "h1");
  EXPECT_EQ(ch.calls[0].group, "G");
  EXPECT_EQ(ch.take_output(), "\n");
  ch.answer_call(proto, state(disruption_state::permitted));
  EXPECT_EQ(ch.take_output(),
            "\n" + encode_gob_response("DisruptionCheckResponse", "",
                                       disruption_state::permitted));
  // The next call on the same connection, answered with an error.
  ch.feed(proto,
          "DisruptionManager.Check\n" +
              encode_gob_request("DisruptionCheckRequest", machine("h2")));
  ASSERT_EQ(ch.calls.size(), 2u);
  call_result failed;
  failed.error = "state not saved";
  ch.answer_call(proto, failed);
  EXPECT_EQ(ch.take_output(),
            "\n\n" + encode_gob_response("DisruptionCheckResponse",
                                         "state not saved",
                                         disruption_state::anytime));
}

TEST(srpc_protocol, json_call_framing_with_the_newline_after_the_value) {
  fake_channel ch;
  srpc_protocol proto(srpc_coder::json, true);
  auto value = encode_json_request(machine("h3")); // ends with "\n"
  ASSERT_EQ(value.back(), '\n');
  // The newline after the value comes only with the next call: no ping.
  ch.feed(proto,
          "DisruptionManager.Check\n" + value.substr(0, value.size() - 1));
  ASSERT_EQ(ch.calls.size(), 1u);
  ch.answer_call(proto, state(disruption_state::denied));
  EXPECT_EQ(ch.take_output(),
            "\n\n" + encode_json_response("", disruption_state::denied));
  ch.feed(proto, "\nDisruptionManager.Check\n" + value);
  ASSERT_EQ(ch.calls.size(), 2u);
  EXPECT_EQ(ch.calls[1].host, "h3");
  EXPECT_EQ(ch.take_output(), "\n");
}

TEST(srpc_protocol, a_value_split_over_many_reads) {
  for (auto coder : {srpc_coder::gob, srpc_coder::json}) {
    fake_channel ch;
    srpc_protocol proto(coder, true);
    auto value =
        coder == srpc_coder::gob
            ? encode_gob_request("DisruptionCheckRequest", machine("h4"))
            : encode_json_request(machine("h4"));
    if (coder == srpc_coder::json)
      value.pop_back(); // the value ends at "}"; the newline is no part
    ch.feed(proto, "DisruptionManager.Check\n");
    EXPECT_EQ(proto.unfinished_unit(ch), 0u); // the value has not begun
    std::uint64_t mark = 0;
    for (std::size_t i = 0; i + 1 < value.size(); ++i) {
      ch.feed(proto, value.substr(i, 1));
      ASSERT_TRUE(ch.calls.empty()) << i;
      // One unit from its first byte to its last, whatever was consumed.
      auto now = proto.unfinished_unit(ch);
      EXPECT_NE(now, 0u) << i;
      if (i > 0) {
        EXPECT_EQ(now, mark) << i;
      }
      mark = now;
    }
    ch.feed(proto, value.substr(value.size() - 1));
    ASSERT_EQ(ch.calls.size(), 1u);
    EXPECT_EQ(ch.calls[0].host, "h4");
    EXPECT_EQ(proto.unfinished_unit(ch), 0u);
    // The next method line is another unit.
    ch.answer_call(proto, state(disruption_state::permitted));
    ch.feed(proto, "Disrupt");
    EXPECT_NE(proto.unfinished_unit(ch), 0u);
    EXPECT_NE(proto.unfinished_unit(ch), mark);
  }
}

TEST(srpc_protocol, a_stranger_is_refused_and_the_machine_admitted) {
  fake_channel ch;
  ch.peer = "10.0.0.7";
  srpc_protocol proto(srpc_coder::json, true);
  ch.feed(proto,
          "DisruptionManager.Request\n" + encode_json_request(machine("h5")));
  ASSERT_EQ(ch.lookups, std::vector<std::string>{"h5"});
  ch.answer_lookup(proto, {"10.0.0.8"});
  EXPECT_TRUE(ch.calls.empty());
  EXPECT_EQ(ch.take_output(),
            "\n\n" + encode_json_response("h5 not permitted",
                                          disruption_state::anytime));
  ch.feed(proto,
          "DisruptionManager.Cancel\n" + encode_json_request(machine("h5")));
  ch.answer_lookup(proto, {"10.0.0.7"});
  ASSERT_EQ(ch.calls.size(), 1u);
  EXPECT_EQ(ch.calls[0].kind, request_kind::cancel);
}

TEST(srpc_protocol, method_power_unless_the_client_declines_it) {
  fake_channel ch;
  ch.peer = "10.0.0.7";
  ch.peer_id = dm::test::powerful_identity();
  srpc_protocol with_powers(srpc_coder::gob, true);
  ch.feed(with_powers,
          "DisruptionManager.Request\n" +
              encode_gob_request("DisruptionRequestRequest", machine("h6")));
  EXPECT_EQ(ch.calls.size(), 1u);
  EXPECT_TRUE(ch.lookups.empty());
  fake_channel declined;
  declined.peer = "10.0.0.7";
  declined.peer_id = ch.peer_id;
  srpc_protocol without(srpc_coder::gob, false);
  declined.feed(without, "DisruptionManager.Request\n" +
                             encode_gob_request("DisruptionRequestRequest",
                                                machine("h6")));
  EXPECT_TRUE(declined.calls.empty());
  EXPECT_EQ(declined.lookups.size(), 1u);
}

TEST(srpc_protocol, an_untrusted_tls_client_is_cut_off) {
  fake_channel ch;
  ch.is_encrypted = true;
  srpc_protocol proto(srpc_coder::gob, true);
  ch.feed(proto, "DisruptionManager.Check\n");
  EXPECT_EQ(ch.take_output(), "client certificate not from a trusted CA\n");
  EXPECT_TRUE(ch.closing);
}

TEST(srpc_protocol, the_builtin_upgrade_is_refused_without_powers_or_socket) {
  fake_channel ch;
  srpc_protocol no_powers(srpc_coder::gob, false);
  ch.feed(no_powers, ".LocalUpgradeToUnix\n");
  EXPECT_EQ(ch.take_output(), "access to method denied\n");
  ch.feed(no_powers, ".Other\n");
  EXPECT_EQ(ch.take_output(), ": unknown method: Other\n");
  // No socket: the first answer says so and the call ends there.
  srpc_protocol no_socket(srpc_coder::gob, true);
  ch.feed(no_socket,
          ".LocalUpgradeToUnix\n" + encode_gob_upgrade_request_one("12345678"));
  EXPECT_EQ(ch.take_output(),
            "\n" + encode_gob_upgrade_response_one("no socket", "", ""));
  ch.feed(no_socket, "\n");
  EXPECT_EQ(ch.take_output(), "\n");
  EXPECT_EQ(ch.moved_to_fd, -1);
  EXPECT_FALSE(ch.closing);
}

TEST(srpc_protocol,
     the_builtin_upgrade_moves_to_the_connection_with_the_cookie) {
  std::string error;
  auto listener = unix_upgrade_listener::open(
      "@dm-unit-" + std::to_string(::getpid()), error);
  ASSERT_TRUE(listener) << error;
  for (bool right_cookie : {false, true}) {
    fake_channel ch;
    srpc_protocol proto(srpc_coder::json, true, 1 << 20, listener);
    ch.feed(proto, ".LocalUpgradeToUnix\n" +
                       encode_json_upgrade_request_one("client-c"));
    auto out = ch.take_output();
    ASSERT_EQ(out.substr(0, 1), "\n");
    unix_upgrade_value one;
    std::size_t consumed = 0;
    ASSERT_EQ(decode_json_upgrade(out.substr(1), consumed, one, error),
              upgrade_json_status::done);
    EXPECT_EQ(one.socket_pathname, listener->name());
    ASSERT_EQ(one.server_cookie.size(), unix_cookie_bytes);
    // The client's connection to the socket, with the cookie or another.
    sockaddr_un address{};
    socklen_t length = 0;
    ASSERT_TRUE(
        unix_socket_address(one.socket_pathname, address, length, error));
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
    std::string sent = one.server_cookie;
    if (!right_cookie)
      sent[7] = static_cast<char>(sent[7] ^ 0x55);
    ASSERT_EQ(::send(fd, sent.data(), sent.size(), 0), 8);
    char ack = 1;
    ASSERT_EQ(::recv(fd, &ack, 1, MSG_WAITALL), 1);
    ch.feed(proto, encode_json_upgrade_request_two(true));
    if (!right_cookie) {
      EXPECT_EQ(ch.take_output(),
                encode_json_upgrade_response_two("cookie not found"));
      EXPECT_EQ(ch.moved_to_fd, -1);
    } else {
      EXPECT_EQ(ch.take_output(), encode_json_upgrade_response_two(""));
      ASSERT_GE(ch.moved_to_fd, 0);
      char echoed[8] = {};
      ASSERT_EQ(::recv(fd, echoed, 8, MSG_WAITALL), 8);
      EXPECT_EQ(std::string(echoed, 8), "client-c");
    }
    ::close(fd);
  }
}
