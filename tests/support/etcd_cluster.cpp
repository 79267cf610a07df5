// Starts and stops etcd members for tests.
#include "tests/support/etcd_cluster.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/child_process.hpp"
#include "tests/support/server_process.hpp"

namespace dm::test {

namespace {

const char* const etcd_binary = "/usr/bin/etcd";

// Whether something accepts TCP connections on 127.0.0.1:port.
bool accepts(int port) {
  int fd = connect_from("127.0.0.1", port);
  if (fd < 0)
    return false;
  ::close(fd);
  return true;
}

} // namespace

bool etcd_available() {
  return ::access(etcd_binary, X_OK) == 0;
}

etcd_cluster::etcd_cluster(std::size_t members,
                           std::optional<etcd_tls_files> tls)
    : tls_(std::move(tls)) {
  for (std::size_t i = 0; i < members; ++i) {
    member m;
    m.name = "m" + std::to_string(i);
    m.client_port = free_port();
    m.peer_port = free_port();
    // Two free ports asked in a row may be the same one: ask again.
    while (m.peer_port == m.client_port)
      m.peer_port = free_port();
    members_.push_back(m);
  }
}

etcd_cluster::~etcd_cluster() {
  stop();
}

std::string etcd_cluster::endpoints() const {
  std::string out;
  for (const auto& endpoint : endpoint_list())
    out += (out.empty() ? "" : ",") + endpoint;
  return out;
}

std::vector<std::string> etcd_cluster::endpoint_list() const {
  std::vector<std::string> out;
  for (const auto& m : members_)
    out.push_back("127.0.0.1:" + std::to_string(m.client_port));
  return out;
}

std::string etcd_cluster::log_text(std::size_t index) const {
  std::ifstream in(dir_.file(members_[index].name + ".log"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool etcd_cluster::start_member(std::size_t index, bool fresh) {
  auto& m = members_[index];
  std::string initial;
  for (const auto& other : members_)
    initial += (initial.empty() ? "" : ",") + other.name +
               "=http://127.0.0.1:" + std::to_string(other.peer_port);
  std::string client_url = std::string(tls_ ? "https" : "http") +
                           "://127.0.0.1:" + std::to_string(m.client_port);
  std::string peer_url = "http://127.0.0.1:" + std::to_string(m.peer_port);
  std::vector<std::string> argv = {
      etcd_binary,
      "--name=" + m.name,
      "--data-dir=" + dir_.file(m.name + ".etcd"),
      "--listen-client-urls=" + client_url,
      "--advertise-client-urls=" + client_url,
      "--listen-peer-urls=" + peer_url,
      "--initial-advertise-peer-urls=" + peer_url,
      "--initial-cluster=" + initial,
      // One token for the whole cluster, told apart from other clusters.
      "--initial-cluster-token=dm-test-" + std::to_string(::getpid()) + "-" +
          std::to_string(members_[0].client_port),
      std::string("--initial-cluster-state=") + (fresh ? "new" : "existing"),
      // Quick elections on loopback; small and quiet.
      "--heartbeat-interval=50",
      "--election-timeout=500",
      "--quota-backend-bytes=268435456",
      "--log-level=warn",
      "--logger=zap",
  };
  if (tls_) {
    argv.push_back("--cert-file=" + tls_->cert_file);
    argv.push_back("--key-file=" + tls_->key_file);
    argv.push_back("--trusted-ca-file=" + tls_->client_ca_file);
    argv.push_back("--client-cert-auth");
  }
  int log = ::open(dir_.file(m.name + ".log").c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  child_io io;
  io.out_fd = log;
  io.err_fd = log;
  m.pid = start_program(argv, io);
  if (log >= 0)
    ::close(log);
  return m.pid > 0;
}

bool etcd_cluster::start(std::string& error, std::chrono::seconds wait) {
  if (!etcd_available()) {
    error = std::string(etcd_binary) + " is missing: run scripts/setup";
    return false;
  }
  for (std::size_t i = 0; i < members_.size(); ++i)
    if (!start_member(i, true)) {
      error = "cannot start etcd";
      return false;
    }
  auto deadline = std::chrono::steady_clock::now() + wait;
  // Serving: every member accepts, and a write through the first commits
  // (which needs an elected raft leader); run_program's etcdctl is not
  // assumed, so the health endpoint is read with curl.
  for (;;) {
    bool all = true;
    for (const auto& m : members_)
      all = all && accepts(m.client_port);
    if (all) {
      std::vector<std::string> curl = {"/usr/bin/curl", "-sf", "-m", "2"};
      if (tls_)
        curl.insert(curl.end(),
                    {"-k", "--cert", tls_->cert_file, "--key", tls_->key_file});
      curl.push_back(std::string(tls_ ? "https" : "http") + "://127.0.0.1:" +
                     std::to_string(members_[0].client_port) + "/health");
      std::string output;
      int code = run_program(curl, output);
      if (code == 0 && output.find("\"true\"") != std::string::npos)
        return true;
    }
    if (std::chrono::steady_clock::now() > deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  error = "etcd cluster did not come up:";
  for (std::size_t i = 0; i < members_.size(); ++i) {
    auto log = log_text(i);
    error += "\n--- " + members_[i].name + "\n" +
             (log.size() > 2000 ? log.substr(log.size() - 2000) : log);
  }
  return false;
}

void etcd_cluster::kill_member(std::size_t index) {
  auto& m = members_[index];
  if (m.pid <= 0)
    return;
  ::kill(m.pid, SIGKILL);
  reap(m.pid);
  m.pid = -1;
}

bool etcd_cluster::restart_member(std::size_t index) {
  if (members_[index].pid > 0)
    return true;
  return start_member(index, false);
}

void etcd_cluster::stop() {
  for (auto& m : members_)
    if (m.pid > 0)
      ::kill(m.pid, SIGTERM);
  for (auto& m : members_)
    if (m.pid > 0) {
      reap(m.pid);
      m.pid = -1;
    }
}

} // namespace dm::test
