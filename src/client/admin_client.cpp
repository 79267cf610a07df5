// The admin program: flags, the operation and its arguments, one HTTP(S)
// exchange, and the mapping of every outcome to an exit status.
#include "client/admin_client.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <exception>
#include <optional>
#include <vector>

#include "client/disruption_client.hpp"
#include "client/http_post.hpp"
#include "client/server_url.hpp"
#include "config/flag_set.hpp"

namespace dm {

namespace {

constexpr const char* program = "disruption-manager-admin";

struct operation_spec {
  const char* name;
  const char* args; // for the help text
  std::size_t arg_count;
  const char* help;
};

const operation_spec operations[] = {
    {"status", "", 0,
     "groups with their limit (and where it comes from), holders, the queue "
     "in order with waiting times, pauses, the freeze, the last admin "
     "actions"},
    {"release", " HOST", 1,
     "drop HOST's permit or request now; the ready gate of its record still "
     "holds the freed slot unless -skipReadyGate"},
    {"pause", " GROUP", 1, "no new permits in GROUP (requests queue in order)"},
    {"resume", " GROUP", 1, "GROUP grants again, its queue first"},
    {"freeze", "", 0, "no new permits in any group"},
    {"thaw", "", 0, "end the freeze (paused groups stay paused)"},
    {"limit", " GROUP N|clear", 2,
     "GROUP's limit is N (1 to 1000000) instead of its records' tag, until "
     "cleared"},
    {"window", " GROUP SPEC|clear", 2,
     "GROUP grants only inside these maintenance windows, instead of its "
     "records' tag, until cleared; SPEC as one argument, such as "
     "'Mon-Fri 01:00-05:00 Europe/Berlin; Sat 22:00-02:00 UTC'"},
};

std::string help_text(const flag_set& flags, const std::string& config_dir) {
  std::string text = std::string("Usage: ") + program +
                     " [flags] OPERATION [ARGS]\n\nOperations:\n";
  for (const auto& op : operations) {
    std::string head = std::string("  ") + op.name + op.args;
    text += head;
    text += std::string(head.size() < 22 ? 22 - head.size() : 1, ' ');
    text += op.help;
    text += "\n";
  }
  text +=
      "\nEach change is recorded with who made it (the certificate's user "
      "or, on a\nserver without TLS, the caller's address) and -reason. "
      "The server must be\nreached over https:// with a certificate whose "
      "method powers cover\nDisruptionManager.Admin; a server without TLS "
      "takes admin operations from its\nown host only.\n\nExit status: 0 "
      "done; 2 bad usage or configuration; 3 server unreachable\n"
      "(connection, TLS handshake, timeout); 4 refused (no power); 5 the "
      "input was\nrejected (unknown host, bad group, limit or window); 6 the "
      "server failed; 7 an\ninternal error. -h also exits with 2.\n\n"
      "Flags are read from " +
      config_dir + "/flags.default\nand " + config_dir +
      "/flags.extra (name=value per line)\nbefore the command line.\n\n" +
      flags.usage();
  return text;
}

struct run_failure {
  admin_exit code;
  std::string reason;
};

// The request body of the operation and its arguments.
std::optional<nlohmann::json> body_for(const std::string& op,
                                       const std::vector<std::string>& args,
                                       bool skip_gate, std::string& error) {
  nlohmann::json body = nlohmann::json::object();
  if (op == "release") {
    body["Host"] = args[0];
    if (skip_gate)
      body["SkipReadyGate"] = true;
  } else if (op == "pause" || op == "resume" || op == "limit" ||
             op == "window") {
    body["Group"] = args[0];
  }
  if (op == "window") // (the server reads the spec and names what is wrong)
    body["Window"] = args[1];
  if (op == "limit") {
    const auto& n = args[1];
    if (n == "clear") {
      body["Limit"] = "clear";
    } else {
      std::uint64_t value = 0;
      bool digits = !n.empty() && n.size() <= 19;
      for (char c : n)
        digits = digits && c >= '0' && c <= '9';
      if (!digits) {
        error = "limit takes a whole number or \"clear\", not \"" +
                one_line(n, 60) + "\"";
        return std::nullopt;
      }
      value = std::stoull(n);
      body["Limit"] = value;
    }
  }
  return body;
}

} // namespace

int run_admin_client(int argc, const char* const* argv,
                     const std::string& config_dir, std::ostream& out,
                     std::ostream& err) {
  auto fail = [&](admin_exit code, const std::string& reason) {
    err << program << ": " << reason << "\n";
    return static_cast<int>(code);
  };
  try {
    client_options options;
    options.url = "http://localhost:6979/";
    std::string reason;
    bool skip_gate = false;
    flag_set flags(program);
    flags.add_string("disruptionManagerUrl", &options.url,
                     "Base URL of the Disruption Manager: http://host:6979/ "
                     "or https://host:6979/");
    flags.add_string("certFile", &options.cert_file,
                     "Client certificate (PEM) for TLS; its method powers "
                     "must cover DisruptionManager.Admin");
    flags.add_string("keyFile", &options.key_file, "Key (PEM) of -certFile");
    flags.add_string("CAfile", &options.ca_file,
                     "CA certificate(s) (PEM) to verify the server's "
                     "certificate with");
    flags.add_string("reason", &reason,
                     "Why: kept with the action in the audit trail");
    flags.add_bool("skipReadyGate", &skip_gate,
                   "release: free the slot at once, without the ready gate "
                   "(and end a ready wait the machine has)");
    flags.add_duration("timeout", &options.timeout,
                       "Time limit for the exchange with the server");
    std::string error;
    if (!flags.load_files(config_dir, error))
      return fail(admin_exit::usage, one_line(error));
    if (!flags.parse(argc, argv, error))
      return fail(admin_exit::usage, one_line(error) + " (-h for help)");
    if (flags.help_requested()) {
      err << help_text(flags, config_dir);
      return static_cast<int>(admin_exit::usage);
    }
    const auto& args = flags.args();
    if (args.empty())
      return fail(admin_exit::usage, "missing operation (-h lists them)");
    const operation_spec* spec = nullptr;
    for (const auto& op : operations)
      if (args[0] == op.name)
        spec = &op;
    if (spec == nullptr)
      return fail(admin_exit::usage, "unknown operation \"" +
                                         one_line(args[0], 60) +
                                         "\" (-h lists them)");
    std::vector<std::string> op_args(args.begin() + 1, args.end());
    if (op_args.size() != spec->arg_count)
      return fail(admin_exit::usage,
                  std::string(spec->name) + " takes" +
                      (spec->arg_count == 0 ? " no arguments"
                                            : std::string(spec->args)) +
                      " (flags go before the operation)");
    if (skip_gate && std::string(spec->name) != "release")
      return fail(admin_exit::usage, "-skipReadyGate is for release only");
    auto body = body_for(spec->name, op_args, skip_gate, error);
    if (!body)
      return fail(admin_exit::usage, error);
    if (!reason.empty())
      (*body)["Reason"] = reason;

    auto url = parse_server_url(options.url, error);
    if (!url)
      return fail(admin_exit::usage, "invalid -disruptionManagerUrl \"" +
                                         one_line(options.url, 120) +
                                         "\": " + error);
    if (url->scheme != url_scheme::http && url->scheme != url_scheme::https)
      return fail(admin_exit::usage,
                  "-disruptionManagerUrl must be http:// or https:// (admin "
                  "operations speak HTTP)");
    if (options.timeout.count() <= 0)
      return fail(admin_exit::usage, "-timeout must be positive");
    std::shared_ptr<const tls_context> tls;
    if (url->scheme == url_scheme::https) {
      auto context = make_client_tls(options, error);
      if (!context)
        return fail(admin_exit::usage, error);
      tls = std::move(*context);
    }
    // The URL is the service's base; without a path of its own the
    // parser fills in the REST call's.
    std::string base = url->path == "/api/v1/request" ? "" : url->path;
    auto query = base.find('?');
    if (query != std::string::npos)
      base.erase(query);
    while (!base.empty() && base.back() == '/')
      base.pop_back();
    http_post_request request;
    request.host = url->host;
    request.port = url->port;
    request.host_header = host_and_port(*url);
    request.path = base + "/api/v1/admin/" + spec->name;
    request.tls = std::move(tls);
    request.timeout = std::chrono::ceil<std::chrono::milliseconds>(
        std::min<std::chrono::nanoseconds>(options.timeout,
                                           std::chrono::hours(24 * 365)));
    request.user_agent = std::string(program) + "/" + DM_VERSION;
    if (std::string(spec->name) == "status") {
      request.method = "GET";
    } else {
      request.body = body->dump();
    }
    http_failure why = http_failure::transport;
    auto answer = http_post(request, error, why);
    if (!answer)
      return fail(why == http_failure::transport ? admin_exit::transport
                                                 : admin_exit::server_error,
                  one_line(error));
    if (answer->status != 200) {
      auto code = answer->status == 401 || answer->status == 403
                      ? admin_exit::refused
                  : answer->status >= 400 && answer->status < 500
                      ? admin_exit::rejected
                      : admin_exit::server_error;
      auto text = one_line(answer->body);
      return fail(code, "server answered " + std::to_string(answer->status) +
                            (text.empty() ? "" : ": " + text));
    }
    auto parsed = nlohmann::json::parse(answer->body, nullptr, false);
    if (!parsed.is_object())
      return fail(admin_exit::server_error,
                  "unexpected answer from the server: " +
                      one_line(answer->body, 120));
    if (std::string(spec->name) == "status") {
      out << answer->body;
      if (!answer->body.empty() && answer->body.back() != '\n')
        out << "\n";
    } else {
      out << spec->name;
      for (const auto& a : op_args)
        out << " " << a;
      out << ": done";
      if (parsed.contains("Detail") && parsed["Detail"].is_string())
        out << " (" << parsed["Detail"].get<std::string>() << ")";
      out << "\n";
    }
    return static_cast<int>(admin_exit::done);
  } catch (const std::exception& e) {
    return fail(admin_exit::internal,
                std::string("internal error: ") + one_line(e.what()));
  } catch (...) {
    return fail(admin_exit::internal, "internal error");
  }
}

} // namespace dm
