// A small etcd v3 client over etcd's own gRPC API (KV, Lease, Watch and the
// election service), for the replicated store and the leader election.
// Every call blocks until etcd answers or its deadline passes: call it from
// a thread of its own (a detached actor, the election threads), never from
// an actor on the scheduler's threads. The client is safe to share between
// threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

// The generated messages, declared only: their headers stay in the .cpp.
namespace etcdserverpb {
class RangeRequest;
class RangeResponse;
} // namespace etcdserverpb

namespace dm::etcd {

struct client_options {
  // host:port, optionally with an http:// or https:// scheme.
  std::vector<std::string> endpoints;
  // TLS to etcd when any is set (or an endpoint says https://): the CA that
  // signed the members' certificates, and our client certificate and key.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // Deadlines: of each lease and election call, of each KV call (reads and
  // transactions, which may have to outlast an election among the
  // members), and of one attempt on one member; an attempt that fails or
  // times out is tried on the next member while its call's deadline lasts.
  std::chrono::milliseconds call_timeout{std::chrono::seconds(1)};
  std::chrono::milliseconds kv_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds attempt_timeout{std::chrono::milliseconds(700)};
};

struct key_value {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0;
};

struct range_page {
  std::vector<key_value> kvs;
  bool more = false;
  std::int64_t revision = 0; // of the store when read
};

// One operation of a transaction.
struct txn_op {
  enum class kind { put, erase } what = kind::put;
  std::string key;
  std::string value;
  std::int64_t lease = 0;
  static txn_op put(std::string key, std::string value, std::int64_t lease = 0);
  static txn_op erase(std::string key);
};

// A transaction's condition: `key` exists with this create revision (0:
// `key` does not exist).
struct txn_guard {
  std::string key;
  std::int64_t create_revision = 0;
};

// The leader of an election, as the election service names it.
struct leader_key {
  std::string name;
  std::string key;
  std::int64_t revision = 0; // the key's create revision
  std::int64_t lease = 0;
};

// The end of a range holding every key that starts with `prefix`.
std::string prefix_end(const std::string& prefix);

class client {
public:
  static std::unique_ptr<client> connect(const client_options& options,
                                         std::string& error);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Keys in [key, range_end) (range_end empty: `key` alone), at most
  // `limit` of them (0: all), as of `revision` (0: now), sorted by key.
  bool range(const std::string& key, const std::string& range_end,
             std::int64_t limit, std::int64_t revision, range_page& out,
             std::string& error);
  // Whether any key lies in [key, range_end).
  bool any_key(const std::string& key, const std::string& range_end,
               bool& found, std::string& error);
  // Applies `ops` atomically when every guard holds; `applied` says which.
  // `revision` (when given) is set to the store's revision after it.
  bool txn(const std::vector<txn_guard>& guards, const std::vector<txn_op>& ops,
           bool& applied, std::string& error, std::int64_t* revision = nullptr);
  bool put(const std::string& key, const std::string& value,
           std::string& error);
  bool erase_range(const std::string& key, const std::string& range_end,
                   std::string& error);

  bool grant_lease(std::int64_t ttl_seconds, std::int64_t& id,
                   std::string& error);
  // One renewal; `ttl` is what is left of it (0 or less: the lease is gone).
  bool keep_alive(std::int64_t id, std::int64_t& ttl, std::string& error);
  bool revoke_lease(std::int64_t id, std::string& error);

  // Blocks until this lease's key leads the election `name` (it is made if
  // missing, holding `value`), until `cancel` is set (checked every
  // `poll`), or until etcd fails. False with `error` when not elected.
  bool campaign(const std::string& name, std::int64_t lease,
                const std::string& value, const std::atomic<bool>& cancel,
                leader_key& out, std::string& error);
  // The current leader's key and value; `none` when nobody leads.
  bool leader(const std::string& name, key_value& out, bool& none,
              std::string& error);
  bool resign(const leader_key& key, std::string& error);

  // Watches [key, range_end) from `start_revision` (0: now) and calls
  // `on_events` with each batch of changed keys (a deleted key has an
  // empty value and create revision 0) and the revision the watch has
  // reached with it (every change up to it has been delivered), until
  // `cancel` is set or etcd fails. With `progress_every` above zero, etcd
  // is asked that often how far the watch has come; its answer comes as a
  // batch without keys. `compacted` is set to the oldest revision etcd
  // still keeps when `start_revision` is older.
  bool
  watch(const std::string& key, const std::string& range_end,
        std::int64_t start_revision, const std::atomic<bool>& cancel,
        const std::function<void(const std::vector<key_value>&, std::int64_t)>&
            on_events,
        std::string& error,
        std::chrono::milliseconds progress_every = std::chrono::milliseconds(0),
        std::int64_t* compacted = nullptr);

  const client_options& options() const { return options_; }

private:
  struct impl;
  explicit client(client_options options);
  bool range_call(const etcdserverpb::RangeRequest& request,
                  etcdserverpb::RangeResponse& response, std::string& error);
  client_options options_;
  std::unique_ptr<impl> impl_;
};

} // namespace dm::etcd
