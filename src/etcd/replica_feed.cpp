// The follower's feed: load, watch from the next revision, reload after a
// failure (a compacted revision, a lost stream, a damaged value).
#include "etcd/replica_feed.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "etcd/etcd_store.hpp"

namespace dm::etcd {

bool changes_of_events(const std::string& prefix,
                       const std::vector<key_value>& events,
                       std::vector<state_change>& changes, std::string& error) {
  changes.clear();
  std::vector<state_change> limits;
  std::vector<state_change> admin;
  for (const auto& event : events) {
    if (!is_state_key(prefix, event.key))
      continue;
    state_change change;
    if (event.create_revision == 0) { // deleted
      if (decode_deleted_key(prefix, event.key, change))
        changes.push_back(std::move(change));
      continue;
    }
    if (!decode_stored_value(prefix, event.key, event.value, change, error))
      return false;
    if (change.admin)
      admin.push_back(std::move(change));
    else if (change.host.empty())
      limits.push_back(std::move(change));
    else
      changes.push_back(std::move(change));
  }
  for (auto* more : {&limits, &admin})
    for (auto& change : *more)
      changes.push_back(std::move(change));
  return true;
}

replica_feed::replica_feed(std::shared_ptr<client> etcd, std::string prefix,
                           feed_listener listener,
                           std::chrono::milliseconds progress_every)
    : etcd_(std::move(etcd)), prefix_(std::move(prefix)),
      listener_(std::move(listener)), progress_every_(progress_every) {}

replica_feed::~replica_feed() {
  stop();
}

void replica_feed::start() {
  thread_ = std::thread([this] { run(); });
}

void replica_feed::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    if (cancel_)
      *cancel_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void replica_feed::run() {
  std::string last_error;
  // Whether to read etcd's history back to the newest key loaded (a key
  // deleted since leaves no trace in a load); not once etcd has compacted
  // it away.
  bool replay = true;
  while (!stopping_) {
    std::string error;
    auto state = std::make_shared<stored_state>();
    std::int64_t read_at = 0;
    std::int64_t newest = 0;
    store_options options;
    options.prefix = prefix_;
    if (load_state(*etcd_, options, *state, error, &read_at, &newest)) {
      // From a load alone, the state is known to be the same only at the
      // revision it was read at; replayed from its newest key on, the
      // history shows when it last changed.
      feed_point point;
      point.changed = replay && newest > 0 ? newest : read_at;
      point.seen = point.changed;
      listener_.load(std::move(state), point);
      std::atomic<bool> cancel{false};
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_)
          return;
        cancel_ = &cancel;
      }
      bool damaged = false;
      std::int64_t compacted = 0;
      etcd_->watch(
          prefix_, prefix_end(prefix_), point.seen + 1, cancel,
          [&](const std::vector<key_value>& events, std::int64_t reached) {
            if (damaged || reached <= point.seen)
              return;
            auto changes = std::make_shared<std::vector<state_change>>();
            if (!changes_of_events(prefix_, events, *changes, error)) {
              // Nothing after it can be applied: read everything again.
              damaged = true;
              cancel = true;
              return;
            }
            for (const auto& event : events)
              if (is_state_key(prefix_, event.key))
                point.changed = std::max(point.changed, event.mod_revision);
            point.seen = reached;
            listener_.changes(changes->empty() ? nullptr : std::move(changes),
                              point);
          },
          error, progress_every_, &compacted);
      std::lock_guard<std::mutex> lock(mutex_);
      cancel_ = nullptr;
      replay = compacted == 0;
    }
    if (stopping_)
      return;
    if (error != last_error)
      spdlog::warn("replica feed: {}; reading the state again", error);
    last_error = error;
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock,
                   replay ? std::chrono::milliseconds(500)
                          : std::chrono::milliseconds(0),
                   [this] { return stopping_.load(); });
  }
}

} // namespace dm::etcd
