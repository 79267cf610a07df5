// Resolves host names on its own threads, with a short cache, so a slow
// DNS answer never stalls an I/O thread or an actor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace dm {

class host_resolver {
public:
  // Called on a resolver thread: the addresses, or an error text.
  using callback = std::function<void(std::vector<std::string> addresses,
                                      std::string error)>;

  explicit host_resolver(std::size_t threads = 2,
                         std::chrono::seconds ttl = std::chrono::seconds(30));
  ~host_resolver();
  host_resolver(const host_resolver&) = delete;
  host_resolver& operator=(const host_resolver&) = delete;

  void resolve(std::string hostname, callback done);

private:
  struct cached {
    std::vector<std::string> addresses;
    std::string error;
    std::chrono::steady_clock::time_point expires;
  };
  void work();

  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<std::string, callback>> jobs_;
  std::unordered_map<std::string, cached> cache_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// "::ffff:10.1.2.3" -> "10.1.2.3"; other text unchanged.
std::string normalize_address(std::string address);

} // namespace dm
