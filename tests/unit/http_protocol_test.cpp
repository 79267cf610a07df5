// HTTP on a fake channel: routing, error answers, pipelined requests
// answered in order, the self-only rule with its look-up, CONNECT, and the
// marks that give a request's head and body their own deadlines.
#include <gtest/gtest.h>

#include "http/http_protocol.hpp"
#include "srpc/srpc_protocol.hpp"
#include "tests/support/fake_channel.hpp"

using namespace dm;
using dm::test::fake_channel;

namespace {

std::string post(const std::string& body) {
  return "POST /api/v1/request HTTP/1.1\r\nHost: x\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string call_body(const std::string& op, const std::string& host) {
  return R"({"Request":")" + op + R"(","MDB":{"Hostname":")" + host + R"("}})";
}

std::string get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

// The status of each answer in `out`, in order.
std::vector<int> statuses(const std::string& out) {
  std::vector<int> found;
  for (auto at = out.find("HTTP/1.1 "); at != std::string::npos;
       at = out.find("HTTP/1.1 ", at + 1))
    found.push_back(std::stoi(out.substr(at + 9, 3)));
  return found;
}

call_result state(disruption_state s) {
  call_result r;
  r.state = s;
  return r;
}

struct http_protocol_test : ::testing::Test {
  std::shared_ptr<web_context> ctx = std::make_shared<web_context>();
  fake_channel ch;
  std::unique_ptr<http_protocol> proto;
  void SetUp() override { proto = std::make_unique<http_protocol>(ctx); }
};

} // namespace

TEST_F(http_protocol_test, routes_and_errors) {
  ch.feed(*proto, get("/healthz"));
  auto out = ch.take_output();
  EXPECT_EQ(statuses(out), std::vector<int>{200});
  EXPECT_NE(out.find("\r\n\r\nok\n"), std::string::npos);
  ch.feed(*proto, get("/nowhere"));
  out = ch.take_output();
  EXPECT_EQ(statuses(out), std::vector<int>{404});
  EXPECT_NE(out.find("404 page not found\n"), std::string::npos);
  ch.feed(*proto, get("/api/v1/request"));
  EXPECT_EQ(statuses(ch.take_output()), std::vector<int>{405});
  ch.feed(*proto, post("{"));
  EXPECT_EQ(statuses(ch.take_output()), std::vector<int>{400});
  ch.feed(*proto, post(call_body("check", "")));
  out = ch.take_output();
  EXPECT_EQ(statuses(out), std::vector<int>{400});
  EXPECT_NE(out.find("MDB.Hostname is required"), std::string::npos);
  EXPECT_TRUE(ch.calls.empty());
  EXPECT_FALSE(ch.closing);
  // A request that cannot be parsed ends the connection.
  ch.feed(*proto, "GET / HTTP/9.9\r\n\r\n");
  EXPECT_EQ(statuses(ch.take_output()), std::vector<int>{505});
  EXPECT_TRUE(ch.closing);
}

