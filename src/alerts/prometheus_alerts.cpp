// Reading Prometheus's alerts API and deciding what it blocks.
#include "alerts/prometheus_alerts.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "disruption/group_rules.hpp"

namespace dm {

namespace {

using json = nlohmann::json;

std::string where(const blocking_alert& a) {
  return a.group ? group_text(*a.group) : std::string("every group");
}

} // namespace

std::optional<std::vector<firing_alert>>
parse_alerts_answer(std::string_view body, std::string& error) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) {
    error = "not JSON";
    return std::nullopt;
  }
  if (!doc.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  auto status = doc.find("status");
  if (status == doc.end() || !status->is_string()) {
    error = "no \"status\"";
    return std::nullopt;
  }
  if (*status != "success") {
    auto text = doc.find("error");
    error = "status \"" + status->get<std::string>() + "\"" +
            (text != doc.end() && text->is_string()
                 ? ": " + text->get<std::string>()
                 : std::string());
    return std::nullopt;
  }
  auto data = doc.find("data");
  if (data == doc.end() || !data->is_object() || !data->contains("alerts") ||
      !(*data)["alerts"].is_array()) {
    error = "no \"data.alerts\" list";
    return std::nullopt;
  }
  std::vector<firing_alert> firing;
  for (const auto& alert : (*data)["alerts"]) {
    if (!alert.is_object()) {
      error = "an alert that is not an object";
      return std::nullopt;
    }
    auto state = alert.find("state");
    auto labels = alert.find("labels");
    if (state == alert.end() || !state->is_string() || labels == alert.end() ||
        !labels->is_object()) {
      error = "an alert without \"state\" or \"labels\"";
      return std::nullopt;
    }
    auto name = labels->find("alertname");
    if (name == labels->end() || !name->is_string()) {
      error = "an alert without a \"labels.alertname\"";
      return std::nullopt;
    }
    if (*state != "firing")
      continue; // pending (or inactive): not yet an alert
    firing_alert a;
    a.name = name->get<std::string>();
    auto group = labels->find(std::string(alert_group_label));
    if (group != labels->end()) {
      if (!group->is_string()) {
        error = "an alert whose \"" + std::string(alert_group_label) +
                "\" is not a string";
        return std::nullopt;
      }
      a.group = group->get<std::string>();
    }
    firing.push_back(std::move(a));
  }
  return firing;
}

std::optional<alert_name_match>
alert_name_match::compile(const std::string& pattern, std::string& error) {
  try {
    return alert_name_match(pattern,
                            std::regex(pattern, std::regex::ECMAScript));
  } catch (const std::regex_error& e) {
    error = e.what();
    return std::nullopt;
  }
}

bool alert_name_match::matches(const std::string& name) const {
  return std::regex_match(name, regex_);
}

alert_blocking blocking_from(const std::vector<firing_alert>& firing,
                             const alert_name_match& match) {
  alert_blocking blocking;
  for (const auto& a : firing)
    if (match.matches(a.name))
      blocking.alerts.push_back({a.name, a.group});
  auto& alerts = blocking.alerts;
  std::sort(alerts.begin(), alerts.end());
  alerts.erase(std::unique(alerts.begin(), alerts.end()), alerts.end());
  return blocking;
}

alert_blocking blocking_unavailable(std::string why,
                                    bool block_when_unavailable) {
  alert_blocking blocking;
  blocking.trouble = std::move(why);
  blocking.trouble_blocks = block_when_unavailable;
  return blocking;
}

alert_blocking blocking_from_answer(int status, std::string_view body,
                                    const alert_name_match& match,
                                    bool block_when_unavailable) {
  if (status != 200)
    return blocking_unavailable("answered status " + std::to_string(status),
                                block_when_unavailable);
  std::string error;
  auto firing = parse_alerts_answer(body, error);
  if (!firing)
    return blocking_unavailable("not an alerts answer: " + error,
                                block_when_unavailable);
  return blocking_from(*firing, match);
}

std::string alerts_api_url(std::string base) {
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base + "/api/v1/alerts";
}

std::vector<std::string> blocking_changes(const alert_blocking& before,
                                          const alert_blocking& after) {
  std::vector<std::string> lines;
  if (after.trouble != before.trouble ||
      after.trouble_blocks != before.trouble_blocks) {
    if (after.trouble.empty())
      lines.push_back("Prometheus answers again");
    else
      lines.push_back(
          "Prometheus gives no usable answer (" + after.trouble + "): " +
          (after.trouble_blocks ? "every group is blocked until it does"
                                : "ignored, alerts block nothing meanwhile"));
  }
  for (const auto& a : after.alerts)
    if (!std::binary_search(before.alerts.begin(), before.alerts.end(), a))
      lines.push_back("blocking started: alert " + a.alert + " fires; " +
                      where(a) + " grants nothing new");
  for (const auto& a : before.alerts)
    if (!std::binary_search(after.alerts.begin(), after.alerts.end(), a))
      lines.push_back("blocking ended: alert " + a.alert + " no longer " +
                      (after.trouble.empty() ? "fires" : "known to fire") +
                      "; " + where(a) + " no longer held back by it");
  return lines;
}

} // namespace dm
