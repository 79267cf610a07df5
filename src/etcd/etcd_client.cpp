// The etcd client: one gRPC channel per endpoint; a call that finds its
// endpoint unavailable moves on to the next while its deadline lasts.
#include "etcd/etcd_client.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "etcd/etcdserver/api/v3election/v3electionpb/v3election.grpc.pb.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "files/file_io.hpp"

namespace dm::etcd {

namespace {

// gRPC takes deadlines on the system clock only.
using clock = std::chrono::system_clock;

std::string describe(const grpc::Status& status) {
  std::string text = status.error_message();
  if (text.empty())
    text = "gRPC status " + std::to_string(status.error_code());
  return text;
}

// Worth trying on another member: this one is down, cut off or without
// a leader of its own.
bool try_elsewhere(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

// gRPC's own lines (a failed TLS handshake, a reset connection) go to our
// log at debug level instead of stderr: what they cause reaches the log
// anyway, as the failed call's error.
void log_grpc_line(gpr_log_func_args* args) {
  spdlog::debug("gRPC: {} ({}:{})", args->message, args->file, args->line);
}

bool read_pem(const std::string& path, const char* what, std::string& out,
              std::string& error) {
  std::string why;
  if (read_whole_file(path, 1u << 20, out, why) != read_status::ok) {
    error = std::string("etcd ") + what + " " + path + ": " +
            (why.empty() ? "missing" : why);
    return false;
  }
  return true;
}

} // namespace

txn_op txn_op::put(std::string key, std::string value, std::int64_t lease) {
  txn_op op;
  op.what = kind::put;
  op.key = std::move(key);
  op.value = std::move(value);
  op.lease = lease;
  return op;
}

txn_op txn_op::erase(std::string key) {
  txn_op op;
  op.what = kind::erase;
  op.key = std::move(key);
  return op;
}

std::string prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xFF) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0'); // every key
}

struct client::impl {
  struct member {
    std::string endpoint;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
    std::unique_ptr<v3electionpb::Election::Stub> election;
  };
  std::vector<member> members;
  std::atomic<std::size_t> current{0};
  std::chrono::milliseconds timeout;
  std::chrono::milliseconds kv_timeout;
  std::chrono::milliseconds attempt;

