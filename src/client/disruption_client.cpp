// The client program's logic: flags, the record, one REST or SRPC call, and
// the mapping of every outcome to an exit code and a one-line reason.
#include "client/disruption_client.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <unistd.h>

#include <exception>
#include <memory>

#include <nlohmann/json.hpp>

#include "client/http_post.hpp"
#include "client/server_url.hpp"
#include "codec/machine_json.hpp"
#include "codec/srpc_json.hpp"
#include "config/flag_set.hpp"
#include "files/file_io.hpp"
#include "srpc/srpc_client.hpp"
#include "tls/tls_context.hpp"

namespace dm {

namespace {

constexpr const char* program = "disruption-manager-client";

client_result failure(client_exit code, std::string error) {
  client_result result;
  result.code = code;
  result.error = std::move(error);
  return result;
}

client_result success(disruption_state state) {
  client_result result;
  result.code = exit_for_state(state);
  result.state = state;
  return result;
}

// The texts srpc_client gives when the connection itself failed, as
// opposed to an error line or an unreadable value from the server.
bool is_transport_error(const std::string& error) {
  for (const char* prefix : {"lookup ", "cannot bind", "connect to", "send:",
                             "recv:", "timed out", "connection closed", "TLS:"})
    if (error.rfind(prefix, 0) == 0)
      return true;
  return false;
}

client_result call_rest(const server_url& url, const client_options& options,
                        std::shared_ptr<const tls_context> tls,
                        std::chrono::milliseconds timeout, request_kind kind,
                        const machine_record& machine) {
  http_post_request request;
  request.host = url.host;
  request.port = url.port;
  request.path = url.path;
  request.host_header = host_and_port(url);
  request.source_address = options.source_address;
  request.tls = std::move(tls);
  request.timeout = timeout;
  request.body = encode_json_request(machine, kind);
  request.user_agent = std::string(program) + "/" + DM_VERSION;
  std::string error;
  http_failure why = http_failure::transport;
  auto answer = http_post(request, error, why);
  if (!answer)
    return failure(why == http_failure::transport ? client_exit::transport
                                                  : client_exit::server_error,
                   one_line(error));
  if (answer->status != 200) {
    auto text = one_line(answer->body);
    return failure(client_exit::server_error,
                   "server answered " + std::to_string(answer->status) +
                       (answer->reason.empty() ? "" : " " + answer->reason) +
                       (text.empty() ? "" : ": " + text));
  }
  auto body = nlohmann::json::parse(answer->body, nullptr, false);
  std::optional<disruption_state> state;
  // A state is written by its name only (the original's JSON reader
  // refuses numbers), so nothing else can read as a permit.
  if (body.is_object() && body.contains("Response")) {
    const auto& response = body["Response"];
    if (response.is_string())
      state = parse_disruption_state(response.get<std::string>());
  }
  if (!state)
    return failure(client_exit::server_error,
                   "unexpected answer from the server: " +
                       one_line(answer->body, 120));
  return success(*state);
}

client_result call_srpc(const server_url& url, const client_options& options,
                        std::shared_ptr<const tls_context> tls,
                        std::chrono::milliseconds timeout, request_kind kind,
                        const machine_record& machine) {
  srpc_client_options srpc;
  srpc.host = url.host;
  srpc.port = url.port;
  srpc.source_address = options.source_address;
  srpc.coder =
      url.scheme == url_scheme::srpc_json ? srpc_coder::json : srpc_coder::gob;
  srpc.tls = std::move(tls);
  srpc.timeout = timeout;
  srpc.deadline = std::chrono::steady_clock::now() + timeout;
  auto where = host_and_port(url);
  auto classify = [&](const std::string& step, const std::string& error) {
    // Connection and lookup failures already name the server.
    bool names_server =
        error.rfind("connect to ", 0) == 0 || error.rfind("lookup ", 0) == 0;
    return failure(is_transport_error(error) ? client_exit::transport
                                             : client_exit::server_error,
                   (names_server ? "" : step + " " + where + ": ") +
                       one_line(error));
  };
  std::string error;
  auto client = srpc_client::connect(srpc, error);
  if (!client)
    return classify("SRPC connection to", error);
  disruption_state state = disruption_state::anytime;
  std::string response_error;
  if (!client->call(kind, machine, state, response_error, error))
    return classify("SRPC call to", error);
  if (!response_error.empty())
    return failure(client_exit::server_error,
                   "server answered an error: " + one_line(response_error));
  return success(state);
}

bool valid_address(const std::string& text) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

std::string help_text(const flag_set& flags, const std::string& config_dir) {
  return std::string("Usage: ") + program +
         " [flags] check|request|cancel\n"
         "\n"
         "Asks the Disruption Manager whether this machine may be "
         "disrupted now, sending\nits MDB record. Exit status: 0 "
         "permitted, 1 requested (queued), 2 denied;\non errors, with a "
         "one-line reason on stderr: 3 bad usage or configuration,\n"
         "4 record file unreadable or invalid, 5 server unreachable "
         "(connection, TLS\nhandshake, timeout), 6 the server answered an "
         "error, 7 an internal error.\n-h also exits with 3, so that no "
         "caller takes it for a permit.\n"
         "\n"
         "TLS: https:// always uses it; srpc:// and srpc+json:// use it "
         "when -certFile is\ngiven (SRPC over TLS needs a client "
         "certificate). The server's certificate is\nverified against "
         "-CAfile; TLS without -CAfile is refused unless\n"
         "-insecureSkipVerify is given.\n"
         "\n"
         "Flags are read from " +
         config_dir + "/flags.default\nand " + config_dir +
         "/flags.extra (name=value per line)\nbefore the command line.\n\n" +
         flags.usage();
}

} // namespace

// Server texts may span lines; the caller's log wants one.
std::string one_line(std::string_view text, std::size_t limit) {
  std::string out;
  for (char c : text) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    bool space = c == '\n' || c == '\r' || c == '\t';
    if (space) {
      if (!out.empty() && out.back() != ' ')
        out += ' ';
    } else if (static_cast<unsigned char>(c) >= ' ') {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

std::optional<std::shared_ptr<const tls_context>>
make_client_tls(const client_options& options, std::string& error) {
  client_tls_options tls;
  tls.cert_file = options.cert_file;
  tls.key_file = options.key_file;
  if (!options.ca_file.empty()) {
    tls.check = server_check::verify_with_ca;
    tls.ca_file = options.ca_file;
  } else if (options.insecure_skip_verify) {
    tls.check = server_check::insecure_skip_verify;
  } else {
    error = "TLS needs -CAfile to verify the server (or "
            "-insecureSkipVerify to skip verifying it)";
    return std::nullopt;
  }
  auto context = tls_context::make_client(tls, error);
  if (!context) {
    error = "TLS: " + one_line(error);
    return std::nullopt;
  }
  return std::make_shared<const tls_context>(std::move(*context));
}

client_exit exit_for_state(disruption_state state) {
  switch (state) {
  case disruption_state::anytime:
  case disruption_state::permitted:
    return client_exit::permitted;
  case disruption_state::requested:
    return client_exit::requested;
  case disruption_state::denied:
    return client_exit::denied;
  }
  return client_exit::server_error;
}

std::string local_fqdn() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
    return "localhost";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_CANONNAME;
  addrinfo* found = nullptr;
  std::string result = name;
  if (::getaddrinfo(name, nullptr, &hints, &found) == 0) {
    if (found != nullptr && found->ai_canonname != nullptr &&
        found->ai_canonname[0] != '\0')
      result = found->ai_canonname;
    ::freeaddrinfo(found);
  }
  return result;
}

std::optional<machine_record> load_machine_record(const std::string& mdb_file,
                                                  std::string& error) {
  if (mdb_file.empty()) {
    machine_record machine;
    machine.hostname = local_fqdn();
    return machine;
  }
  // At most 16 MiB (a record is a few KiB); a pipe (/dev/stdin) will do.
  std::string text;
  if (read_whole_file(mdb_file, 16 << 20, text, error,
                      file_kinds::streams_too) != read_status::ok) {
    error = "cannot read record file " + mdb_file + ": " + error;
    return std::nullopt;
  }
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at ..." reads better
    // without its tag.
    auto tag_end = what.find("] ");
    if (what.rfind("[json.exception.", 0) == 0 && tag_end != std::string::npos)
      what.erase(0, tag_end + 2);
    error = "record file " + mdb_file + " is not valid JSON: " + one_line(what);
    return std::nullopt;
  }
  if (!value.is_object()) {
    error = "record file " + mdb_file +
            ": expected a JSON object (one machine record)";
    return std::nullopt;
  }
  std::string why;
  auto machine = machine_from_json(value, why);
  if (!machine) {
    error = "record file " + mdb_file + ": " + one_line(why);
    return std::nullopt;
  }
  if (machine->hostname.empty())
    machine->hostname = local_fqdn();
  return machine;
}

client_result ask_disruption_manager(const client_options& options,
                                     request_kind kind,
                                     const machine_record& machine) {
  std::string error;
  auto url = parse_server_url(options.url, error);
  if (!url)
    return failure(client_exit::usage, "invalid -disruptionManagerUrl \"" +
                                           one_line(options.url, 120) +
                                           "\": " + error);
  if (options.timeout.count() <= 0)
    return failure(client_exit::usage, "-timeout must be positive");
  // Beyond a year is as good as no limit, and keeps deadlines in range.
  auto timeout = std::chrono::ceil<std::chrono::milliseconds>(
      std::min<std::chrono::nanoseconds>(options.timeout,
                                         std::chrono::hours(24 * 365)));
  if (!options.source_address.empty() && !valid_address(options.source_address))
    return failure(client_exit::usage,
                   "invalid -sourceAddress \"" +
                       one_line(options.source_address, 60) +
                       "\": not an IP address");
  bool use_tls = url->scheme == url_scheme::https ||
                 (is_srpc(url->scheme) && !options.cert_file.empty());
  std::shared_ptr<const tls_context> tls;
  if (use_tls) {
    auto context = make_client_tls(options, error);
    if (!context)
      return failure(client_exit::usage, error);
    tls = std::move(*context);
  }
  if (is_srpc(url->scheme))
    return call_srpc(*url, options, std::move(tls), timeout, kind, machine);
  return call_rest(*url, options, std::move(tls), timeout, kind, machine);
}

int run_disruption_client(int argc, const char* const* argv,
                          const std::string& config_dir, std::ostream& out,
                          std::ostream& err) {
  auto fail = [&](client_exit code, const std::string& reason) {
    err << program << ": " << reason << "\n";
    return to_int(code);
  };
  try {
    client_options options;
    flag_set flags(program);
    flags.add_string("disruptionManagerUrl", &options.url,
                     "URL of the Disruption Manager: http://host:6979/api/v1/"
                     "request, https://..., srpc://host:6979 (gob) or "
                     "srpc+json://host:6979");
    flags.add_string("mdbFile", &options.mdb_file,
                     "File with this machine's MDB record as JSON (mdb.Machine "
                     "field names); without it the record is just this "
                     "host's fully qualified Hostname");
    flags.add_string("certFile", &options.cert_file,
                     "Client certificate (PEM) for TLS; with srpc:// it "
                     "selects SRPC over TLS");
    flags.add_string("keyFile", &options.key_file, "Key (PEM) of -certFile");
    flags.add_string("CAfile", &options.ca_file,
                     "CA certificate(s) (PEM) to verify the server's "
                     "certificate with");
    flags.add_bool("insecureSkipVerify", &options.insecure_skip_verify,
                   "If true, use TLS without verifying the server's "
                   "certificate (when there is no -CAfile)");
    flags.add_duration("timeout", &options.timeout,
                       "Time limit for the exchange with the server");
    flags.add_string("sourceAddress", &options.source_address,
                     "Local IP address to connect from (multi-homed hosts)");

    std::string error;
    if (!flags.load_files(config_dir, error))
      return fail(client_exit::usage, one_line(error));
    if (!flags.parse(argc, argv, error))
      return fail(client_exit::usage, one_line(error) + " (-h for help)");
    if (flags.help_requested()) {
      err << help_text(flags, config_dir);
      return to_int(client_exit::usage);
    }
    const auto& args = flags.args();
    if (args.empty())
      return fail(client_exit::usage,
                  "missing operation: check, request or cancel (-h for help)");
    if (args.size() > 1)
      return fail(client_exit::usage,
                  "unexpected argument \"" + one_line(args[1], 60) +
                      "\" after the operation (flags go first)");
    auto kind = parse_request_kind(args.front());
    if (!kind)
      return fail(client_exit::usage,
                  "unknown operation \"" + one_line(args.front(), 60) +
                      "\": expected check, request or cancel");
    auto machine = load_machine_record(options.mdb_file, error);
    if (!machine)
      return fail(client_exit::record, error);
    auto result = ask_disruption_manager(options, *kind, *machine);
    if (to_int(result.code) >= to_int(client_exit::usage))
      return fail(result.code, result.error);
    out << to_string(result.state) << "\n";
    return to_int(result.code);
  } catch (const std::exception& e) {
    return fail(client_exit::internal,
                std::string("internal error: ") + one_line(e.what()));
  } catch (...) {
    return fail(client_exit::internal, "internal error");
  }
}

} // namespace dm
