// FleetLock requests and failures (docs/protocol.md, "FleetLock").
#include "fleetlock/fleetlock.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "model/machine_record.hpp"

namespace dm {

namespace {

// Ids and groups become names of machines and groups (with the prefix),
// which have a size limit of their own (frontend/call_builder.hpp).
constexpr std::size_t max_client_text_bytes = 1000;

// Zincati's body is about 100 bytes.
constexpr std::size_t max_body_bytes = 64 * 1024;

fleetlock_failure bad(std::string value) {
  return {400, fleetlock_kind::bad_request, std::move(value)};
}

bool group_name_ok(const std::string& group) {
  if (group.empty())
    return false;
  for (char c : group)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '-'))
      return false;
  return true;
}

} // namespace

std::string_view fleetlock_method(fleetlock_operation op) {
  return op == fleetlock_operation::recursive_lock ? "FleetLock.RecursiveLock"
                                                   : "FleetLock.UnlockIfHeld";
}

std::optional<fleetlock_operation>
fleetlock_route(const fleetlock_settings& settings, std::string_view path) {
  if (path.substr(0, settings.base_path.size()) != settings.base_path)
    return std::nullopt;
  path.remove_prefix(settings.base_path.size());
  if (path == "/v1/pre-reboot")
    return fleetlock_operation::recursive_lock;
  if (path == "/v1/steady-state")
    return fleetlock_operation::unlock_if_held;
  return std::nullopt;
}

std::variant<fleetlock_client, fleetlock_failure>
read_fleetlock_request(const http_request& request) {
  if (request.method != "POST")
    return fleetlock_failure{405, fleetlock_kind::method_not_allowed,
                             "FleetLock operations are POST requests"};
  const auto* header = request.header("fleet-lock-protocol");
  if (!header || trim_http_space(*header) != "true")
    return bad("the header fleet-lock-protocol: true is required");
  if (request.body.size() > max_body_bytes)
    return bad("the body is longer than " + std::to_string(max_body_bytes) +
               " bytes");
  auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return bad("the body is not a JSON object");
  auto params = body.find("client_params");
  if (params == body.end() || !params->is_object())
    return bad("client_params (an object) is required");
  fleetlock_client client;
  auto id = params->find("id");
  if (id == params->end() || !id->is_string() ||
      id->get_ref<const std::string&>().empty())
    return bad("client_params.id (a non-empty string) is required");
  client.id = id->get<std::string>();
  if (client.id.size() > max_client_text_bytes)
    return bad("client_params.id is longer than " +
               std::to_string(max_client_text_bytes) + " bytes");
  if (auto error = control_character_error(client.id); !error.empty())
    return bad("client_params.id contains " + error);
  auto group = params->find("group");
  if (group == params->end() || !group->is_string())
    return fleetlock_failure{400, fleetlock_kind::bad_group,
                             "client_params.group (a string) is required"};
  client.group = group->get<std::string>();
  if (client.group.size() > max_client_text_bytes ||
      !group_name_ok(client.group))
    return fleetlock_failure{
        400, fleetlock_kind::bad_group,
        "client_params.group must match ^[a-zA-Z0-9.-]+$ (at most " +
            std::to_string(max_client_text_bytes) + " bytes)"};
  return client;
}

std::string fleetlock_failure_body(const fleetlock_failure& failure) {
  nlohmann::json body = {{"kind", failure.kind}, {"value", failure.value}};
  return body.dump() + "\n";
}

caller fleetlock_caller(const fleetlock_settings& settings,
                        fleetlock_operation op, const std::string& peer,
                        const peer_identity* identity) {
  caller who;
  who.peer_address = peer;
  who.self_only = false;
  if (identity && identity->verified &&
      identity->has_method_power(std::string(fleetlock_method(op)))) {
    who.allowed = true;
    return who;
  }
  if (any_network_contains(settings.allowed_networks, peer)) {
    who.allowed = true;
    return who;
  }
  who.refused_reason =
      settings.allowed_networks.empty()
          ? peer +
                " may not use FleetLock: no client network is allowed "
                "(-fleetLockAllowedNetworks) and it has no certificate "
                "with power over " +
                std::string(fleetlock_method(op))
          : peer +
                " may not use FleetLock: not in -fleetLockAllowedNetworks "
                "and no certificate with power over " +
                std::string(fleetlock_method(op));
  return who;
}

machine_record fleetlock_record(const fleetlock_client& client,
                                const fleetlock_settings& settings) {
  machine_record m;
  m.hostname = client.id;
  m.tags["DisruptionManagerGroupIdentifier"] = client.group;
  m.tags["DisruptionManagerGroupMaximumDisrupting"] =
      std::to_string(settings.default_limit);
  if (!settings.ready_timeout.empty())
    m.tags["DisruptionManagerReadyTimeout"] = settings.ready_timeout;
  if (!settings.ready_url.empty())
    m.tags["DisruptionManagerReadyUrl"] = settings.ready_url;
  m.tags["FleetLockId"] = client.id;
  m.tags["FleetLockGroup"] = client.group;
  return m;
}

entry_namespace fleetlock_namespace() {
  entry_namespace where;
  where.host_prefix = std::string(fleetlock_prefix);
  where.group_prefix = std::string(fleetlock_prefix);
  where.wants_queue_position = true;
  return where;
}

request_kind fleetlock_kind_of(fleetlock_operation op) {
  return op == fleetlock_operation::recursive_lock ? request_kind::request
                                                   : request_kind::cancel;
}

fleetlock_failure fleetlock_queued(const fleetlock_client& client,
                                   std::uint64_t position,
                                   std::uint64_t length) {
  return {409, fleetlock_kind::semaphore_full,
          "all slots of group " + client.group + " are taken; " + client.id +
              " is queued at position " + std::to_string(position) + " of " +
              std::to_string(length) +
              " and gets a slot in turn: keep asking to hold the place"};
}

} // namespace dm