TEST_F(http_protocol_test, the_state_api_waits_for_a_snapshot) {
  ch.feed(*proto, get("/api/v1/state"));
  EXPECT_EQ(ch.snapshots, 1u);
  EXPECT_TRUE(ch.take_output().empty());
  ch.answer_state(*proto, state_view{});
  auto out = ch.take_output();
  ASSERT_EQ(statuses(out), std::vector<int>{200});
  EXPECT_NE(out.find("application/json"), std::string::npos);
  ch.feed(*proto, "POST /api/v1/state HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(statuses(ch.take_output()), std::vector<int>{405});
}

// Finding: pages answered 200 with no groups or a part of them when the
// state could not be gathered in time. Every page that shows the state
// answers 503 with the reason instead, and the connection goes on.
TEST_F(http_protocol_test, a_state_not_gathered_is_503_on_every_page) {
  for (const char* path : {"/showState", "/api/v1/state", "/metrics", "/"}) {
    ch.feed(*proto, get(path));
    ASSERT_EQ(ch.snapshots, 1u) << path;
    ch.snapshots = 0;
    gathered_state none;
    none.error = "the state could not be gathered within 30 s; try again";
    ch.answer_state(*proto, std::move(none));
    auto out = ch.take_output();
    EXPECT_EQ(statuses(out), std::vector<int>{503}) << path;
    EXPECT_NE(out.find("could not be gathered within 30 s"), std::string::npos)
        << path;
    EXPECT_FALSE(ch.closing) << path;
  }
}

TEST_F(http_protocol_test, pipelined_requests_are_answered_in_order) {
  ch.feed(*proto, post(call_body("check", "h1")) + get("/healthz") +
                      post(call_body("check", "h2")));
  // One at a time: the first call is out, the rest waits.
  ASSERT_EQ(ch.calls.size(), 1u);
  EXPECT_EQ(ch.calls[0].host, "h1");
  EXPECT_TRUE(ch.out.empty());
  ch.answer_call(*proto, state(disruption_state::permitted));
  ASSERT_EQ(ch.calls.size(), 2u);
  EXPECT_EQ(ch.calls[1].host, "h2");
  ch.answer_call(*proto, state(disruption_state::denied));
  auto out = ch.take_output();
  EXPECT_EQ(statuses(out), (std::vector<int>{200, 200, 200}));
  auto permitted = out.find("\"permitted\"");
  auto ok = out.find("ok\n");
  auto denied = out.find("\"denied\"");
  ASSERT_NE(denied, std::string::npos);
  EXPECT_LT(permitted, ok);
  EXPECT_LT(ok, denied);
  EXPECT_TRUE(ch.in.empty());
}

TEST_F(http_protocol_test, a_stranger_is_refused_after_the_lookup) {
  ch.peer = "10.0.0.7";
  ch.feed(*proto, post(call_body("request", "h3")));
  ASSERT_EQ(ch.lookups, std::vector<std::string>{"h3"});
  EXPECT_TRUE(ch.calls.empty());
  ch.answer_lookup(*proto, {"10.0.0.8"});
  auto out = ch.take_output();
  EXPECT_EQ(statuses(out), std::vector<int>{403});
  EXPECT_NE(out.find("h3 not permitted\n"), std::string::npos);
  EXPECT_TRUE(ch.calls.empty());
  ch.feed(*proto, post(call_body("cancel", "h3")));
  ch.answer_lookup(*proto, {}, "lookup h3: no such host");
  out = ch.take_output();
  EXPECT_EQ(statuses(out), std::vector<int>{403});
  EXPECT_NE(out.find("lookup h3: no such host"), std::string::npos);
}

TEST_F(http_protocol_test, the_machine_itself_is_admitted_after_the_lookup) {
  ch.peer = "10.0.0.7";
  ch.feed(*proto, post(call_body("request", "h4")) + get("/healthz"));
  ASSERT_EQ(ch.lookups.size(), 1u);
  ch.answer_lookup(*proto, {"10.0.0.7"});
  ASSERT_EQ(ch.calls.size(), 1u);
  EXPECT_EQ(ch.calls[0].kind, request_kind::request);
  EXPECT_TRUE(ch.out.empty());
  ch.answer_call(*proto, state(disruption_state::requested));
  auto out = ch.take_output();
  EXPECT_EQ(statuses(out), (std::vector<int>{200, 200}));
  EXPECT_LT(out.find("\"requested\""), out.find("ok\n"));
  // Method power needs no look-up.
  ch.peer_id = dm::test::powerful_identity();
  ch.feed(*proto, post(call_body("cancel", "h5")));
  EXPECT_EQ(ch.lookups.size(), 1u);
  EXPECT_EQ(ch.calls.size(), 2u);
}

TEST_F(http_protocol_test, an_error_from_the_actors_is_503) {
  ch.feed(*proto, post(call_body("check", "h6")));
  call_result failed;
  failed.error = "state not saved";
  ch.answer_call(*proto, failed);
  auto out = ch.take_output();
  EXPECT_EQ(statuses(out), std::vector<int>{503});
  EXPECT_NE(out.find("state not saved\n"), std::string::npos);
}

TEST_F(http_protocol_test, connect_hands_over_to_srpc) {
  ch.feed(*proto, "CONNECT /_goSRPC_/ HTTP/1.0\r\n\r\nDisruptionManager.");
  EXPECT_EQ(ch.take_output(), "HTTP/1.0 200 Connected to Go SRPC\n\n");
  ASSERT_TRUE(ch.next);
  EXPECT_NE(dynamic_cast<srpc_protocol*>(ch.next.get()), nullptr);
  EXPECT_FALSE(ch.tls_started);
  EXPECT_EQ(ch.keep_alive, ctx->keep_alive_period);
  // What follows the request is left for the next protocol.
  EXPECT_EQ(ch.in, "DisruptionManager.");
  fake_channel other;
  http_protocol proto2(ctx);
  other.feed(proto2, "CONNECT /nowhere HTTP/1.0\r\n\r\n");
  EXPECT_EQ(statuses(other.out), std::vector<int>{404});
  EXPECT_TRUE(other.closing);
  EXPECT_FALSE(other.next);
  EXPECT_EQ(other.keep_alive.count(), 0);
}

TEST_F(http_protocol_test, a_head_and_a_body_are_separate_units) {
  EXPECT_EQ(proto->unfinished_unit(ch), 0u);
  auto request = post(call_body("check", "h7"));
  auto head_end = request.find("\r\n\r\n") + 4;
  ch.feed(*proto, request.substr(0, 10));
  auto head = proto->unfinished_unit(ch);
  EXPECT_NE(head, 0u);
  ch.feed(*proto, request.substr(10, head_end - 10 - 2));
  EXPECT_EQ(proto->unfinished_unit(ch), head);
  ch.feed(*proto, request.substr(head_end - 2, 5));
  auto body = proto->unfinished_unit(ch);
  EXPECT_NE(body, 0u);
  EXPECT_NE(body, head);
  ch.feed(*proto, request.substr(head_end + 3));
  EXPECT_EQ(ch.calls.size(), 1u);
  EXPECT_EQ(proto->unfinished_unit(ch), 0u);
}

TEST_F(http_protocol_test, an_error_that_leaves_input_unread_closes_lingering) {
  ctx->limits.max_body_bytes = 1024;
  ch.feed(*proto, "POST /api/v1/request HTTP/1.1\r\nContent-Length: 100000\r\n"
                  "\r\nxxxx");
  EXPECT_EQ(statuses(ch.take_output()), std::vector<int>{413});
  EXPECT_TRUE(ch.closing);
  EXPECT_TRUE(ch.lingering);
  // An answer that reads its whole request closes as before.
  fake_channel other;
  http_protocol plain(ctx);
  other.feed(plain, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(other.closing || other.awaiting);
  EXPECT_FALSE(other.lingering);
}

// The dashboard's query chooses what is gathered; a query it cannot read
// is refused with the reason, before anything is gathered.
TEST_F(http_protocol_test, dashboard_query_sets_the_scope_or_is_refused) {
  ch.feed(*proto, get("/showState?group=A%20b&state=waiting&page=3"));
  ASSERT_EQ(ch.scopes.size(), 1u);
  EXPECT_FALSE(ch.scopes[0].whole);
  EXPECT_EQ(ch.scopes[0].group, std::optional<std::string>("A b"));
  EXPECT_EQ(ch.scopes[0].state, view_state::waiting);
  EXPECT_EQ(ch.scopes[0].first, 2 * dashboard_rows_per_page);
  ch.answer_state(*proto, state_view{});
  auto out = ch.take_output();
  EXPECT_EQ(statuses(out), std::vector<int>{200});
  EXPECT_NE(out.find("0 waiting machines in A b"), std::string::npos) << out;
  // The status page and the metrics gather the counts alone; the state
  // API everything.
  for (const char* path : {"/", "/metrics", "/api/v1/state"}) {
    ch.feed(*proto, get(path));
    ch.answer_state(*proto, state_view{});
    ch.take_output();
  }
  ASSERT_EQ(ch.scopes.size(), 4u);
  EXPECT_FALSE(ch.scopes[1].whole);
  EXPECT_EQ(ch.scopes[1].count, 0u);
  EXPECT_FALSE(ch.scopes[2].whole);
  EXPECT_TRUE(ch.scopes[3].whole);

  for (auto [query, reason] : std::vector<std::pair<std::string, std::string>>{
           {"page=0", "page must be a whole number from 1 to 1000000000"},
           {"state=denied",
            "state must be all, permitted, requested or waiting"},
           {"sort=host", "unknown query parameter \"sort\""},
           {"group=a&group=b", "group is given twice"},
           {"group=%zz", "the query is malformed"}}) {
    ch.feed(*proto, get("/showState?" + query));
    out = ch.take_output();
    EXPECT_EQ(statuses(out), std::vector<int>{400}) << query;
    EXPECT_NE(out.find(reason), std::string::npos) << query << "\n" << out;
    EXPECT_FALSE(ch.closing) << query;
  }
  EXPECT_EQ(ch.scopes.size(), 4u);
}