  // Runs `call(member, context)` on the current member, then, while it
  // fails for want of that member (down, cut off, or without a raft leader
  // while the cluster elects one: unavailable, or no answer within an
  // attempt's time) and `total` lasts, on the next ones in turn, pausing
  // briefly after each round. A transaction tried twice is applied at
  // most once per try, each under the same guards, with the same values.
  template <class Call>
  bool run(std::chrono::milliseconds total, Call&& call, std::string& error) {
    auto deadline = clock::now() + total;
    grpc::Status status;
    std::size_t start = current.load(std::memory_order_relaxed);
    for (std::size_t i = 0;; ++i) {
      std::size_t index = (start + i) % members.size();
      grpc::ClientContext context;
      context.set_deadline(std::min(deadline, clock::now() + attempt));
      status = call(members[index], context);
      if (status.ok()) {
        if (index != start)
          current.store(index, std::memory_order_relaxed);
        return true;
      }
      if (!try_elsewhere(status))
        break;
      if ((i + 1) % members.size() == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (clock::now() + std::chrono::milliseconds(10) >= deadline)
        break;
    }
    error = "etcd: " + describe(status);
    return false;
  }
  template <class Call>
  bool run_lease(Call&& call, std::string& error) {
    return run(timeout, std::forward<Call>(call), error);
  }
  template <class Call>
  bool run_kv(Call&& call, std::string& error) {
    return run(kv_timeout, std::forward<Call>(call), error);
  }
};

client::client(client_options options)
    : options_(std::move(options)), impl_(std::make_unique<impl>()) {
  // nop
}

client::~client() = default;

std::unique_ptr<client> client::connect(const client_options& options,
                                        std::string& error) {
  if (options.endpoints.empty()) {
    error = "etcd: no endpoints";
    return nullptr;
  }
  bool tls = !options.ca_file.empty() || !options.cert_file.empty() ||
             !options.key_file.empty();
  std::vector<std::string> targets;
  for (const auto& endpoint : options.endpoints) {
    std::string target = endpoint;
    if (target.rfind("https://", 0) == 0) {
      tls = true;
      target = target.substr(8);
    } else if (target.rfind("http://", 0) == 0) {
      target = target.substr(7);
    }
    while (!target.empty() && target.back() == '/')
      target.pop_back();
    if (target.empty() || target.find('/') != std::string::npos ||
        target.find(':') == std::string::npos) {
      error = "etcd: endpoint \"" + endpoint + "\" is not host:port";
      return nullptr;
    }
    targets.push_back(target);
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_file.empty() &&
        !read_pem(options.ca_file, "CA file", ssl.pem_root_certs, error))
      return nullptr;
    if (options.cert_file.empty() != options.key_file.empty()) {
      error = "etcd: a client certificate needs its key, and a key its "
              "certificate";
      return nullptr;
    }
    if (!options.cert_file.empty() &&
        (!read_pem(options.cert_file, "certificate file", ssl.pem_cert_chain,
                   error) ||
         !read_pem(options.key_file, "key file", ssl.pem_private_key, error)))
      return nullptr;
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  static std::once_flag log_routed;
  std::call_once(log_routed, [] { gpr_set_log_function(log_grpc_line); });
  std::unique_ptr<client> made(new client(options));
  made->impl_->timeout = options.call_timeout;
  made->impl_->kv_timeout = options.kv_timeout;
  made->impl_->attempt = options.attempt_timeout;
  for (const auto& target : targets) {
    grpc::ChannelArguments args;
    // Quick to notice a member that went away, and back.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetMaxReceiveMessageSize(64 << 20);
    impl::member m;
    m.endpoint = target;
    m.channel = grpc::CreateCustomChannel(target, credentials, args);
    m.kv = etcdserverpb::KV::NewStub(m.channel);
    m.lease = etcdserverpb::Lease::NewStub(m.channel);
    m.watch = etcdserverpb::Watch::NewStub(m.channel);
    m.election = v3electionpb::Election::NewStub(m.channel);
    made->impl_->members.push_back(std::move(m));
  }
  return made;
}

namespace {

void copy_kv(const mvccpb::KeyValue& in, key_value& out) {
  out.key = in.key();
  out.value = in.value();
  out.create_revision = in.create_revision();
  out.mod_revision = in.mod_revision();
  out.lease = in.lease();
}

} // namespace

namespace {

etcdserverpb::RangeRequest range_request(const std::string& key,
                                         const std::string& range_end) {
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  request.set_range_end(range_end);
  return request;
}

} // namespace

bool client::range_call(const etcdserverpb::RangeRequest& request,
                        etcdserverpb::RangeResponse& response,
                        std::string& error) {
  return impl_->run_kv(
      [&](impl::member& m, grpc::ClientContext& context) {
        response.Clear();
        return m.kv->Range(&context, request, &response);
      },
      error);
}

bool client::range(const std::string& key, const std::string& range_end,
                   std::int64_t limit, std::int64_t revision, range_page& out,
                   std::string& error) {
  auto request = range_request(key, range_end);
  request.set_limit(limit);
  request.set_revision(revision);
  etcdserverpb::RangeResponse response;
  if (!range_call(request, response, error))
    return false;
  out.kvs.clear();
  out.kvs.reserve(static_cast<std::size_t>(response.kvs_size()));
  for (const auto& kv : response.kvs()) {
    out.kvs.emplace_back();
    copy_kv(kv, out.kvs.back());
  }
  out.more = response.more();
  out.revision = response.header().revision();
  return true;
}

bool client::any_key(const std::string& key, const std::string& range_end,
                     bool& found, std::string& error) {
  auto request = range_request(key, range_end);
  request.set_count_only(true);
  etcdserverpb::RangeResponse response;
  if (!range_call(request, response, error))
    return false;
  found = response.count() > 0;
  return true;
}

bool client::txn(const std::vector<txn_guard>& guards,
                 const std::vector<txn_op>& ops, bool& applied,
                 std::string& error, std::int64_t* revision) {
  etcdserverpb::TxnRequest request;
  for (const auto& guard : guards) {
    auto* compare = request.add_compare();
    compare->set_key(guard.key);
    compare->set_target(etcdserverpb::Compare::CREATE);
    compare->set_result(etcdserverpb::Compare::EQUAL);
    compare->set_create_revision(guard.create_revision);
  }
  for (const auto& op : ops) {
    auto* request_op = request.add_success();
    if (op.what == txn_op::kind::put) {
      auto* put = request_op->mutable_request_put();
      put->set_key(op.key);
      put->set_value(op.value);
      put->set_lease(op.lease);
    } else {
      request_op->mutable_request_delete_range()->set_key(op.key);
    }
  }
  etcdserverpb::TxnResponse response;
  if (!impl_->run_kv(
          [&](impl::member& m, grpc::ClientContext& context) {
            response.Clear();
            return m.kv->Txn(&context, request, &response);
          },
          error))
    return false;
  applied = response.succeeded();
  if (revision)
    *revision = response.header().revision();
  return true;
}

bool client::put(const std::string& key, const std::string& value,
                 std::string& error) {
  bool applied = false;
  return txn({}, {txn_op::put(key, value)}, applied, error);
}

bool client::erase_range(const std::string& key, const std::string& range_end,
                         std::string& error) {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(key);
  request.set_range_end(range_end);
  etcdserverpb::DeleteRangeResponse response;
  return impl_->run_kv(
      [&](impl::member& m, grpc::ClientContext& context) {
        return m.kv->DeleteRange(&context, request, &response);
      },
      error);
}

bool client::grant_lease(std::int64_t ttl_seconds, std::int64_t& id,
                         std::string& error) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  if (!impl_->run_lease(
          [&](impl::member& m, grpc::ClientContext& context) {
            response.Clear();
            return m.lease->LeaseGrant(&context, request, &response);
          },
          error))
    return false;
  if (!response.error().empty()) {
    error = "etcd: " + response.error();
    return false;
  }
  id = response.id();
  return true;
}

