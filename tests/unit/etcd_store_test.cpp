// The etcd client and the etcd store against a real one-member etcd: keys
// and values, paged loads, split transactions, the fence, damaged values
// and the import.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <memory>
#include <thread>

#include "etcd/etcd_client.hpp"
#include "etcd/etcd_store.hpp"
#include "etcd/replica_feed.hpp"
#include "storage/file_store.hpp"
#include "tests/support/etcd_cluster.hpp"
#include "tests/support/test_pki.hpp"

using namespace dm;
using namespace std::chrono_literals;

namespace {

timestamp at(std::int64_t seconds) {
  return timestamp{std::chrono::seconds(seconds)};
}

state_change permit(const std::string& group, const std::string& host,
                    std::int64_t when, std::uint64_t seq = 1) {
  host_entry entry;
  entry.hold = holding{true, at(when), seq};
  return state_change::host_update(group, host, entry);
}

state_change erase(const std::string& group, const std::string& host) {
  return state_change::host_update(group, host, host_entry{});
}

class etcd_store_test : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    cluster_ = new test::etcd_cluster(1);
    std::string error;
    ASSERT_TRUE(cluster_->start(error)) << error;
    etcd::client_options options;
    options.endpoints = cluster_->endpoint_list();
    client_ = etcd::client::connect(options, error);
    ASSERT_TRUE(client_) << error;
  }
  static void TearDownTestSuite() {
    client_.reset();
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(client_);
    prefix_ = std::string("/test/") +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() +
              "/";
  }

  // A leader key under the prefix held by a fresh lease, as the election
  // makes one: the fence of the stores these tests open.
  etcd::txn_guard make_leader_key(std::int64_t& lease) {
    std::string error;
    EXPECT_TRUE(client_->grant_lease(5, lease, error)) << error;
    std::string key = prefix_ + "leader/" + std::to_string(lease);
    bool applied = false;
    EXPECT_TRUE(
        client_->txn({}, {etcd::txn_op::put(key, "me", lease)}, applied, error))
        << error;
    etcd::range_page page;
    EXPECT_TRUE(client_->range(key, "", 0, 0, page, error)) << error;
    EXPECT_EQ(page.kvs.size(), 1u);
    return etcd::txn_guard{key,
                           page.kvs.empty() ? 0 : page.kvs[0].create_revision};
  }

  std::unique_ptr<etcd::store> open(etcd::store_options options) {
    options.prefix = prefix_;
    std::string error;
    auto store = etcd::store::open(client_, options, error);
    EXPECT_TRUE(store) << error;
    return store;
  }

  static test::etcd_cluster* cluster_;
  static std::shared_ptr<etcd::client> client_;
  std::string prefix_;
};

test::etcd_cluster* etcd_store_test::cluster_ = nullptr;
std::shared_ptr<etcd::client> etcd_store_test::client_;

TEST_F(etcd_store_test, client_ranges_puts_and_guards) {
  std::string error;
  ASSERT_TRUE(client_->put(prefix_ + "a", "1", error)) << error;
  ASSERT_TRUE(client_->put(prefix_ + "b", "2", error)) << error;
  etcd::range_page page;
  ASSERT_TRUE(
      client_->range(prefix_, etcd::prefix_end(prefix_), 0, 0, page, error))
      << error;
  ASSERT_EQ(page.kvs.size(), 2u);
  EXPECT_EQ(page.kvs[0].value, "1");
  EXPECT_EQ(page.kvs[1].value, "2");
  // A guard on a create revision that is not the key's: nothing applied.
  bool applied = true;
  ASSERT_TRUE(client_->txn({{prefix_ + "a", page.kvs[0].create_revision + 1}},
                           {etcd::txn_op::put(prefix_ + "c", "3")}, applied,
                           error))
      << error;
  EXPECT_FALSE(applied);
  ASSERT_TRUE(client_->txn({{prefix_ + "a", page.kvs[0].create_revision}},
                           {etcd::txn_op::put(prefix_ + "c", "3"),
                            etcd::txn_op::erase(prefix_ + "b")},
                           applied, error))
      << error;
  EXPECT_TRUE(applied);
  ASSERT_TRUE(
      client_->range(prefix_, etcd::prefix_end(prefix_), 0, 0, page, error));
  ASSERT_EQ(page.kvs.size(), 2u);
  EXPECT_EQ(page.kvs[1].key, prefix_ + "c");
  bool found = false;
  ASSERT_TRUE(client_->erase_range(prefix_, etcd::prefix_end(prefix_), error));
  ASSERT_TRUE(
      client_->any_key(prefix_, etcd::prefix_end(prefix_), found, error));
  EXPECT_FALSE(found);
}

