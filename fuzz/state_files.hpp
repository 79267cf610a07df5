// A scratch state directory for the storage fuzz targets (on tmpfs when
// there is one, as they sync often) and a comparison of stored states.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/state_store.hpp"

namespace dm::fuzz {

inline void clear_scratch_directory();

// One directory per process, emptied before each input and removed at exit.
// Never destroyed, so the exit handler can still name it.
inline const std::string& scratch_directory() {
  static const std::string* dir = [] {
    std::string base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    // The pid in the name lets fuzz/run-fuzzers remove what a crashed
    // process left behind.
    auto* path = new std::string(base + "/dm-fuzz-" +
                                 std::to_string(::getpid()) + "-XXXXXX");
    if (::mkdtemp(path->data()) == nullptr)
      std::abort();
    std::atexit([] {
      clear_scratch_directory();
      ::rmdir(scratch_directory().c_str());
    });
    return path;
  }();
  return *dir;
}

inline void clear_scratch_directory() {
  for (const char* name :
       {"state.journal", "state.snapshot", "state.snapshot.tmp", "state.json"})
    ::unlink((scratch_directory() + "/" + name).c_str());
}

inline void write_scratch_file(const char* name, std::string_view bytes) {
  auto path = scratch_directory() + "/" + name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    std::abort();
  while (!bytes.empty()) {
    auto n = ::write(fd, bytes.data(), bytes.size());
    if (n <= 0)
      std::abort();
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  ::close(fd);
}

// Equal as far as a store keeps them: groups without hosts at the default
// limit are not written to a snapshot, and wait ids are not persisted.
inline bool same_state(const stored_state& a, const stored_state& b) {
  auto kept = [](const stored_state& s) {
    std::size_t n = 0;
    for (const auto& [id, group] : s.groups)
      n += !group.hosts.empty() || group.limit > 1;
    return n;
  };
  if (kept(a) != kept(b))
    return false;
  for (const auto& [id, group] : a.groups) {
    if (group.hosts.empty() && group.limit <= 1)
      continue;
    auto other = b.groups.find(id);
    if (other == b.groups.end() || other->second.limit != group.limit ||
        other->second.hosts.size() != group.hosts.size())
      return false;
    for (const auto& [host, entry] : group.hosts) {
      auto it = other->second.hosts.find(host);
      if (it == other->second.hosts.end())
        return false;
      const auto& e = it->second;
      if (entry.hold.has_value() != e.hold.has_value() ||
          entry.wait.has_value() != e.wait.has_value())
        return false;
      if (entry.hold && (entry.hold->permitted != e.hold->permitted ||
                         entry.hold->last_request != e.hold->last_request ||
                         entry.hold->queue_seq != e.hold->queue_seq))
        return false;
      if (entry.wait && (entry.wait->deadline != e.wait->deadline ||
                         entry.wait->url != e.wait->url))
        return false;
    }
  }
  return true;
}

} // namespace dm::fuzz
