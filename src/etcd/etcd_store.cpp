// The etcd store: keys, values, the paged load and the fenced writes.
#include "etcd/etcd_store.hpp"

#include <algorithm>
#include <chrono>

#include <openssl/rand.h>

#include "metrics/service_metrics.hpp"
#include "storage/file_store.hpp"
#include "text/hex_digit.hpp"

namespace dm::etcd {

namespace {

const char* const machines_folder = "machines/";
const char* const limits_folder = "limits/";

void append_escaped(std::string& out, const std::string& name) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '/' || c == '%' || byte < 0x20 || byte == 0x7F) {
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 0xF];
    } else {
      out += c;
    }
  }
}

// The printable start of a key, for an error that names it.
std::string printable(const std::string& key) {
  std::string out;
  for (char c : key.substr(0, 200)) {
    auto byte = static_cast<unsigned char>(c);
    out += byte < 0x20 || byte == 0x7F ? '?' : c;
  }
  return key.size() > 200 ? out + "..." : out;
}

std::size_t op_bytes(const txn_op& op) {
  return op.key.size() + op.value.size() + 16;
}

// Reads every key under `folder`, a page at a time, at `revision` (0: now,
// then set to the revision read).
bool read_folder(client& etcd, const std::string& folder,
                 std::int64_t page_size, std::int64_t& revision,
                 std::vector<key_value>& out, std::string& error) {
  const std::string end = prefix_end(folder);
  std::string from = folder;
  for (;;) {
    range_page page;
    if (!etcd.range(from, end, page_size, revision, page, error))
      return false;
    if (revision == 0)
      revision = page.revision;
    for (auto& kv : page.kvs)
      out.push_back(std::move(kv));
    if (!page.more || page.kvs.empty())
      return true;
    from = out.back().key + '\0';
  }
}

// Where `ops` split into transactions that stay within etcd's limits:
// [begin, end) of each, in order.
std::vector<std::pair<std::size_t, std::size_t>>
split_ops(const std::vector<txn_op>& ops, std::size_t max_ops,
          std::size_t max_bytes) {
  std::vector<std::pair<std::size_t, std::size_t>> chunks;
  std::size_t begin = 0;
  while (begin < ops.size()) {
    std::size_t end = begin;
    std::size_t bytes = 0;
    while (end < ops.size() && end - begin < max_ops &&
           (end == begin || bytes + op_bytes(ops[end]) <= max_bytes)) {
      bytes += op_bytes(ops[end]);
      ++end;
    }
    chunks.emplace_back(begin, end);
    begin = end;
  }
  return chunks;
}

// One transaction of `ops[begin, end)` guarded by `guards`, counted.
bool write_chunk(client& etcd, const std::vector<txn_guard>& guards,
                 const std::vector<txn_op>& ops, std::size_t begin,
                 std::size_t end, std::uint64_t& transactions,
                 std::int64_t& revision, std::string& error) {
  auto& metrics = service_metrics::instance();
  std::vector<txn_op> chunk(ops.begin() + static_cast<std::ptrdiff_t>(begin),
                            ops.begin() + static_cast<std::ptrdiff_t>(end));
  bool applied = false;
  auto started = std::chrono::steady_clock::now();
  bool ok = etcd.txn(guards, chunk, applied, error, &revision);
  metrics.etcd_txn_latency.observe(std::chrono::steady_clock::now() - started);
  ++metrics.etcd_txns;
  ++transactions;
  if (ok && applied)
    return true;
  ++metrics.etcd_txn_failures;
  if (ok) {
    ++metrics.etcd_fence_refusals;
    error = "this replica no longer leads (its leader key is gone): nothing "
            "written";
  }
  return false;
}

} // namespace

std::string machine_key(const std::string& prefix, const std::string& group,
                        const std::string& host) {
  std::string key = prefix + machines_folder;
  append_escaped(key, group);
  key += '/';
  append_escaped(key, host);
  return key;
}

std::string limit_key(const std::string& prefix, const std::string& group) {
  std::string key = prefix + limits_folder;
  append_escaped(key, group);
  return key;
}

std::string admin_key(const std::string& prefix) {
  return prefix + "admin";
}

std::string election_name(const std::string& prefix) {
  return prefix + "leader";
}

namespace {

// The name escaped in `text` (append_escaped's inverse); false when `text`
// is not one.
bool unescape(std::string_view text, std::string& name) {
  name.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      name += text[i];
      continue;
    }
    if (i + 2 >= text.size())
      return false;
    auto high = hex_digit_value(text[i + 1]);
    auto low = hex_digit_value(text[i + 2]);
    if (high < 0 || low < 0)
      return false;
    name += static_cast<char>(high << 4 | low);
    i += 2;
  }
  return true;
}

} // namespace