TEST_F(etcd_store_test, leases_renew_and_revoke_their_keys) {
  std::string error;
  std::int64_t lease = 0;
  auto guard = make_leader_key(lease);
  std::int64_t ttl = 0;
  ASSERT_TRUE(client_->keep_alive(lease, ttl, error)) << error;
  EXPECT_GT(ttl, 0);
  ASSERT_TRUE(client_->revoke_lease(lease, error)) << error;
  bool found = true;
  ASSERT_TRUE(client_->any_key(guard.key, "", found, error));
  EXPECT_FALSE(found);
  ASSERT_TRUE(client_->keep_alive(lease, ttl, error)) << error;
  EXPECT_LE(ttl, 0);
}

TEST_F(etcd_store_test, watch_sees_puts_and_deletes) {
  std::string error;
  std::atomic<bool> cancel{false};
  std::vector<etcd::key_value> seen;
  std::mutex seen_mutex;
  std::thread watcher([&] {
    std::string watch_error;
    client_->watch(
        prefix_, etcd::prefix_end(prefix_), 0, cancel,
        [&](const std::vector<etcd::key_value>& events, std::int64_t) {
          std::lock_guard<std::mutex> lock(seen_mutex);
          seen.insert(seen.end(), events.begin(), events.end());
        },
        watch_error);
  });
  // The watch starts "now": write until it has seen a put and a delete.
  bool done = false;
  for (int i = 0; i < 100 && !done; ++i) {
    ASSERT_TRUE(client_->put(prefix_ + "w", std::to_string(i), error));
    ASSERT_TRUE(client_->erase_range(prefix_ + "w", "", error));
    std::this_thread::sleep_for(50ms);
    std::lock_guard<std::mutex> lock(seen_mutex);
    bool put = false, deleted = false;
    for (const auto& kv : seen) {
      put = put || !kv.value.empty();
      deleted = deleted || kv.create_revision == 0;
    }
    done = put && deleted;
  }
  cancel = true;
  watcher.join();
  EXPECT_TRUE(done);
}

TEST_F(etcd_store_test, changes_round_trip_one_key_per_machine) {
  {
    auto store = open({});
    ASSERT_TRUE(store);
    EXPECT_EQ(store->loaded().host_count(), 0u);
    std::string error;
    ASSERT_TRUE(store->append(
        {permit("g/1", "a", 100), permit("g/1", "b%c", 101, 2),
         state_change::limit_update("g/1", 3), permit("other", "a", 102)},
        error));
    ASSERT_TRUE(
        store->append({erase("other", "a"), permit("g/1", "a", 103)}, error));
    ASSERT_TRUE(store->sync(error)) << error;
    EXPECT_EQ(store->health().pending_changes, 0u);
    // Each key once: the later change of a machine replaced the earlier.
    EXPECT_EQ(store->health().changes_written, 4u);
    EXPECT_EQ(store->transactions(), 1u);
  }
  auto again = open({});
  ASSERT_TRUE(again);
  const auto& state = again->loaded();
  ASSERT_EQ(state.groups.size(), 1u);
  const auto& group = state.groups.at("g/1");
  EXPECT_EQ(group.limit, 3u);
  ASSERT_EQ(group.hosts.size(), 2u);
  EXPECT_EQ(group.hosts.at("a").hold->last_request, at(103));
  EXPECT_EQ(group.hosts.at("b%c").hold->queue_seq, 2u);
  std::string error;
  etcd::range_page page;
  ASSERT_TRUE(client_->range(etcd::machine_key(prefix_, "g/1", "b%c"), "", 0, 0,
                             page, error));
  ASSERT_EQ(page.kvs.size(), 1u);
  EXPECT_EQ(page.kvs[0].key, prefix_ + "machines/g%2F1/b%25c");
}

