#include "store/relay/backend.h"

#include <sys/random.h>

#include <algorithm>
#include <chrono>
#include <initializer_list>

#include "common/log.h"

namespace store::relay {
namespace {

namespace log = common::log;
namespace resp = ipc::resp;
using Type = resp::Value::Type;

constexpr uint64_t kBaseBackoffMs = 100;

std::string command(std::initializer_list<std::string_view> args) {
  std::string out;
  resp::append_command(out, args);
  return out;
}

std::string node_text(const ipc::StoreNode& node) {
  if (!node.unix_path.empty()) return node.unix_path;
  return NodeAddress{node.host, node.port}.to_string();
}

}  // namespace

uint64_t backoff_delay_ms(unsigned failures, double random) {
  uint64_t ceiling = std::min<uint64_t>(Backend::kMaxBackoffMs, kBaseBackoffMs << std::min(failures, 6u));
  uint64_t floor = ceiling / 2;
  return floor + static_cast<uint64_t>(std::clamp(random, 0.0, 1.0) * static_cast<double>(ceiling - floor));
}

Backend::Backend(uv_loop_t* loop, Dialer& dialer) : loop_(loop), dialer_(dialer) {
  // std::random_device may want /dev/urandom, which the sandbox refuses.
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = uv_hrtime();
  random_.seed(seed);
}

Backend::~Backend() { stop(); }

void Backend::stop() {
  // Nothing below may call back into the executor, which may be gone.
  destroying_ = true;
  held_.clear();
  held_bytes_ = 0;
  for (auto* link : {&command_, &subscriber_, &watcher_}) {
    if (*link) (*link)->close();
    link->reset();
  }
  retired_.clear();
  for (auto* timer : {&retry_timer_, &watch_timer_, &held_timer_, &reaper_}) timer->cancel();
}

bool Backend::configure(ipc::StoreBackend config, std::string_view ca_pem, std::string_view cert_pem,
                        std::string_view key_pem, std::string& error) {
  if (configured_) {
    error = "the relay has its backend already";
    return false;
  }
  if (config.tls) {
    tls_ = TlsClientContext::create(ca_pem, cert_pem, key_pem, error);
    if (!tls_) return false;
  }
  config_ = std::move(config);
  configured_ = true;
  state_.address = config_.kind == ipc::StoreBackendKind::redis ? node_text(config_.nodes.front()) : "";
  set_phase(Phase::connecting, "");
  attempt();
  return true;
}

std::string Backend::peer_name_for(const std::string& host) const {
  return config_.tls_server_name.empty() ? host : config_.tls_server_name;
}

uint64_t Backend::wall_ms() const {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::unique_ptr<Upstream> Backend::make_upstream(const std::string& label,
                                                 std::function<void(const std::string&)> on_closed) {
  return std::make_unique<Upstream>(loop_, label, config_.timeout_ms, std::move(on_closed));
}

void Backend::retire(std::unique_ptr<Upstream>& link) {
  if (!link) return;
  // Its owner may be up the stack (inside one of its callbacks): closed
  // now, freed once the current callback is over.
  link->close();
  retired_.push_back(std::move(link));
  reaper_.start(loop_, 0, [this] { retired_.clear(); });
}

void Backend::close_data_links() {
  command_ready_ = subscriber_ready_ = subscriber_usable_ = false;
  retire(command_);
  retire(subscriber_);
}

void Backend::attempt() {
  uint64_t generation = ++generation_;
  ++watch_generation_;  // a watch session under way is abandoned
  close_data_links();
  if (config_.kind == ipc::StoreBackendKind::redis) {
    const auto& node = config_.nodes.front();
    state_.address = node_text(node);
    connect_data(generation, ipc::StoreDial{0, ipc::StoreDialTarget::node, 0, "", 0}, peer_name_for(node.host));
    return;
  }
  retire(watcher_);
  ask_sentinel(generation, 0, SentinelPurpose::discover, "");
}

void Backend::send_handshake(Upstream& link, bool to_sentinel, std::function<void(const std::string&)> refused) {
  const std::string& user = to_sentinel ? config_.sentinel_user : config_.user;
  const std::string& password = to_sentinel ? config_.sentinel_password : config_.password;
  auto check = [refused](std::string what) {
    return [refused, what = std::move(what)](const resp::Value* reply, std::string_view) {
      // A connection that failed meanwhile is reported by its on_closed.
      if (reply != nullptr && reply->type == Type::error) refused(what + ": " + reply->text.substr(0, 200));
    };
  };
  if (!password.empty()) {
    // The password goes out here and nowhere else: never into a log line
    // or an error (Redis's WRONGPASS reply does not repeat it).
    link.send(user.empty() ? command({"AUTH", password}) : command({"AUTH", user, password}), check("AUTH refused"));
  }
  if (!to_sentinel && config_.database != 0) {
    link.send(command({"SELECT", std::to_string(config_.database)}), check("SELECT " + std::to_string(config_.database) + " failed"));
  }
}

void Backend::ask_sentinel(uint64_t generation, size_t tries, SentinelPurpose purpose, std::string errors) {
  auto current = [this, generation, purpose] {
    return !destroying_ && (purpose == SentinelPurpose::discover ? generation == generation_ : generation == watch_generation_);
  };
  size_t count = config_.nodes.size();
  if (tries == count) {
    std::string error = "no sentinel named the master " + config_.master_name + " (" + errors + ")";
    if (purpose == SentinelPurpose::discover) {
      link_failed(generation, error);
    } else {
      if (!watch_lost_logged_) log::warn("store-sentinels-unreachable").kv("master", config_.master_name).kv("error", error);
      watch_lost_logged_ = true;
      schedule_watch();
    }
    return;
  }
  size_t index = (first_sentinel_ + tries) % count;
  const auto& node = config_.nodes[index];
  std::string label = "sentinel " + node_text(node);
  auto next = [this, generation, tries, purpose, errors, label](const std::string& why) {
    ask_sentinel(generation, tries + 1, purpose, errors + (errors.empty() ? "" : "; ") + label + ": " + why);
  };
  ipc::StoreDial request{0, ipc::StoreDialTarget::node, static_cast<uint32_t>(index), "", 0};
  dialer_.dial(request, [this, current, next, label, index, generation, purpose,
                         peer = peer_name_for(node.host)](common::UniqueFd fd, const std::string& error) {
    if (!current()) return;
    if (!fd) return next(error);
    // Whether this sentinel answered: a session lost before that moves on
    // to the next sentinel, one lost after it is watched again later.
    auto answered = std::make_shared<bool>(false);
    watcher_ = make_upstream(label, [this, current, next, answered](const std::string& why) {
      if (!current()) return;
      retire(watcher_);
      if (!*answered) return next(why);
      log::debug("store-sentinel-lost").kv("error", why);
      schedule_watch();
    });
    std::string start_error;
    if (!watcher_->start(std::move(fd), tls_.get(), peer, start_error)) {
      retire(watcher_);
      return next(start_error);
    }
    auto refused = std::make_shared<bool>(false);
    send_handshake(*watcher_, true, [this, current, next, refused](const std::string& why) {
      if (!current() || *refused) return;
      *refused = true;
      retire(watcher_);
      next(why);
    });
    watcher_->send(command({"SENTINEL", "get-master-addr-by-name", config_.master_name}),
                   [this, current, next, answered, refused, index, generation, purpose](const resp::Value* reply,
                                                                                         std::string_view) {
                     if (reply == nullptr || !current() || *refused) return;
                     std::string why;
                     auto address = parse_master_address(*reply, why);
                     if (!address) {
                       retire(watcher_);
                       return next(why);
                     }
                     *answered = true;
                     first_sentinel_ = index;
                     // Stays open, following failovers.
                     watcher_->set_push_handler([this](const resp::Value& message) { on_switch_master(message); });
                     watcher_->send(command({"SUBSCRIBE", "+switch-master"}), nullptr);
                     on_master_address(generation, *address, purpose);
                   });
  });
}

void Backend::on_master_address(uint64_t generation, const NodeAddress& address, SentinelPurpose purpose) {
  if (purpose == SentinelPurpose::discover) {
    master_ = address;
    state_.address = address.to_string();
    connect_data(generation, ipc::StoreDial{0, ipc::StoreDialTarget::address, 0, address.host, address.port},
                 peer_name_for(address.host));
    return;
  }
  watch_failures_ = 0;
  if (watch_lost_logged_) log::info("store-sentinels-reachable").kv("master", config_.master_name);
  watch_lost_logged_ = false;
  // While the sentinels were out of reach the master may have moved
  // without this relay hearing +switch-master.
  if (phase_ == Phase::up && !(address == master_)) failover(address);
}

void Backend::connect_data(uint64_t generation, const ipc::StoreDial& target, const std::string& peer_name) {
  command_ready_ = subscriber_ready_ = subscriber_usable_ = false;
  for (bool subscriber : {false, true}) {
    dialer_.dial(target, [this, generation, peer_name, subscriber](common::UniqueFd fd, const std::string& error) {
      if (destroying_ || generation != generation_) return;
      if (!fd) return link_failed(generation, "cannot connect to " + state_.address + ": " + error);
      start_link(generation, std::move(fd), peer_name, subscriber);
    });
  }
}

void Backend::start_link(uint64_t generation, common::UniqueFd fd, const std::string& peer_name, bool subscriber) {
  auto& link = subscriber ? subscriber_ : command_;
  link = make_upstream(std::string(subscriber ? "subscriber " : "commands ") + state_.address,
                       [this, generation](const std::string& why) {
                         if (!destroying_ && generation == generation_) link_failed(generation, why);
                       });
  std::string error;
  if (!link->start(std::move(fd), tls_.get(), peer_name, error)) return link_failed(generation, error);
  if (!link || destroying_ || generation != generation_) return;  // failed meanwhile (never, as start() calls nobody back)
  auto fail = [this, generation](const std::string& why) {
    if (!destroying_ && generation == generation_) link_failed(generation, state_.address + ": " + why);
  };
  send_handshake(*link, false, fail);
  if (config_.kind == ipc::StoreBackendKind::sentinel) {
    // The Sentinel client spec's step 3: what a sentinel names may already
    // have been demoted (a failover under way): the node itself must say
    // it is the master.
    link->send(command({"ROLE"}), [fail](const resp::Value* reply, std::string_view) {
      if (reply == nullptr) return;
      std::string why;
      auto role = parse_role(*reply, why);
      if (!role) return fail(why);
      if (*role != "master") fail("it is a " + std::string(*role == "slave" ? "replica" : *role) +
                                  ", not the master (a failover may be under way)");
    });
  }
  // The handshake's end: every reply before this one was checked.
  link->send(command({"PING"}), [this, generation, subscriber](const resp::Value* reply, std::string_view) {
    if (reply == nullptr || destroying_ || generation != generation_) return;
    if (subscriber) return restore_subscriptions(generation);
    command_ready_ = true;
    link_ready(generation);
  });
}

void Backend::restore_subscriptions(uint64_t generation) {
  subscriber_->set_push_handler([this](const resp::Value& message) {
    events_.on_message(message.elements[1].text, message.elements[2].text);
  });
  subscriber_usable_ = true;
  auto channels = events_.channels();
  if (channels.empty()) {
    subscriber_ready_ = true;
    return link_ready(generation);
  }
  // The backend is called up only once every channel is subscribed again, so
  // nothing published through this relay afterwards can miss a subscriber.
  auto remaining = std::make_shared<size_t>(channels.size());
  for (size_t first = 0; first < channels.size(); first += kChannelsPerSubscribe) {
    size_t count = std::min(kChannelsPerSubscribe, channels.size() - first);
    std::string request;
    resp::append_array_header(request, count + 1);
    resp::append_bulk_string(request, "SUBSCRIBE");
    for (size_t i = first; i < first + count; ++i) resp::append_bulk_string(request, channels[i]);
    subscriber_->send(request, [this, generation, remaining](const resp::Value* reply, std::string_view) {
      if (reply == nullptr || destroying_ || generation != generation_) return;
      if (reply->type == Type::error) {
        return link_failed(generation, state_.address + ": SUBSCRIBE refused: " + reply->text.substr(0, 200));
      }
      if (--*remaining == 0) {
        subscriber_ready_ = true;
        link_ready(generation);
      }
    }, count);
  }
  log::debug("store-subscriptions-restored").kv("channels", channels.size());
}

void Backend::link_ready(uint64_t generation) {
  if (generation == generation_ && command_ready_ && subscriber_ready_) went_up();
}

void Backend::went_up() {
  failures_ = 0;
  set_phase(Phase::up, "");
  held_timer_.cancel();
  auto held = std::exchange(held_, {});
  held_bytes_ = 0;
  for (auto& entry : held) send_now(entry.command, std::move(entry.done));
}

void Backend::link_failed(uint64_t generation, const std::string& error) {
  if (destroying_ || generation != generation_) return;
  ++generation_;  // whatever this attempt still has under way is void
  bool was_up = phase_ == Phase::up;
  if (was_up) failures_ = 0;
  if (phase_ == Phase::down) log::debug("store-backend-attempt-failed").kv("address", state_.address).kv("error", error);
  // Down first, so the calls failed below read why.
  set_phase(Phase::down, error);
  close_data_links();
  if (config_.kind == ipc::StoreBackendKind::sentinel) retire(watcher_);
  fail_held();
  schedule_retry();
}

void Backend::schedule_retry() {
  uint64_t delay = backoff_delay_ms(failures_, std::uniform_real_distribution<double>(0, 1)(random_));
  ++failures_;
  retry_timer_.start(loop_, delay, [this] {
    if (phase_ == Phase::down) attempt();
  });
}

void Backend::schedule_watch() {
  if (phase_ != Phase::up || config_.kind != ipc::StoreBackendKind::sentinel) return;
  uint64_t delay = backoff_delay_ms(watch_failures_++, std::uniform_real_distribution<double>(0, 1)(random_));
  watch_timer_.start(loop_, delay, [this] {
    if (phase_ != Phase::up || watcher_) return;
    ask_sentinel(++watch_generation_, 0, SentinelPurpose::watch, "");
  });
}

void Backend::on_switch_master(const resp::Value& message) {
  if (message.elements[1].text != "+switch-master") return;
  auto address = parse_switch_master(message.elements[2].text, config_.master_name);
  if (!address || phase_ != Phase::up || *address == master_) return;
  failover(*address);
}

void Backend::failover(const NodeAddress& address) {
  ++state_.failovers;
  log::info("store-backend-failover").kv("master", config_.master_name).kv("old", master_.to_string()).kv("new", address.to_string());
  master_ = address;
  state_.address = address.to_string();
  // Commands wait (up to the timeout) while the new master is connected.
  set_phase(Phase::connecting, "");
  uint64_t generation = ++generation_;
  close_data_links();
  connect_data(generation, ipc::StoreDial{0, ipc::StoreDialTarget::address, 0, address.host, address.port},
               peer_name_for(address.host));
}

void Backend::set_phase(Phase phase, const std::string& error) {
  Phase old = phase_;
  phase_ = phase;
  std::string old_error = state_.error;
  if (!error.empty()) state_.error = error.substr(0, ipc::kMaxStoreStateTextBytes);
  state_.state = phase == Phase::up     ? ipc::StoreBackendStatus::up
                 : phase == Phase::down ? ipc::StoreBackendStatus::down
                                        : ipc::StoreBackendStatus::connecting;
  bool changed = old != phase;
  if (changed) state_.since_ms = wall_ms();
  if (changed && phase == Phase::down) {
    ++state_.outages;
    log::Line line(log::Level::warn, "store-backend-down");
    line.kv("address", state_.address).kv("error", state_.error);
    if (!config_.master_name.empty()) line.kv("master", config_.master_name);
    line.kv("was", old == Phase::up ? "up" : "connecting");
  }
  if (changed && phase == Phase::up) {
    log::Line line(log::Level::info, "store-backend-up");
    line.kv("address", state_.address).kv("tls", config_.tls);
    if (!config_.master_name.empty()) line.kv("master", config_.master_name);
  }
  if (changed || state_.error != old_error) report();
}

void Backend::report() {
  log::debug("store-backend-state").kv("state", ipc::store_backend_status_name(state_.state)).kv("address", state_.address);
  if (events_.on_state) events_.on_state(state_);
}

void Backend::submit(std::string_view request, Done done) {
  if (phase_ == Phase::up && command_ && command_ready_) return send_now(request, std::move(done));
  if (phase_ == Phase::connecting) {
    // The first connection, or a failover: worth waiting for, briefly.
    held_.push_back(Held{std::string(request), std::move(done), uv_now(loop_) + config_.timeout_ms});
    held_bytes_ += request.size();
    if (held_.size() == 1) held_timer_.start(loop_, config_.timeout_ms, [this] { expire_held(); });
    return;
  }
  std::string raw = unavailable_reply();
  resp::Value reply;
  reply.type = Type::error;
  reply.text = raw.substr(1, raw.size() - 3);
  done(reply, raw);
}

void Backend::send_now(std::string_view request, Done done) {
  uint64_t generation = generation_;
  command_->send(request, [this, generation, done = std::move(done)](const resp::Value* reply, std::string_view raw) {
    if (destroying_) return;
    if (reply == nullptr) {
      std::string unavailable = unavailable_reply();
      resp::Value error;
      error.type = Type::error;
      error.text = unavailable.substr(1, unavailable.size() - 3);
      return done(error, unavailable);
    }
    done(*reply, raw);
    // A master turned replica (a failover this relay has not heard of yet)
    // refuses writes: follow it now rather than refuse every write.
    if (reply->type == Type::error && reply->text.starts_with("READONLY")) {
      link_failed(generation, state_.address + " became a replica (READONLY)");
    }
  });
}

void Backend::expire_held() {
  uint64_t now = uv_now(loop_);
  while (!held_.empty() && held_.front().deadline_ms <= now) {
    Held entry = std::move(held_.front());
    held_.pop_front();
    held_bytes_ -= entry.command.size();
    std::string raw = unavailable_reply();
    resp::Value reply;
    reply.type = Type::error;
    reply.text = raw.substr(1, raw.size() - 3);
    entry.done(reply, raw);
  }
  if (!held_.empty()) held_timer_.start(loop_, held_.front().deadline_ms - now, [this] { expire_held(); });
}

void Backend::fail_held() {
  held_timer_.cancel();
  auto held = std::exchange(held_, {});
  held_bytes_ = 0;
  std::string raw = unavailable_reply();
  resp::Value reply;
  reply.type = Type::error;
  reply.text = raw.substr(1, raw.size() - 3);
  for (auto& entry : held) entry.done(reply, raw);
}

void Backend::subscribe(const std::vector<std::string>& channels, std::function<void()> confirmed) {
  if (!subscriber_usable_ || !subscriber_ || channels.empty()) return confirmed();
  std::string request;
  resp::append_array_header(request, channels.size() + 1);
  resp::append_bulk_string(request, "SUBSCRIBE");
  for (const auto& channel : channels) resp::append_bulk_string(request, channel);
  auto remaining = std::make_shared<size_t>(channels.size());
  subscriber_->send(request, [this, remaining, confirmed](const resp::Value* reply, std::string_view) {
    if (destroying_) return;
    // A failed connection answers once for the whole command: confirmed then
    // (the channel is in the table and will be subscribed again).
    if (reply == nullptr || --*remaining == 0) confirmed();
  }, channels.size());
}

void Backend::unsubscribe(const std::vector<std::string>& channels) {
  if (!subscriber_usable_ || !subscriber_ || channels.empty()) return;
  std::string request;
  resp::append_array_header(request, channels.size() + 1);
  resp::append_bulk_string(request, "UNSUBSCRIBE");
  for (const auto& channel : channels) resp::append_bulk_string(request, channel);
  subscriber_->send(request, nullptr, channels.size());
}

size_t Backend::backlog_bytes() const { return held_bytes_ + (command_ ? command_->backlog_bytes() : 0); }

std::string Backend::unavailable_reply() const {
  std::string text;
  switch (phase_) {
    case Phase::unconfigured:
      text = "UNAVAILABLE the shared store relay has no backend yet";
      break;
    case Phase::connecting:
      text = "UNAVAILABLE the shared store's backend (" + state_.address + ") did not come up within " +
             std::to_string(config_.timeout_ms) + " ms";
      break;
    case Phase::up:
    case Phase::down:
      text = "UNAVAILABLE the shared store's backend (" + state_.address + ") is unavailable: " + state_.error;
      break;
  }
  std::string raw;
  resp::append_error(raw, text);
  return raw;
}

}  // namespace store::relay
