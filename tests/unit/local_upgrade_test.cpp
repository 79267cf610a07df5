// The values of .LocalUpgradeToUnix in both coders, and Unix socket names.
#include "srpc/local_upgrade.hpp"

#include <gtest/gtest.h>

using namespace dm;

namespace {

unix_upgrade_value decode_gob(const std::string& stream,
                              gob_upgrade_decoder& decoder) {
  std::size_t consumed = 0;
  EXPECT_EQ(decoder.feed(stream, consumed), gob_status::done)
      << decoder.error();
  EXPECT_EQ(consumed, stream.size());
  return decoder.value();
}

} // namespace

TEST(local_upgrade, gob_values_round_trip_in_one_stream_per_side) {
  std::string cookie("\x01\x00\xff\x80zz\x7f\x02", 8);
  gob_upgrade_decoder server;
  auto one = decode_gob(encode_gob_upgrade_request_one(cookie), server);
  EXPECT_EQ(one.client_cookie, cookie);
  server.next_value();
  auto two = decode_gob(encode_gob_upgrade_request_two(true), server);
  EXPECT_TRUE(two.sent_server_cookie);
  server.next_value();
  // Another call on the same connection starts a fresh stream.
  server.reset();
  EXPECT_FALSE(decode_gob(encode_gob_upgrade_request_one(""), server)
                   .sent_server_cookie);

  gob_upgrade_decoder client;
  auto reply = decode_gob(
      encode_gob_upgrade_response_one("", cookie, "@SRPC.28374"), client);
  EXPECT_EQ(reply.error, "");
  EXPECT_EQ(reply.server_cookie, cookie);
  EXPECT_EQ(reply.socket_pathname, "@SRPC.28374");
  client.next_value();
  EXPECT_EQ(
      decode_gob(encode_gob_upgrade_response_two("cookie not found"), client)
          .error,
      "cookie not found");
}

TEST(local_upgrade, gob_request_two_false_is_an_empty_struct_as_go_writes_it) {
  auto stream = encode_gob_upgrade_request_two(false);
  // The value message: length 3, type id 66 (int, so 132), end of struct.
  ASSERT_GE(stream.size(), 4u);
  EXPECT_EQ(stream.substr(stream.size() - 4),
            std::string("\x03\xff\x84\x00", 4));
  gob_upgrade_decoder decoder;
  decoder.next_value();
  EXPECT_FALSE(decode_gob(stream, decoder).sent_server_cookie);
}

TEST(local_upgrade, a_gob_value_of_another_shape_is_refused) {
  gob_upgrade_decoder decoder;
  std::size_t consumed = 0;
  auto stream = encode_gob_response("DisruptionCheckResponse", "x",
                                    disruption_state::denied);
  // Error matches by name, Response is skipped: as gob, that decodes.
  EXPECT_EQ(decoder.feed(stream, consumed), gob_status::done);
  decoder.reset();
  machine_record m;
  m.hostname = "h";
  EXPECT_EQ(
      decoder.feed(encode_gob_request("DisruptionCheckRequest", m), consumed),
      gob_status::error);
  EXPECT_NE(decoder.error().find("no fields matched"), std::string::npos)
      << decoder.error();
}

TEST(local_upgrade, json_values_are_lines_with_base64_bytes) {
  std::string cookie("\x01\x00\xff\x80zz\x7f\x02", 8);
  EXPECT_EQ(encode_json_upgrade_request_one(cookie),
            "{\"ClientCookie\":\"AQD/gHp6fwI=\"}\n");
  EXPECT_EQ(encode_json_upgrade_request_two(true),
            "{\"SentServerCookie\":true}\n");
  EXPECT_EQ(encode_json_upgrade_response_one("", cookie, "/run/x.sock"),
            "{\"Error\":\"\",\"ServerCookie\":\"AQD/gHp6fwI=\","
            "\"SocketPathname\":\"/run/x.sock\"}\n");
  EXPECT_EQ(encode_json_upgrade_response_one("no socket", "", ""),
            "{\"Error\":\"no socket\",\"ServerCookie\":null,"
            "\"SocketPathname\":\"\"}\n");
  EXPECT_EQ(encode_json_upgrade_response_two(""), "{\"Error\":\"\"}\n");

  unix_upgrade_value value;
  std::size_t consumed = 0;
  std::string error;
  std::string two_values = encode_json_upgrade_request_one(cookie) + "{\"Sen";
  EXPECT_EQ(decode_json_upgrade(two_values, consumed, value, error),
            upgrade_json_status::done);
  EXPECT_EQ(value.client_cookie, cookie);
  EXPECT_EQ(two_values.substr(consumed), "{\"Sen");
  EXPECT_EQ(decode_json_upgrade("{\"Sen", consumed, value, error),
            upgrade_json_status::need_more);
  for (std::string cookie_text : {"\"\"", "\"QQ==\"", "\"QUI=\"", "\"QUJD\""}) {
    EXPECT_EQ(decode_json_upgrade("{\"ClientCookie\":" + cookie_text + "}\n",
                                  consumed, value, error),
              upgrade_json_status::done)
        << cookie_text;
  }
  EXPECT_EQ(value.client_cookie, "ABC");
  for (const char* bad :
       {"{\"ClientCookie\":\"A\"}\n", "{\"ClientCookie\":\"QQ=A\"}\n",
        "{\"ClientCookie\":7}\n", "{\"SentServerCookie\":\"yes\"}\n", "[]\n",
        "{\n"}) {
    EXPECT_EQ(decode_json_upgrade(bad, consumed, value, error),
              upgrade_json_status::error)
        << bad;
  }
  EXPECT_EQ(decode_json_upgrade(std::string(5000, ' '), consumed, value, error),
            upgrade_json_status::error);
}

TEST(local_upgrade, socket_names_are_paths_or_abstract) {
  sockaddr_un address{};
  socklen_t length = 0;
  std::string error;
  ASSERT_TRUE(unix_socket_address("@SRPC.1", address, length, error));
  EXPECT_EQ(address.sun_path[0], '\0');
  EXPECT_EQ(std::string(address.sun_path + 1, 6), "SRPC.1");
  EXPECT_EQ(length, offsetof(sockaddr_un, sun_path) + 7);
  ASSERT_TRUE(unix_socket_address("/run/x.sock", address, length, error));
  EXPECT_STREQ(address.sun_path, "/run/x.sock");
  EXPECT_EQ(length, offsetof(sockaddr_un, sun_path) + 12);
  EXPECT_FALSE(unix_socket_address("", address, length, error));
  EXPECT_FALSE(
      unix_socket_address(std::string(108, 'x'), address, length, error));
}