bool client::keep_alive(std::int64_t id, std::int64_t& ttl,
                        std::string& error) {
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(id);
  etcdserverpb::LeaseKeepAliveResponse response;
  return impl_->run_lease(
      [&](impl::member& m, grpc::ClientContext& context) -> grpc::Status {
        auto stream = m.lease->LeaseKeepAlive(&context);
        if (!stream->Write(request) || !stream->Read(&response)) {
          stream->WritesDone();
          auto status = stream->Finish();
          return status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                            "keep-alive stream closed")
                             : status;
        }
        ttl = response.ttl();
        // One renewal per stream.
        stream->WritesDone();
        context.TryCancel();
        stream->Finish();
        return grpc::Status::OK;
      },
      error);
}

bool client::revoke_lease(std::int64_t id, std::string& error) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  etcdserverpb::LeaseRevokeResponse response;
  return impl_->run_lease(
      [&](impl::member& m, grpc::ClientContext& context) {
        return m.lease->LeaseRevoke(&context, request, &response);
      },
      error);
}

bool client::campaign(const std::string& name, std::int64_t lease,
                      const std::string& value, const std::atomic<bool>& cancel,
                      leader_key& out, std::string& error) {
  v3electionpb::CampaignRequest request;
  request.set_name(name);
  request.set_lease(lease);
  request.set_value(value);
  std::size_t index = impl_->current.load(std::memory_order_relaxed);
  for (std::size_t attempt = 0; attempt < impl_->members.size(); ++attempt) {
    auto& m = impl_->members[(index + attempt) % impl_->members.size()];
    grpc::ClientContext context;
    grpc::CompletionQueue queue;
    v3electionpb::CampaignResponse response;
    grpc::Status status;
    auto call = m.election->AsyncCampaign(&context, request, &queue);
    call->Finish(&response, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    bool cancelled = false;
    for (;;) {
      auto next = queue.AsyncNext(
          &tag, &ok, clock::now() + std::chrono::milliseconds(100));
      if (next == grpc::CompletionQueue::GOT_EVENT)
        break;
      if (!cancelled && cancel.load()) {
        context.TryCancel();
        cancelled = true;
      }
    }
    queue.Shutdown();
    while (queue.Next(&tag, &ok)) {
    }
    if (cancelled) {
      error = "campaign cancelled";
      return false;
    }
    if (status.ok()) {
      const auto& leader = response.leader();
      out.name = leader.name();
      out.key = leader.key();
      out.revision = leader.rev();
      out.lease = leader.lease();
      return true;
    }
    error = "etcd: " + describe(status);
    if (!try_elsewhere(status))
      return false;
  }
  return false;
}

bool client::leader(const std::string& name, key_value& out, bool& none,
                    std::string& error) {
  v3electionpb::LeaderRequest request;
  request.set_name(name);
  v3electionpb::LeaderResponse response;
  grpc::Status last;
  none = false;
  bool ok = impl_->run_lease(
      [&](impl::member& m, grpc::ClientContext& context) {
        response.Clear();
        last = m.election->Leader(&context, request, &response);
        return last;
      },
      error);
  if (!ok && last.error_message().find("no leader") != std::string::npos &&
      last.error_code() != grpc::StatusCode::UNAVAILABLE) {
    none = true;
    error.clear();
    return true;
  }
  if (ok)
    copy_kv(response.kv(), out);
  return ok;
}

bool client::resign(const leader_key& key, std::string& error) {
  v3electionpb::ResignRequest request;
  auto* leader = request.mutable_leader();
  leader->set_name(key.name);
  leader->set_key(key.key);
  leader->set_rev(key.revision);
  leader->set_lease(key.lease);
  v3electionpb::ResignResponse response;
  return impl_->run_lease(
      [&](impl::member& m, grpc::ClientContext& context) {
        return m.election->Resign(&context, request, &response);
      },
      error);
}

bool client::watch(const std::string& key, const std::string& range_end,
                   std::int64_t start_revision, const std::atomic<bool>& cancel,
                   const std::function<void(const std::vector<key_value>&,
                                            std::int64_t)>& on_events,
                   std::string& error, std::chrono::milliseconds progress_every,
                   std::int64_t* compacted) {
  auto& m = impl_->members[impl_->current.load(std::memory_order_relaxed)];
  grpc::ClientContext context;
  auto stream = m.watch->Watch(&context);
  etcdserverpb::WatchRequest request;
  auto* create = request.mutable_create_request();
  create->set_key(key);
  create->set_range_end(range_end);
  create->set_start_revision(start_revision);
  if (!stream->Write(request)) {
    auto status = stream->Finish();
    error = "etcd: watch: " + describe(status);
    return false;
  }
  // The stream's reads block: a watcher cancels it once `cancel` is set,
  // and asks for progress (the only other writer: Write is not called
  // twice at once, and not after `done`).
  std::mutex done_mutex;
  std::condition_variable done_signal;
  bool done = false;
  std::thread watcher([&] {
    etcdserverpb::WatchRequest progress;
    progress.mutable_progress_request();
    auto next = std::chrono::steady_clock::now() + progress_every;
    std::unique_lock<std::mutex> lock(done_mutex);
    while (!done && !cancel.load()) {
      done_signal.wait_for(lock, std::chrono::milliseconds(100));
      if (done || cancel.load() || progress_every.count() <= 0 ||
          std::chrono::steady_clock::now() < next)
        continue;
      next = std::chrono::steady_clock::now() + progress_every;
      stream->Write(progress);
    }
    if (!done)
      context.TryCancel();
  });
  auto stop_watcher = [&] {
    {
      std::lock_guard<std::mutex> lock(done_mutex);
      done = true;
    }
    done_signal.notify_all();
    watcher.join();
  };
  etcdserverpb::WatchResponse response;
  std::vector<key_value> events;
  while (stream->Read(&response)) {
    if (response.canceled() || response.compact_revision() != 0) {
      error = "etcd: watch cancelled: " + response.cancel_reason();
      if (response.compact_revision() != 0) {
        error = "etcd: watch: revision " + std::to_string(start_revision) +
                " compacted (the oldest kept is " +
                std::to_string(response.compact_revision()) + ")";
        if (compacted)
          *compacted = response.compact_revision();
      }
      context.TryCancel();
      stop_watcher();
      stream->Finish();
      return false;
    }
    if (response.created())
      continue; // Says nothing of how far the watch has come.
    events.clear();
    std::int64_t reached = 0;
    for (const auto& event : response.events()) {
      events.emplace_back();
      copy_kv(event.kv(), events.back());
      if (event.type() == mvccpb::Event::DELETE) {
        events.back().value.clear();
        events.back().create_revision = 0;
      }
      reached = std::max(reached, event.kv().mod_revision());
    }
    // Without events: a progress notice, sent only once every change up to
    // its revision was delivered. With events, the header may name a
    // revision beyond them (a watch catching up in parts).
    if (events.empty())
      reached = response.header().revision();
    on_events(events, reached);
  }
  stop_watcher();
  auto status = stream->Finish();
  if (cancel.load())
    return true;
  error = "etcd: watch: " + describe(status);
  return false;
}

} // namespace dm::etcd
