// Host name resolution worker pool.
#include "net/host_resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

namespace dm {

namespace {

lookup_answer no_such_host(std::string_view name) {
  return {{}, "lookup " + std::string(name) + ": no such host"};
}

} // namespace

std::optional<lookup_answer> answer_without_lookup(std::string_view name) {
  // First, so that no C function below sees a name a NUL has cut short.
  if (name.empty())
    return no_such_host(name);
  for (char c : name) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= ' ' || b == 0x7F)
      return no_such_host(name);
  }
  const std::string text(name);
  in_addr v4{};
  in6_addr v6{};
  // inet_pton takes exactly the literals Go's ParseIP takes: four decimal
  // parts without leading zeros, or an IPv6 address.
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1 ||
      inet_pton(AF_INET6, text.c_str(), &v6) == 1)
    return lookup_answer{{text}, {}};
  const auto zone = text.find('%');
  if (zone != std::string::npos && zone > 0 && zone + 1 < text.size() &&
      inet_pton(AF_INET6, text.substr(0, zone).c_str(), &v6) == 1)
    return lookup_answer{{text}, {}};
  // What only the C library would read as an address (see the header).
  if (text.find(':') != std::string::npos || inet_aton(text.c_str(), &v4) != 0)
    return no_such_host(name);
  return std::nullopt;
}

std::string normalize_address(std::string address) {
  static const std::string mapped = "::ffff:";
  if (address.size() > mapped.size() &&
      address.compare(0, mapped.size(), mapped) == 0 &&
      address.find('.') != std::string::npos)
    return address.substr(mapped.size());
  return address;
}

host_resolver::host_resolver(std::size_t threads, std::chrono::seconds ttl)
    : ttl_(ttl) {
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { work(); });
}

host_resolver::~host_resolver() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_)
    thread.join();
}

void host_resolver::resolve(std::string hostname, callback done) {
  if (auto answer = answer_without_lookup(hostname)) {
    done(std::move(answer->addresses), std::move(answer->error));
    return;
  }
  {
    std::lock_guard<std::mutex> guard(mutex_);
    auto hit = cache_.find(hostname);
    if (hit != cache_.end() &&
        hit->second.expires > std::chrono::steady_clock::now()) {
      auto addresses = hit->second.addresses;
      auto error = hit->second.error;
      // Answer from the cache without a thread hop.
      mutex_.unlock();
      done(std::move(addresses), std::move(error));
      mutex_.lock();
      return;
    }
    jobs_.emplace_back(std::move(hostname), std::move(done));
  }
  wake_.notify_one();
}

void host_resolver::work() {
  for (;;) {
    std::pair<std::string, callback> job;
    {
      std::unique_lock<std::mutex> guard(mutex_);
      wake_.wait(guard, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_)
        return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    std::vector<std::string> addresses;
    std::string error;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(job.first.c_str(), nullptr, &hints, &found);
    if (rc != 0) {
      error = "lookup " + job.first + ": " +
              (rc == EAI_NONAME ? std::string("no such host")
                                : std::string(gai_strerror(rc)));
    } else {
      for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN] = {0};
        if (ai->ai_family == AF_INET)
          inet_ntop(AF_INET,
                    &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr,
                    text, sizeof(text));
        else if (ai->ai_family == AF_INET6)
          inet_ntop(AF_INET6,
                    &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr,
                    text, sizeof(text));
        else
          continue;
        addresses.push_back(normalize_address(text));
      }
      ::freeaddrinfo(found);
    }
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (cache_.size() > 100000)
        cache_.clear();
      cache_[job.first] = {
          addresses, error,
          std::chrono::steady_clock::now() +
              (error.empty() ? ttl_ : std::chrono::seconds(5))};
    }
    job.second(std::move(addresses), std::move(error));
  }
}

} // namespace dm