TEST_F(etcd_store_test, large_batches_split_and_load_in_pages) {
  etcd::store_options options;
  options.max_ops_per_txn = 7;
  options.page_size = 4;
  auto store = open(options);
  ASSERT_TRUE(store);
  std::vector<state_change> changes;
  for (int i = 0; i < 30; ++i)
    changes.push_back(permit("g", "host" + std::to_string(100 + i), 100 + i,
                             static_cast<std::uint64_t>(i + 1)));
  std::string error;
  ASSERT_TRUE(store->append(changes, error));
  ASSERT_TRUE(store->sync(error)) << error;
  EXPECT_EQ(store->transactions(), 5u); // 7+7+7+7+2
  auto again = open(options);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->loaded().host_count(), 30u);
}

// The fence: once the leader's key is gone (its lease revoked, as when it
// expires), a store that still thinks it leads cannot write at all.
TEST_F(etcd_store_test, a_store_whose_leader_key_is_gone_writes_nothing) {
  std::int64_t lease = 0;
  etcd::store_options options;
  options.fence = make_leader_key(lease);
  auto store = open(options);
  ASSERT_TRUE(store);
  std::string error;
  ASSERT_TRUE(store->append({permit("g", "first", 100)}, error));
  ASSERT_TRUE(store->sync(error)) << error;
  ASSERT_TRUE(client_->revoke_lease(lease, error)) << error;
  ASSERT_TRUE(store->append({permit("g", "second", 101)}, error));
  EXPECT_FALSE(store->sync(error));
  EXPECT_NE(error.find("no longer leads"), std::string::npos) << error;
  EXPECT_EQ(store->health().pending_changes, 1u);
  // A new leader key with the same name is another key: still refused.
  std::int64_t other = 0;
  ASSERT_TRUE(client_->grant_lease(5, other, error));
  bool applied = false;
  ASSERT_TRUE(client_->txn(
      {}, {etcd::txn_op::put(options.fence.key, "x", other)}, applied, error));
  EXPECT_FALSE(store->sync(error));
  auto reader = open({});
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->loaded().host_count(), 1u);
  client_->revoke_lease(other, error);
}

TEST_F(etcd_store_test, damaged_values_are_refused_by_name) {
  std::string error;
  auto key = etcd::machine_key(prefix_, "g", "a");
  auto good = encode_state_line(permit("g", "a", 100));
  ASSERT_TRUE(client_->put(key, good, error));
  ASSERT_TRUE(open({}));
  struct damaged {
    std::string key;
    std::string value;
    const char* says;
  };
  std::string flipped = good;
  flipped[12] = flipped[12] == 'x' ? 'y' : 'x';
  for (const auto& d : std::vector<damaged>{
           {key, flipped, "checksum"},
           {key, good.substr(0, good.size() - 1), "not one whole record"},
           {key, "", "not one whole record"},
           {key, good + good, "more than one record"},
           {etcd::machine_key(prefix_, "g", "b"), good, "another key"},
           {etcd::limit_key(prefix_, "g"), good, "another key"},
           {key, encode_state_line(erase("g", "a")), "empty record"},
       }) {
    ASSERT_TRUE(
        client_->erase_range(prefix_, etcd::prefix_end(prefix_), error));
    ASSERT_TRUE(client_->put(d.key, d.value, error));
    etcd::store_options options;
    options.prefix = prefix_;
    auto store = etcd::store::open(client_, options, error);
    EXPECT_FALSE(store);
    EXPECT_NE(error.find(d.key), std::string::npos) << error;
    EXPECT_NE(error.find(d.says), std::string::npos) << error;
  }
}

