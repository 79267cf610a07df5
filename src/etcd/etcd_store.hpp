// The replicated backend of the state: one etcd key per machine (and one
// per group limit) under a prefix. Every sync is one fenced transaction
// (more only where etcd's limits on operations or bytes per transaction
// force it), so a replica that no longer leads cannot write.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "etcd/etcd_client.hpp"
#include "storage/state_store.hpp"

namespace dm::etcd {

struct store_options {
  std::string prefix = "/disruption-manager/";
  // The leader's own election key and its create revision: every write
  // requires it to still be there (see docs/architecture.md, "Fencing").
  // An empty key writes unfenced (the one-shot import only).
  txn_guard fence;
  // etcd's defaults: --max-txn-ops 128, --max-request-bytes 1.5 MiB; a
  // transaction stays under both, with room for the fence.
  std::size_t max_ops_per_txn = 127;
  std::size_t max_txn_bytes = 1u << 20;
  // Keys per Range page when loading.
  std::int64_t page_size = 1000;
  // Told the store's revision after each sync whose transactions all
  // committed, before the sync returns (so before its answers are
  // released): a revision between two syncs' batches, never inside one.
  std::function<void(std::int64_t)> on_committed;
};

// The keys: <prefix>machines/<group>/<host> and <prefix>limits/<group>,
// with '/', '%' and control bytes of the names percent-escaped, and
// <prefix>admin for the operators' settings (one value, replaced whole).
std::string machine_key(const std::string& prefix, const std::string& group,
                        const std::string& host);
std::string limit_key(const std::string& prefix, const std::string& group);
std::string admin_key(const std::string& prefix);
// Where the replicas campaign (the election service's name).
std::string election_name(const std::string& prefix);

// A stored value: the checksummed state line of the file store's journal.
// Decodes one value read back from `key`: false with `error` naming the key
// when it is damaged, is not what that key holds, or names another key.
bool decode_stored_value(const std::string& prefix, const std::string& key,
                         const std::string& value, state_change& change,
                         std::string& error);

// A key deleted under `prefix`, as the change it stands for: a machine's
// key is that machine gone from its group (true); any other key, nothing
// the state keeps (false).
bool decode_deleted_key(const std::string& prefix, const std::string& key,
                        state_change& change);
// Whether `key` holds part of the state (a machine, a limit, the
// operators' settings), not the election's keys or the secret.
bool is_state_key(const std::string& prefix, const std::string& key);

// Reads the whole state under `prefix` (paged, at one revision, which
// `revision` is set to when given, and `newest` to the latest revision a
// key read was written at). A damaged value is refused by name: an error,
// never an empty or partial state.
bool load_state(client& etcd, const store_options& options, stored_state& state,
                std::string& error, std::int64_t* revision = nullptr,
                std::int64_t* newest = nullptr);

// The secret the replicas under `prefix` sign forwarded calls with: made
// (random) by the first replica that asks, read by the others. Only who
// may read the prefix can have it.
bool replica_secret(client& etcd, const std::string& prefix,
                    std::string& secret, std::string& error);

// Writes `state` under an empty prefix (refuses one that holds any state).
bool import_state(client& etcd, const std::string& prefix,
                  const stored_state& state, std::size_t& keys_written,
                  std::string& error);

class store final : public state_store {
public:
  // Loads the state, then writes through `etcd`.
  static std::unique_ptr<store> open(std::shared_ptr<client> etcd,
                                     store_options options, std::string& error);

  const stored_state& loaded() const override { return loaded_; }
  // The revision the state was loaded at.
  std::int64_t loaded_revision() const { return loaded_revision_; }
  bool append(const std::vector<state_change>& changes,
              std::string& error) override;
  // Writes the latest change per key since the last good sync; after a
  // failure they stay pending and go with the next.
  bool sync(std::string& error) override;
  std::string describe() const override;
  store_health health() const override;

  std::uint64_t transactions() const { return transactions_; }

private:
  store(std::shared_ptr<client> etcd, store_options options);
  std::shared_ptr<client> etcd_;
  store_options options_;
  stored_state loaded_;
  std::int64_t loaded_revision_ = 0;
  // The latest change per key, in order of first appearance.
  std::vector<std::pair<std::string, state_change>> pending_;
  std::map<std::string, std::size_t> pending_index_;
  std::uint64_t changes_written_ = 0;
  std::uint64_t transactions_ = 0;
};

} // namespace dm::etcd
