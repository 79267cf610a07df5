// FleetLock's reading of requests, its access rule and the record a request
// becomes (docs/protocol.md, "FleetLock"); allowed networks.
#include "fleetlock/fleetlock.hpp"

#include <gtest/gtest.h>

#include "frontend/call_builder.hpp"
#include "net/ip_address.hpp"

using namespace dm;

namespace {

http_request post(std::string_view body, bool header = true) {
  http_request r;
  r.method = "POST";
  r.path = "/v1/pre-reboot";
  if (header)
    r.headers.push_back({"Fleet-Lock-Protocol", " true"});
  r.body = body;
  return r;
}

fleetlock_failure failure_of(const http_request& r) {
  auto read = read_fleetlock_request(r);
  EXPECT_TRUE(std::holds_alternative<fleetlock_failure>(read));
  return std::holds_alternative<fleetlock_failure>(read)
             ? std::get<fleetlock_failure>(read)
             : fleetlock_failure{};
}

} // namespace

TEST(fleetlock_request, reads_what_zincati_sends) {
  std::string body = "{\n  \"client_params\": {\n    \"id\": \"c988d25\",\n"
                     "    \"group\": \"work-ers.1\"\n  }\n}";
  auto read = read_fleetlock_request(post(body));
  ASSERT_TRUE(std::holds_alternative<fleetlock_client>(read));
  EXPECT_EQ(std::get<fleetlock_client>(read).id, "c988d25");
  EXPECT_EQ(std::get<fleetlock_client>(read).group, "work-ers.1");
}

TEST(fleetlock_request, refuses_each_fault_with_its_kind) {
  EXPECT_EQ(
      failure_of(post(R"({"client_params":{"id":"a","group":"g"}})", false))
          .kind,
      "bad_request");
  EXPECT_EQ(failure_of(post("[]")).kind, "bad_request");
  EXPECT_EQ(failure_of(post(R"({"client_params":{"group":"g"}})")).kind,
            "bad_request");
  EXPECT_EQ(failure_of(post(R"({"client_params":{"id":"","group":"g"}})")).kind,
            "bad_request");
  EXPECT_EQ(
      failure_of(post(R"({"client_params":{"id":"a\nb","group":"g"}})")).kind,
      "bad_request");
  EXPECT_EQ(
      failure_of(post(R"({"client_params":{"id":"a","group":"g_h"}})")).kind,
      "bad_group");
  std::string long_id(1001, 'x');
  EXPECT_EQ(failure_of(post(R"({"client_params":{"id":")" + long_id +
                            R"(","group":"g"}})"))
                .kind,
            "bad_request");
  auto get = post("{}");
  get.method = "GET";
  auto f = failure_of(get);
  EXPECT_EQ(f.status, 405);
  EXPECT_EQ(f.kind, "method_not_allowed");
}

TEST(fleetlock_request, routes_under_the_base_path) {
  fleetlock_settings s;
  EXPECT_EQ(fleetlock_route(s, "/v1/pre-reboot"),
            fleetlock_operation::recursive_lock);
  EXPECT_EQ(fleetlock_route(s, "/v1/steady-state"),
            fleetlock_operation::unlock_if_held);
  EXPECT_FALSE(fleetlock_route(s, "/v1/other"));
  s.base_path = "/fl";
  EXPECT_EQ(fleetlock_route(s, "/fl/v1/pre-reboot"),
            fleetlock_operation::recursive_lock);
  EXPECT_FALSE(fleetlock_route(s, "/v1/pre-reboot"));
  EXPECT_FALSE(fleetlock_route(s, "/flx/v1/pre-reboot"));
}

TEST(fleetlock_access, networks_or_nothing) {
  fleetlock_settings s;
  auto who = fleetlock_caller(s, fleetlock_operation::recursive_lock,
                              "10.1.2.3", nullptr);
  EXPECT_FALSE(who.self_only);
  EXPECT_FALSE(who.allowed);
  EXPECT_NE(who.refused_reason.find("-fleetLockAllowedNetworks"),
            std::string::npos);
  std::string error;
  ASSERT_TRUE(
      parse_ip_networks("10.0.0.0/8, fd00::/8", s.allowed_networks, error))
      << error;
  EXPECT_TRUE(fleetlock_caller(s, fleetlock_operation::unlock_if_held,
                               "10.1.2.3", nullptr)
                  .allowed);
  EXPECT_TRUE(fleetlock_caller(s, fleetlock_operation::unlock_if_held,
                               "::ffff:10.1.2.3", nullptr)
                  .allowed);
  EXPECT_TRUE(fleetlock_caller(s, fleetlock_operation::unlock_if_held,
                               "fd00::1", nullptr)
                  .allowed);
  EXPECT_FALSE(fleetlock_caller(s, fleetlock_operation::unlock_if_held,
                                "11.0.0.1", nullptr)
                   .allowed);
}

TEST(fleetlock_record, carries_group_limit_gate_and_template_tags) {
  fleetlock_settings s;
  s.default_limit = 3;
  s.ready_timeout = "5m";
  s.ready_url = "http://{{.Hostname}}/ready?g={{.Tags.FleetLockGroup}}";
  auto m = fleetlock_record({"node-1", "workers"}, s);
  auto call = make_disruption_call(request_kind::cancel, m);
  EXPECT_EQ(call.host, "node-1"); // the prefix is the admission's step
  EXPECT_EQ(call.group, "workers");
  EXPECT_EQ(call.limit, 3u);
  EXPECT_TRUE(call.has_gate);
  EXPECT_EQ(call.gate_url, "http://node-1/ready?g=workers");
  EXPECT_EQ(fleetlock_kind_of(fleetlock_operation::recursive_lock),
            request_kind::request);
  auto where = fleetlock_namespace();
  EXPECT_EQ(where.host_prefix, "fleetlock/");
  EXPECT_TRUE(where.wants_queue_position);
}

TEST(ip_network, parses_and_matches) {
  ip_network n;
  std::string error;
  ASSERT_TRUE(parse_ip_network("192.168.1.0/23", n, error)) << error;
  EXPECT_TRUE(network_contains(n, "192.168.0.7"));
  EXPECT_TRUE(network_contains(n, "192.168.1.255"));
  EXPECT_FALSE(network_contains(n, "192.168.2.0"));
  EXPECT_FALSE(network_contains(n, "::1"));
  ASSERT_TRUE(parse_ip_network("::1", n, error));
  EXPECT_TRUE(network_contains(n, "::1"));
  EXPECT_FALSE(network_contains(n, "::2"));
  ASSERT_TRUE(parse_ip_network("0.0.0.0/0", n, error));
  EXPECT_TRUE(network_contains(n, "8.8.8.8"));
  for (const char* bad :
       {"10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "x", "::/129", "10.0.0.0/-1"}) {
    EXPECT_FALSE(parse_ip_network(bad, n, error)) << bad;
    EXPECT_FALSE(error.empty());
  }
  std::vector<ip_network> list;
  EXPECT_TRUE(parse_ip_networks("", list, error));
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(parse_ip_networks("10.0.0.0/8,", list, error));
  EXPECT_FALSE(parse_ip_networks("10.0.0.0/8,,::1", list, error));
}