TEST_F(etcd_store_test, import_fills_an_empty_prefix_only) {
  stored_state state;
  state.groups["g"].limit = 2;
  state.groups["g"].hosts["a"].hold = holding{true, at(100), 1};
  state.groups["g"].hosts["b"].hold = holding{false, at(101), 2};
  std::size_t written = 0;
  std::string error;
  ASSERT_TRUE(etcd::import_state(*client_, prefix_, state, written, error))
      << error;
  EXPECT_EQ(written, 3u);
  auto store = open({});
  ASSERT_TRUE(store);
  EXPECT_EQ(store->loaded().groups.at("g").limit, 2u);
  EXPECT_EQ(store->loaded().host_count(), 2u);
  EXPECT_FALSE(etcd::import_state(*client_, prefix_, state, written, error));
  EXPECT_NE(error.find("already holds state"), std::string::npos) << error;
}

} // namespace

// TLS to etcd (-etcdCAfile, -etcdCertFile, -etcdKeyFile): a member that
// asks for client certificates serves a client with one from its CA, and
// refuses one without, or one that does not trust the member's CA.
TEST(etcd_client_tls, certificates_from_the_right_cas_are_needed) {
  test::test_pki pki;
  // etcd's own gateway calls the member with the member's certificate:
  // it serves and is a client too.
  test::certificate_spec member;
  member.common_name = "etcd member";
  member.dns_names = {"localhost"};
  member.ip_addresses = {"127.0.0.1"};
  member.server_auth = true;
  member.client_auth = true;
  auto [member_cert, member_key] = pki.write_client("etcd-member", member);
  test::etcd_tls_files files{member_cert, member_key, pki.ca_cert};
  test::etcd_cluster cluster(1, files);
  std::string error;
  ASSERT_TRUE(cluster.start(error)) << error;
  etcd::client_options options;
  options.endpoints = cluster.endpoint_list();
  options.ca_file = pki.ca_cert;
  options.cert_file = pki.operator_cert;
  options.key_file = pki.operator_key;
  options.kv_timeout = std::chrono::seconds(2);
  auto good = etcd::client::connect(options, error);
  ASSERT_TRUE(good) << error;
  EXPECT_TRUE(good->put("/tls/a", "1", error)) << error;
  etcd::range_page page;
  ASSERT_TRUE(good->range("/tls/a", "", 0, 0, page, error)) << error;
  ASSERT_EQ(page.kvs.size(), 1u);
  EXPECT_EQ(page.kvs[0].value, "1");

  auto without_certificate = options;
  without_certificate.cert_file.clear();
  without_certificate.key_file.clear();
  auto anonymous = etcd::client::connect(without_certificate, error);
  ASSERT_TRUE(anonymous) << error;
  EXPECT_FALSE(anonymous->range("/tls/a", "", 0, 0, page, error));
  EXPECT_FALSE(error.empty());

  auto wrong_ca = options;
  wrong_ca.ca_file = pki.foreign_ca_cert;
  auto distrusting = etcd::client::connect(wrong_ca, error);
  ASSERT_TRUE(distrusting) << error;
  EXPECT_FALSE(distrusting->range("/tls/a", "", 0, 0, page, error));

  // A key without its certificate is a configuration error at once.
  auto half = options;
  half.cert_file.clear();
  EXPECT_FALSE(etcd::client::connect(half, error));
  EXPECT_NE(error.find("needs its key"), std::string::npos) << error;
  auto missing = options;
  missing.ca_file = pki.dir() + "/none.pem";
  EXPECT_FALSE(etcd::client::connect(missing, error));
  EXPECT_NE(error.find("none.pem"), std::string::npos) << error;
}