bool is_state_key(const std::string& prefix, const std::string& key) {
  auto starts = [&](const std::string& folder) {
    return key.compare(0, folder.size(), folder) == 0;
  };
  return key == admin_key(prefix) || starts(prefix + machines_folder) ||
         starts(prefix + limits_folder);
}

bool decode_deleted_key(const std::string& prefix, const std::string& key,
                        state_change& change) {
  const std::string folder = prefix + machines_folder;
  if (key.compare(0, folder.size(), folder) != 0)
    return false;
  std::string_view rest(key);
  rest.remove_prefix(folder.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos)
    return false;
  change = state_change{};
  return unescape(rest.substr(0, slash), change.group) &&
         unescape(rest.substr(slash + 1), change.host) && !change.host.empty();
}

bool decode_stored_value(const std::string& prefix, const std::string& key,
                         const std::string& value, state_change& change,
                         std::string& error) {
  auto fail = [&](const std::string& why) {
    error = "etcd key " + printable(key) + " " + why;
    return false;
  };
  if (value.empty() || value.back() != '\n')
    return fail("is damaged (not one whole record)");
  std::string why;
  std::string_view line(value.data(), value.size() - 1);
  if (line.find('\n') != std::string_view::npos)
    return fail("is damaged (more than one record)");
  if (decode_state_line(line, change, why) != line_kind::change)
    return fail(why.empty() ? "holds no record" : why);
  if (change.admin || key == admin_key(prefix)) {
    if (!change.admin || key != admin_key(prefix))
      return fail("holds the operators' settings out of place");
    return true;
  }
  if (change.host.empty()) {
    if (key != limit_key(prefix, change.group))
      return fail("holds the limit of another key (group \"" +
                  printable(change.group) + "\")");
    return true;
  }
  if (key != machine_key(prefix, change.group, change.host))
    return fail("holds the record of another key (" + printable(change.host) +
                " in group \"" + printable(change.group) + "\")");
  if (!change.entry.hold && !change.entry.wait)
    return fail("holds an empty record");
  return true;
}

bool load_state(client& etcd, const store_options& options, stored_state& state,
                std::string& error, std::int64_t* loaded_at,
                std::int64_t* newest) {
  state = stored_state{};
  std::int64_t revision = 0;
  std::vector<key_value> limits;
  std::vector<key_value> machines;
  std::vector<key_value> admin;
  if (!read_folder(etcd, options.prefix + limits_folder, options.page_size,
                   revision, limits, error) ||
      !read_folder(etcd, options.prefix + machines_folder, options.page_size,
                   revision, machines, error) ||
      !read_folder(etcd, admin_key(options.prefix), options.page_size, revision,
                   admin, error))
    return false;
  for (const auto* folder : {&limits, &machines, &admin}) {
    for (const auto& kv : *folder) {
      state_change change;
      if (!decode_stored_value(options.prefix, kv.key, kv.value, change,
                               error)) {
        state = stored_state{};
        return false;
      }
      apply_change(state, change);
    }
  }
  forget_empty_groups(state);
  if (loaded_at)
    *loaded_at = revision;
  if (newest) {
    *newest = 0;
    for (const auto* folder : {&limits, &machines, &admin})
      for (const auto& kv : *folder)
        *newest = std::max(*newest, kv.mod_revision);
  }
  return true;
}

bool replica_secret(client& etcd, const std::string& prefix,
                    std::string& secret, std::string& error) {
  const std::string key = prefix + "replica-secret";
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    error = "no random bytes for the replicas' secret";
    return false;
  }
  std::string fresh = lower_hex(bytes, sizeof(bytes));
  bool applied = false;
  if (!etcd.txn({txn_guard{key, 0}}, {txn_op::put(key, fresh)}, applied, error))
    return false;
  range_page page;
  if (!etcd.range(key, "", 0, 0, page, error))
    return false;
  if (page.kvs.size() != 1 || page.kvs[0].value.size() < 32) {
    error = "etcd key " + printable(key) + " holds no usable secret";
    return false;
  }
  secret = page.kvs[0].value;
  return true;
}

