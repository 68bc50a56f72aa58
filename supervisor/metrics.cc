#include "supervisor/metrics.h"

#include <map>
#include <sstream>
#include <vector>

namespace supervisor {
namespace {

// A label value with the three characters the format escapes.
std::string escaped(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

uint64_t number(const nlohmann::json& value) { return value.is_number_unsigned() ? value.get<uint64_t>() : 0; }

// One metric family: its HELP and TYPE lines, then every sample.
class Family {
 public:
  Family(std::string name, std::string type, std::string help)
      : name_(std::move(name)), type_(std::move(type)), help_(std::move(help)) {}

  void add(const std::string& labels, uint64_t value) {
    samples_.push_back(name_ + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(value));
  }

  void write(std::ostringstream& out) const {
    out << "# HELP " << name_ << " " << help_ << "\n# TYPE " << name_ << " " << type_ << "\n";
    for (const auto& sample : samples_) out << sample << "\n";
  }

 private:
  std::string name_;
  std::string type_;
  std::string help_;
  std::vector<std::string> samples_;
};

}  // namespace

std::string render_metrics(const nlohmann::json& status, std::optional<uint64_t> store_keys) {
  const auto& broker = status.value("broker", nlohmann::json::object());
  Family up("portbroker_up", "gauge", "1 while the broker answers.");
  Family uptime("portbroker_uptime_seconds", "gauge", "Seconds since the broker started.");
  Family tracked("portbroker_connections_tracked", "gauge", "TCP connections the supervisor holds, all handlers.");
  Family handlers("portbroker_handlers", "gauge", "Handlers by state.");
  Family active("portbroker_handler_active", "gauge", "1 if the handler serves.");
  Family connections("portbroker_connections_active", "gauge", "Open connections per handler.");
  Family accepted("portbroker_connections_accepted_total", "counter", "Connections accepted by the supervisor.");
  Family refused("portbroker_connections_refused_total", "counter", "Connections refused by the supervisor.");
  Family refused_by("portbroker_refusals_total", "counter",
                    "Connections and datagrams refused by the supervisor, by reason.");
  Family datagrams("portbroker_datagrams_total", "counter", "UDP datagrams by outcome.");
  Family replies("portbroker_replies_total", "counter", "UDP replies by outcome.");
  Family replies_refused_by("portbroker_replies_refused_total", "counter",
                            "UDP replies the supervisor refused, by reason (no-session, amplification, rate).");
  Family proxy_headers("portbroker_proxy_headers_total", "counter",
                       "PROXY protocol headers read from trusted balancers, by command (proxy, local: health checks).");
  Family proxy_refused("portbroker_proxy_header_refused_total", "counter",
                       "Connections the PROXY protocol gate closed, by reason.");
  Family proxy_waiting("portbroker_proxy_waiting", "gauge", "Connections waiting for their PROXY protocol header.");
  Family restarts("portbroker_worker_restarts_total", "counter", "Worker restarts after crashes.");
  Family reloads("portbroker_reloads_total", "counter", "New versions that took over.");
  Family reload_failed("portbroker_reload_error", "gauge", "1 while the latest change on disk is not in force.");
  Family store("portbroker_store_keys", "gauge", "Keys in the shared store.");
  Family store_restarts("portbroker_store_restarts_total", "counter", "Restarts of the shared store.");
  // With an external backend (Redis or Valkey through the store relay) only.
  Family backend_up("portbroker_store_backend_up", "gauge",
                    "1 while the shared store's Redis/Valkey backend is up (0 while connecting or down).");
  Family backend_outages("portbroker_store_backend_outages_total", "counter",
                         "Times the shared store's backend went down.");
  Family backend_failovers("portbroker_store_backend_failovers_total", "counter",
                           "Times the shared store's Sentinel master moved to another address.");

  up.add("", 1);
  uptime.add("", number(broker.value("uptime_s", nlohmann::json())));
  // A tenant's view has no host-wide figures (the supervisor's connections,
  // the store): those families stay empty there.
  if (broker.contains("connections")) tracked.add("", number(broker["connections"]));
  if (store_keys) store.add("", *store_keys);
  const auto& store_status = broker.value("store", nlohmann::json::object());
  if (store_status.contains("restarts")) store_restarts.add("", number(store_status["restarts"]));
  const auto& backend = store_status.value("backend", nlohmann::json::object());
  std::string backend_kind = backend.value("kind", "embedded");
  bool external = backend_kind != "embedded";
  if (external) {
    std::string labels = "backend=\"" + escaped(backend_kind) + "\"";
    backend_up.add(labels, backend.value("state", "") == "up" ? 1 : 0);
    backend_outages.add(labels, number(backend.value("outages", nlohmann::json())));
    backend_failovers.add(labels, number(backend.value("failovers", nlohmann::json())));
  }

  std::map<std::string, uint64_t> by_state = {{"active", 0}, {"starting", 0}, {"refused", 0}, {"failed", 0},
                                              {"draining", 0}};
  for (const auto& handler : status["handlers"]) {
    std::string state = handler.value("state", "");
    ++by_state[state];
    // Every handler's series says whose it is: tenant="" for the operator's.
    const auto& tenant = handler.value("tenant", nlohmann::json());
    std::string labels = "tenant=\"" + escaped(tenant.is_string() ? tenant.get<std::string>() : "") + "\",handler=\"" +
                         escaped(handler.value("name", "")) + "\",protocol=\"" +
                         escaped(handler.value("protocol", "")) + "\",port=\"" +
                         std::to_string(handler.value("port", 0)) + "\"";
    active.add(labels, state == "active" ? 1 : 0);
    const auto& conns = handler["connections"];
    if (handler.value("protocol", "") == "tcp") {
      connections.add(labels, number(conns["active"]));
      accepted.add(labels, number(conns["accepted"]));
      refused.add(labels, number(conns["refused"]));
    }
    if (handler.contains("refused_by")) {
      for (const auto& [reason, count] : handler["refused_by"].items()) {
        refused_by.add(labels + ",reason=\"" + escaped(reason) + "\"", number(count));
      }
    }
    if (handler.contains("datagrams")) {
      const auto& d = handler["datagrams"];
      for (const char* outcome : {"received", "refused", "dropped", "kernel_dropped"}) {
        datagrams.add(labels + ",outcome=\"" + outcome + "\"", number(d.value(outcome, nlohmann::json())));
      }
      for (const auto& [outcome, key] : {std::pair{"sent", "replied"}, {"failed", "reply_failed"}, {"refused", "reply_refused"}}) {
        replies.add(labels + ",outcome=\"" + outcome + "\"", number(d[key]));
      }
      if (d.contains("reply_refused_by") && d["reply_refused_by"].is_object()) {
        for (const auto& [reason, count] : d["reply_refused_by"].items()) {
          replies_refused_by.add(labels + ",reason=\"" + escaped(reason) + "\"", number(count));
        }
      }
    }
    if (handler.contains("proxy") && handler["proxy"].is_object()) {
      const auto& proxy = handler["proxy"];
      proxy_headers.add(labels + ",command=\"proxy\"", number(proxy["headers"]));
      proxy_headers.add(labels + ",command=\"local\"", number(proxy["health_checks"]));
      proxy_waiting.add(labels, number(proxy["waiting"]));
      if (proxy.contains("refused_by") && proxy["refused_by"].is_object()) {
        for (const auto& [reason, count] : proxy["refused_by"].items()) {
          proxy_refused.add(labels + ",reason=\"" + escaped(reason) + "\"", number(count));
        }
      }
    }
    restarts.add(labels, number(handler["worker"]["restarts"]));
    reloads.add(labels, number(handler["reload"]["reloads"]));
    reload_failed.add(labels, handler["reload"]["error"].is_null() ? 0 : 1);
  }
  for (const auto& [state, count] : by_state) handlers.add("state=\"" + escaped(state) + "\"", count);

  std::ostringstream out;
  for (const Family* family : {&up, &uptime, &handlers, &active, &tracked, &connections, &accepted, &refused,
                               &refused_by, &datagrams, &replies, &replies_refused_by, &proxy_headers, &proxy_refused,
                               &proxy_waiting, &restarts, &reloads, &reload_failed, &store,
                               &store_restarts}) {
    family->write(out);
  }
  if (external) {
    for (const Family* family : {&backend_up, &backend_outages, &backend_failovers}) family->write(out);
  }
  return out.str();
}

}  // namespace supervisor