// The operators' settings travel through the same interface: one key,
// replaced whole, read back with the machines.
TEST_F(etcd_store_test, admin_settings_round_trip_in_one_key) {
  admin_settings admin;
  admin.frozen = true;
  admin.groups["g/1"].limit_override = 4;
  audit_entry entry;
  entry.when = at(500);
  entry.who = "operator";
  entry.operation = "limit";
  entry.target = "g/1";
  entry.detail = "4";
  admin.record(entry);
  {
    auto store = open({});
    ASSERT_TRUE(store);
    std::string error;
    ASSERT_TRUE(store->append(
        {permit("g/1", "a", 100), state_change::admin_update(admin)}, error));
    admin.frozen = false;
    ASSERT_TRUE(store->append({state_change::admin_update(admin)}, error));
    ASSERT_TRUE(store->sync(error)) << error;
    EXPECT_EQ(store->health().changes_written, 2u); // one key each
  }
  auto again = open({});
  ASSERT_TRUE(again);
  const auto& loaded = again->loaded().admin;
  EXPECT_FALSE(loaded.frozen);
  EXPECT_EQ(loaded.groups.at("g/1").limit_override, 4u);
  ASSERT_EQ(loaded.audit.size(), 1u);
  EXPECT_EQ(loaded.audit[0].when, at(500));
  EXPECT_EQ(again->loaded().host_count(), 1u);
  // Settings under a machine's key are refused by name.
  std::string error;
  state_change change;
  auto value = encode_state_line(state_change::admin_update(admin));
  EXPECT_FALSE(etcd::decode_stored_value(
      prefix_, etcd::machine_key(prefix_, "g", "a"), value, change, error));
  EXPECT_NE(error.find("out of place"), std::string::npos) << error;
}

// A follower's feed, as the I/O threads see it: what it gave applied in
// order, and where it stands.
struct feed_record {
  std::mutex mutex;
  stored_state state;
  etcd::feed_point point;
  int loads = 0;

  etcd::feed_listener listener() {
    etcd::feed_listener l;
    l.load = [this](std::shared_ptr<const stored_state> loaded,
                    etcd::feed_point at) {
      std::lock_guard<std::mutex> lock(mutex);
      state = *loaded;
      point = at;
      ++loads;
    };
    l.changes = [this](std::shared_ptr<const std::vector<state_change>> changes,
                       etcd::feed_point at) {
      std::lock_guard<std::mutex> lock(mutex);
      if (changes)
        for (const auto& change : *changes)
          apply_change(state, change);
      forget_empty_groups(state);
      point = at;
    };
    return l;
  }
  // Waits until the feed has read etcd's history up to `revision`.
  bool reaches(std::int64_t revision) {
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (point.seen >= revision)
          return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  etcd::feed_point at() {
    std::lock_guard<std::mutex> lock(mutex);
    return point;
  }
};

// The feed loads, then follows every committed change; it knows the
// revision of the state's last change exactly (deletions too), follows
// etcd's revision past writes elsewhere, and reads everything again after
// a damaged value.
TEST_F(etcd_store_test, a_follower_feed_knows_the_state_at_each_revision) {
  std::string error;
  std::int64_t committed = 0;
  etcd::store_options options;
  options.on_committed = [&](std::int64_t revision) { committed = revision; };
  auto store = open(options);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->append({permit("g", "a", 100), permit("g", "gone", 100),
                             state_change::limit_update("g", 2)},
                            error));
  ASSERT_TRUE(store->sync(error)) << error;
  ASSERT_TRUE(store->append({erase("g", "gone")}, error));
  ASSERT_TRUE(store->sync(error)) << error;
  auto after_delete = committed;
  // Something else under the prefix (an election key), after it.
  ASSERT_TRUE(client_->put(prefix_ + "leader/1", "me", error));