bool import_state(client& etcd, const std::string& prefix,
                  const stored_state& state, std::size_t& keys_written,
                  std::string& error) {
  keys_written = 0;
  for (const char* folder : {machines_folder, limits_folder, "admin"}) {
    bool found = false;
    if (!etcd.any_key(prefix + folder, prefix_end(prefix + folder), found,
                      error))
      return false;
    if (found) {
      error = "etcd prefix " + prefix +
              " already holds state: the import writes only into an empty "
              "prefix";
      return false;
    }
  }
  std::vector<txn_op> ops;
  const auto& admin = state.admin;
  if (admin.frozen || !admin.groups.empty() || !admin.audit.empty())
    ops.push_back(
        txn_op::put(admin_key(prefix),
                    encode_state_line(state_change::admin_update(admin))));
  for (const auto& [group, stored] : state.groups) {
    if (stored.limit != 1 || !stored.windows.empty())
      ops.push_back(txn_op::put(limit_key(prefix, group),
                                encode_state_line(state_change::limit_update(
                                    group, stored.limit, stored.windows))));
    for (const auto& [host, entry] : stored.hosts)
      ops.push_back(txn_op::put(
          machine_key(prefix, group, host),
          encode_state_line(state_change::host_update(group, host, entry))));
  }
  // Each key must still be absent: an import that meets a writer fails
  // rather than overwrite it (a guard per key: half the operations).
  std::uint64_t transactions = 0;
  std::int64_t revision = 0;
  store_options limits;
  for (auto [begin, end] :
       split_ops(ops, limits.max_ops_per_txn / 2, limits.max_txn_bytes / 2)) {
    std::vector<txn_guard> guards;
    for (std::size_t i = begin; i < end; ++i)
      guards.push_back(txn_guard{ops[i].key, 0});
    if (!write_chunk(etcd, guards, ops, begin, end, transactions, revision,
                     error)) {
      if (error.find("no longer leads") != std::string::npos)
        error = "etcd prefix " + prefix +
                " was written to during the import: stopped";
      return false;
    }
    keys_written += end - begin;
  }
  return true;
}

store::store(std::shared_ptr<client> etcd, store_options options)
    : etcd_(std::move(etcd)), options_(std::move(options)) {
  // nop
}

std::unique_ptr<store> store::open(std::shared_ptr<client> etcd,
                                   store_options options, std::string& error) {
  std::unique_ptr<store> made(new store(std::move(etcd), std::move(options)));
  if (!load_state(*made->etcd_, made->options_, made->loaded_, error,
                  &made->loaded_revision_))
    return nullptr;
  return made;
}

bool store::append(const std::vector<state_change>& changes,
                   std::string& error) {
  if (!storable_changes(changes, error))
    return false;
  for (const auto& change : changes) {
    auto key = change.admin ? admin_key(options_.prefix)
               : change.host.empty()
                   ? limit_key(options_.prefix, change.group)
                   : machine_key(options_.prefix, change.group, change.host);
    auto [it, fresh] = pending_index_.emplace(key, pending_.size());
    if (fresh)
      pending_.emplace_back(std::move(key), change);
    else
      pending_[it->second].second = change;
  }
  return true;
}

bool store::sync(std::string& error) {
  if (pending_.empty())
    return true;
  std::vector<txn_op> ops;
  ops.reserve(pending_.size());
  for (const auto& [key, change] : pending_) {
    bool erase =
        !change.host.empty() && !change.entry.hold && !change.entry.wait;
    ops.push_back(erase ? txn_op::erase(key)
                        : txn_op::put(key, encode_state_line(change)));
  }
  std::vector<txn_guard> guards;
  if (!options_.fence.key.empty())
    guards.push_back(options_.fence);
  std::size_t written = 0;
  bool ok = true;
  std::int64_t revision = 0;
  for (auto [begin, end] :
       split_ops(ops, options_.max_ops_per_txn, options_.max_txn_bytes)) {
    ok = write_chunk(*etcd_, guards, ops, begin, end, transactions_, revision,
                     error);
    if (!ok)
      break;
    written = end;
  }
  changes_written_ += written;
  if (ok && options_.on_committed)
    options_.on_committed(revision);
  if (written == pending_.size()) {
    pending_.clear();
    pending_index_.clear();
  } else if (written > 0) {
    pending_.erase(pending_.begin(),
                   pending_.begin() + static_cast<std::ptrdiff_t>(written));
    pending_index_.clear();
    for (std::size_t i = 0; i < pending_.size(); ++i)
      pending_index_.emplace(pending_[i].first, i);
  }
  return ok;
}

std::string store::describe() const {
  std::string endpoints;
  for (const auto& endpoint : etcd_->options().endpoints)
    endpoints += (endpoints.empty() ? "" : ",") + endpoint;
  return "etcd " + endpoints + " prefix " + options_.prefix + ", " +
         std::to_string(loaded_.host_count()) + " machines in " +
         std::to_string(loaded_.groups.size()) + " groups loaded";
}

store_health store::health() const {
  store_health health;
  health.pending_changes = pending_.size();
  health.changes_written = changes_written_;
  return health;
}

} // namespace dm::etcd