  feed_record record;
  etcd::replica_feed feed(client_, prefix_, record.listener(), 100ms);
  feed.start();
  ASSERT_TRUE(record.reaches(after_delete + 1));
  {
    auto at = record.at();
    // Replayed from the newest key loaded: the deletion dates the state.
    EXPECT_EQ(at.changed, after_delete);
    std::lock_guard<std::mutex> lock(record.mutex);
    EXPECT_EQ(record.state.host_count(), 1u);
    EXPECT_EQ(record.state.groups.at("g").limit, 2u);
  }
  ASSERT_TRUE(
      store->append({permit("h", "b", 200), state_change::limit_update("h", 3),
                     erase("g", "a")},
                    error));
  ASSERT_TRUE(store->sync(error)) << error;
  ASSERT_TRUE(record.reaches(committed));
  EXPECT_EQ(record.at().changed, committed);
  {
    std::lock_guard<std::mutex> lock(record.mutex);
    EXPECT_EQ(record.state.groups.count("g"), 0u);
    EXPECT_EQ(record.state.groups.at("h").limit, 3u);
    EXPECT_EQ(record.state.host_count(), 1u);
  }
  // A write outside the prefix: etcd's progress notice moves `seen` on,
  // the state's revision stays.
  auto before = committed;
  ASSERT_TRUE(client_->put("/elsewhere/" + prefix_, "x", error));
  etcd::range_page page;
  ASSERT_TRUE(client_->range("/elsewhere/" + prefix_, "", 0, 0, page, error));
  ASSERT_TRUE(record.reaches(page.revision));
  EXPECT_EQ(record.at().changed, before);
  // A damaged value: read again (once it is mended).
  ASSERT_TRUE(
      client_->put(etcd::machine_key(prefix_, "h", "c"), "junk", error));
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(
      client_->erase_range(etcd::machine_key(prefix_, "h", "c"), "", error));
  bool reloaded = false;
  for (int i = 0; i < 200 && !reloaded; ++i) {
    std::this_thread::sleep_for(20ms);
    std::lock_guard<std::mutex> lock(record.mutex);
    reloaded = record.loads >= 2;
  }
  EXPECT_TRUE(reloaded);
  feed.stop();
  std::lock_guard<std::mutex> lock(record.mutex);
  EXPECT_EQ(record.state.host_count(), 1u);
  EXPECT_EQ(record.state.groups.at("h").limit, 3u);
}

// A sync split into several transactions names one revision, its last:
// never one inside the batch.
TEST_F(etcd_store_test, a_split_sync_is_committed_once) {
  std::vector<std::int64_t> committed;
  etcd::store_options options;
  options.max_ops_per_txn = 2;
  options.on_committed = [&](std::int64_t revision) {
    committed.push_back(revision);
  };
  auto store = open(options);
  ASSERT_TRUE(store);
  std::string error;
  ASSERT_TRUE(store->append({permit("g", "a", 1), permit("g", "b", 1),
                             permit("g", "c", 1), permit("g", "d", 1),
                             permit("g", "e", 1)},
                            error));
  ASSERT_TRUE(store->sync(error)) << error;
  EXPECT_EQ(store->transactions(), 3u);
  ASSERT_EQ(committed.size(), 1u);
  etcd::range_page page;
  ASSERT_TRUE(
      client_->range(prefix_, etcd::prefix_end(prefix_), 0, 0, page, error));
  EXPECT_EQ(committed[0], page.revision);
}

// Watched keys become changes the check replica applies in order: machines
// first, then limits, then the operators' settings; deletions of machines;
// nothing for keys outside the state.
TEST(replica_feed, events_become_changes_in_an_order_the_replica_applies) {
  const std::string prefix = "/p/";
  auto value_of = [](const state_change& change) {
    return encode_state_line(change);
  };
  std::vector<etcd::key_value> events;
  auto add = [&](std::string key, std::string value) {
    etcd::key_value kv;
    kv.key = std::move(key);
    kv.value = std::move(value);
    kv.create_revision = kv.value.empty() ? 0 : 5;
    kv.mod_revision = 9;
    events.push_back(kv);
  };
  add(etcd::limit_key(prefix, "g/1"),
      value_of(state_change::limit_update("g/1", 4)));
  add(etcd::machine_key(prefix, "g/1", "a"), value_of(permit("g/1", "a", 10)));
  add(prefix + "leader/77", "someone");
  add(etcd::machine_key(prefix, "g/1", "b%c"), "");
  add(prefix + "leader/78", "");
  std::vector<state_change> changes;
  std::string error;
  ASSERT_TRUE(etcd::changes_of_events(prefix, events, changes, error)) << error;
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].host, "a");
  EXPECT_EQ(changes[1].host, "b%c");
  EXPECT_EQ(changes[1].group, "g/1");
  EXPECT_FALSE(changes[1].entry.hold || changes[1].entry.wait);
  EXPECT_EQ(changes[2].host, "");
  EXPECT_EQ(changes[2].limit, 4u);
  add(etcd::machine_key(prefix, "g", "x"), "junk\n");
  EXPECT_FALSE(etcd::changes_of_events(prefix, events, changes, error));
  EXPECT_NE(error.find("machines/g/x"), std::string::npos) << error;
}
