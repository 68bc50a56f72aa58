#include "worker/http_transfers.h"

#include <openssl/x509.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "sandbox/mount_root.h"
#include "worker/curl_library.h"
#include "worker/http_response_head.h"
#include "worker/tls_client.h"

namespace worker {

struct HttpTransfers::Transfer {
  HttpTransfers* owner = nullptr;
  uint32_t id = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  curl_slist* resolve = nullptr;
  common::UniqueFd socket;  // until libcurl asks for it
  HttpResponseHead head;
  bool head_delivered = false;
  // JavaScript's stream is full: libcurl holds the body until it is not.
  bool receive_paused = false;
  // Request body from JavaScript, and whether libcurl waits for more.
  std::vector<uint8_t> body;
  size_t body_offset = 0;
  bool body_ended = false;
  bool send_paused = false;
  bool body_asked = false;
  char error_text[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (easy != nullptr) curl().easy_cleanup(easy);
    curl().slist_free_all(headers);
    curl().slist_free_all(resolve);
  }
};

// One uv_poll per socket libcurl watches; freed by its close callback.
struct HttpTransfers::Poll {
  uv_poll_t handle{};
  HttpTransfers* owner = nullptr;
  curl_socket_t fd = CURL_SOCKET_BAD;
};

namespace {

// libcurl's result as fetch reports it in `error.cause`: Node's codes where
// undici has one, libcurl's message otherwise.
std::pair<std::string, std::string> failure_of(CURL* easy, CURLcode result, const char* detail) {
  std::string message = detail != nullptr && detail[0] != '\0' ? detail : curl().easy_strerror(result);
  switch (result) {
    case CURLE_PEER_FAILED_VERIFICATION: {
      long verify = X509_V_OK;
      curl().easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &verify);
      // libcurl checks the name itself, after the chain: it says so in its
      // message ("... target host name ..."), whatever the chain's result.
      if (message.find("target host name") != std::string::npos || verify == X509_V_ERR_HOSTNAME_MISMATCH ||
          verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        return {"ERR_TLS_CERT_ALTNAME_INVALID", message};
      }
      return {tls_verify_code_name(verify), X509_verify_cert_error_string(verify)};
    }
    case CURLE_SSL_CONNECT_ERROR:
      return {"EPROTO", message};
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      return {"UND_ERR_SOCKET", "other side closed"};
    case CURLE_OPERATION_TIMEDOUT:
      return {"UND_ERR_BODY_TIMEOUT", "Body Timeout Error"};
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_WRITE_ERROR:  // HttpResponseHead refused the head
      return {"HPE_INVALID", message};
    default:
      return {"UND_ERR", message};
  }
}

}  // namespace

std::unique_ptr<CurlMulti> CurlMulti::create(std::string& error) {
  if (load_curl(error) == nullptr) return nullptr;
  CURLM* multi = curl().multi_init();
  if (multi == nullptr) {
    error = "libcurl cannot make a multi handle";
    return nullptr;
  }
  return std::unique_ptr<CurlMulti>(new CurlMulti(multi));
}

CurlMulti::~CurlMulti() { curl().multi_cleanup(multi_); }

HttpTransfers::HttpTransfers(uv_loop_t* loop, std::unique_ptr<CurlMulti> multi, std::function<void(HttpEvent&)> deliver)
    : loop_(loop), multi_(std::move(multi)), deliver_(std::move(deliver)), timer_(new uv_timer_t) {
  uv_timer_init(loop_, timer_);
  timer_->data = this;
  if (!multi_) return;
  curl().multi_setopt(multi_->get(), CURLMOPT_SOCKETFUNCTION, &HttpTransfers::on_socket);
  curl().multi_setopt(multi_->get(), CURLMOPT_SOCKETDATA, this);
  curl().multi_setopt(multi_->get(), CURLMOPT_TIMERFUNCTION, &HttpTransfers::on_timer);
  curl().multi_setopt(multi_->get(), CURLMOPT_TIMERDATA, this);
}

HttpTransfers::~HttpTransfers() {
  // Removing each transfer makes libcurl close its socket and drop its polls.
  for (auto& [id, transfer] : transfers_) curl().multi_remove_handle(multi_->get(), transfer->easy);
  transfers_.clear();
  if (multi_) {
    curl().multi_setopt(multi_->get(), CURLMOPT_SOCKETFUNCTION, nullptr);
    curl().multi_setopt(multi_->get(), CURLMOPT_TIMERFUNCTION, nullptr);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_timer_t*>(handle); });
}

bool HttpTransfers::start(uint32_t id, const HttpRequest& request, common::UniqueFd socket, std::string& error) {
  if (!multi_) {
    error = "HTTP client unavailable";
    return false;
  }
  auto transfer = std::make_unique<Transfer>();
  transfer->owner = this;
  transfer->id = id;
  transfer->socket = std::move(socket);
  transfer->easy = curl().easy_init();
  if (transfer->easy == nullptr) {
    error = "HTTP client unavailable";
    return false;
  }
  CURL* easy = transfer->easy;
  Transfer* raw = transfer.get();
  curl().easy_setopt(easy, CURLOPT_PRIVATE, raw);
  curl().easy_setopt(easy, CURLOPT_ERRORBUFFER, raw->error_text);
  curl().easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl().easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl().easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl().easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  // Nothing of the environment: no proxy, no .netrc, no cookies.
  curl().easy_setopt(easy, CURLOPT_PROXY, "");
  // fetch.js follows redirects itself, each hop through the broker.
  curl().easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  // One broker-dialed socket per transfer: never pooled, never reused.
  curl().easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
  curl().easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
  curl().easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &HttpTransfers::on_open_socket);
  curl().easy_setopt(easy, CURLOPT_OPENSOCKETDATA, raw);
  curl().easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, &HttpTransfers::on_socket_options);
  curl().easy_setopt(easy, CURLOPT_SOCKOPTDATA, raw);
  curl().easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &HttpTransfers::on_close_socket);
  curl().easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, raw);
  // The name is pinned to the address the broker checked: libcurl never
  // resolves (the sandbox has no resolver either).
  std::string pinned;
  {
    // CURLOPT_URL's host, as libcurl will look it up.
    CURLU* parsed = curl().url();
    char* host = nullptr;
    if (parsed != nullptr && curl().url_set(parsed, CURLUPART_URL, request.url.c_str(), 0) == CURLUE_OK &&
        curl().url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
      std::string address = request.address.find(':') != std::string::npos ? "[" + request.address + "]" : request.address;
      pinned = std::string(host) + ":" + std::to_string(request.port) + ":" + address;
    }
    curl().free(host);
    curl().url_cleanup(parsed);
  }
  if (pinned.empty()) {
    error = "Invalid URL";
    return false;
  }
  raw->resolve = curl().slist_append(nullptr, pinned.c_str());
  curl().easy_setopt(easy, CURLOPT_RESOLVE, raw->resolve);
  // TLS: the host's CA bundle, as for tls.connect.
  curl().easy_setopt(easy, CURLOPT_CAINFO, sandbox::kCaBundlePath);
  curl().easy_setopt(easy, CURLOPT_CAPATH, nullptr);
  // As undici: gzip and deflate bodies arrive decoded.
  curl().easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
  // As undici's bodyTimeout: 300 s without a byte ends the transfer.
  curl().easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl().easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, 300L);
  curl().easy_setopt(easy, CURLOPT_HEADERFUNCTION, &HttpTransfers::on_header);
  curl().easy_setopt(easy, CURLOPT_HEADERDATA, raw);
  curl().easy_setopt(easy, CURLOPT_WRITEFUNCTION, &HttpTransfers::on_body);
  curl().easy_setopt(easy, CURLOPT_WRITEDATA, raw);

  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "content-type") has_content_type = true;
    // "Name;" sends a header with an empty value ("Name:" would remove one).
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    raw->headers = curl().slist_append(raw->headers, line.c_str());
  }
  // libcurl's own additions that fetch does not make.
  raw->headers = curl().slist_append(raw->headers, "Expect:");
  if (!has_content_type) raw->headers = curl().slist_append(raw->headers, "Content-Type:");
  curl().easy_setopt(easy, CURLOPT_HTTPHEADER, raw->headers);

  if (request.method == "HEAD") {
    curl().easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (request.has_body) {
    curl().easy_setopt(easy, CURLOPT_POST, 1L);
    curl().easy_setopt(easy, CURLOPT_READFUNCTION, &HttpTransfers::on_read);
    curl().easy_setopt(easy, CURLOPT_READDATA, raw);
    curl().easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body_length));
    if (request.method != "POST") curl().easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl().easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (CURLMcode rc = curl().multi_add_handle(multi_->get(), easy); rc != CURLM_OK) {
    error = curl().multi_strerror(rc);
    return false;
  }
  transfers_.emplace(id, std::move(transfer));
  return true;
}

curl_socket_t HttpTransfers::on_open_socket(void* data, curlsocktype purpose, curl_sockaddr*) {
  auto* transfer = static_cast<Transfer*>(data);
  // The one socket the broker dialed, once; anything else libcurl might
  // want (a second address, a proxy) it does not get.
  if (purpose != CURLSOCKTYPE_IPCXN || !transfer->socket) return CURL_SOCKET_BAD;
  return transfer->socket.release();
}

int HttpTransfers::on_socket_options(void*, curl_socket_t, curlsocktype) { return CURL_SOCKOPT_ALREADY_CONNECTED; }

int HttpTransfers::on_close_socket(void*, curl_socket_t fd) { return ::close(fd); }

size_t HttpTransfers::on_header(char* data, size_t size, size_t count, void* pointer) {
  auto* transfer = static_cast<Transfer*>(pointer);
  size_t length = size * count;
  if (transfer->head_delivered) return length;  // trailers
  switch (transfer->head.feed(std::string_view(data, length))) {
    case HttpResponseHead::Progress::more:
      return length;
    case HttpResponseHead::Progress::failed:
      return 0;  // libcurl ends the transfer (CURLE_WRITE_ERROR)
    case HttpResponseHead::Progress::complete:
      break;
  }
  transfer->head_delivered = true;
  HttpEvent event{HttpEvent::Kind::headers, transfer->id};
  event.status = transfer->head.status();
  event.status_text = transfer->head.reason();
  event.header_list = std::move(transfer->head.headers());
  transfer->owner->queued_.push_back(std::move(event));
  return length;
}

size_t HttpTransfers::on_body(char* data, size_t size, size_t count, void* pointer) {
  auto* transfer = static_cast<Transfer*>(pointer);
  if (transfer->receive_paused) return CURL_WRITEFUNC_PAUSE;
  size_t length = size * count;
  HttpEvent event{HttpEvent::Kind::data, transfer->id};
  event.bytes.assign(data, data + length);
  transfer->owner->queued_.push_back(std::move(event));
  return length;
}

size_t HttpTransfers::on_read(char* data, size_t size, size_t count, void* pointer) {
  auto* transfer = static_cast<Transfer*>(pointer);
  size_t available = transfer->body.size() - transfer->body_offset;
  if (available == 0) {
    if (transfer->body_ended) return 0;
    if (!transfer->body_asked) {
      transfer->body_asked = true;
      transfer->owner->queued_.push_back(HttpEvent{HttpEvent::Kind::body_wanted, transfer->id});
    }
    transfer->send_paused = true;
    return CURL_READFUNC_PAUSE;
  }
  size_t n = std::min(available, size * count);
  std::memcpy(data, transfer->body.data() + transfer->body_offset, n);
  transfer->body_offset += n;
  if (transfer->body_offset == transfer->body.size()) {
    transfer->body.clear();
    transfer->body_offset = 0;
  }
  return n;
}

void HttpTransfers::resume(Transfer& transfer) {
  int mask = (transfer.receive_paused ? CURLPAUSE_RECV : 0) | (transfer.send_paused ? CURLPAUSE_SEND : 0);
  curl().easy_pause(transfer.easy, mask);
  deliver_queued();
}

void HttpTransfers::send_body(uint32_t id, std::span<const uint8_t> bytes, bool end) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  Transfer& transfer = *it->second;
  transfer.body.insert(transfer.body.end(), bytes.begin(), bytes.end());
  transfer.body_ended = transfer.body_ended || end;
  transfer.body_asked = false;
  if (transfer.send_paused) {
    transfer.send_paused = false;
    resume(transfer);
  }
}

void HttpTransfers::pause_response(uint32_t id, bool paused) {
  auto it = transfers_.find(id);
  if (it == transfers_.end() || it->second->receive_paused == paused) return;
  it->second->receive_paused = paused;
  resume(*it->second);
}

void HttpTransfers::abort(uint32_t id) {
  remove(id);
  // Its queued events go nowhere now.
  std::erase_if(queued_, [id](const HttpEvent& event) { return event.id == id; });
}

void HttpTransfers::remove(uint32_t id) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  std::unique_ptr<Transfer> transfer = std::move(it->second);
  transfers_.erase(it);
  curl().multi_remove_handle(multi_->get(), transfer->easy);
}

int HttpTransfers::on_socket(CURL*, curl_socket_t fd, int what, void* pointer, void* socket_data) {
  auto* self = static_cast<HttpTransfers*>(pointer);
  auto* poll = static_cast<Poll*>(socket_data);
  if (what == CURL_POLL_REMOVE) {
    if (poll != nullptr) {
      curl().multi_assign(self->multi_->get(), fd, nullptr);
      uv_poll_stop(&poll->handle);
      uv_close(reinterpret_cast<uv_handle_t*>(&poll->handle),
               [](uv_handle_t* handle) { delete reinterpret_cast<Poll*>(handle->data); });
    }
    return 0;
  }
  if (poll == nullptr) {
    poll = new Poll();
    poll->owner = self;
    poll->fd = fd;
    poll->handle.data = poll;
    if (uv_poll_init_socket(self->loop_, &poll->handle, fd) != 0) {
      delete poll;
      return -1;
    }
    curl().multi_assign(self->multi_->get(), fd, poll);
  }
  int events = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
  uv_poll_start(&poll->handle, events, [](uv_poll_t* handle, int status, int ready) {
    auto* watched = static_cast<Poll*>(handle->data);
    int flags = status < 0 ? CURL_CSELECT_ERR
                           : (ready & UV_READABLE ? CURL_CSELECT_IN : 0) | (ready & UV_WRITABLE ? CURL_CSELECT_OUT : 0);
    watched->owner->drive(watched->fd, flags);
  });
  return 0;
}

int HttpTransfers::on_timer(CURLM*, long timeout_ms, void* pointer) {
  auto* self = static_cast<HttpTransfers*>(pointer);
  if (timeout_ms < 0) {
    uv_timer_stop(self->timer_);
    return 0;
  }
  // Even a 0 ms timeout runs from the loop, never inside libcurl's call.
  uv_timer_start(self->timer_, [](uv_timer_t* timer) {
    static_cast<HttpTransfers*>(timer->data)->drive(CURL_SOCKET_TIMEOUT, 0);
  }, static_cast<uint64_t>(timeout_ms), 0);
  return 0;
}

void HttpTransfers::drive(curl_socket_t fd, int events) {
  int running = 0;
  curl().multi_socket_action(multi_->get(), fd, events, &running);
  collect_finished();
  deliver_queued();
}

void HttpTransfers::collect_finished() {
  int left = 0;
  while (CURLMsg* message = curl().multi_info_read(multi_->get(), &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    Transfer* transfer = nullptr;
    curl().easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &transfer);
    if (transfer == nullptr) continue;
    HttpEvent event{HttpEvent::Kind::done, transfer->id};
    if (message->data.result != CURLE_OK) {
      std::tie(event.code, event.message) = failure_of(transfer->easy, message->data.result, transfer->error_text);
    } else if (!transfer->head_delivered) {
      event.code = "UND_ERR_SOCKET";
      event.message = "other side closed";
    }
    uint32_t id = transfer->id;
    queued_.push_back(std::move(event));
    remove(id);
  }
}

void HttpTransfers::deliver_queued() {
  // Delivery may pause, resume or abort transfers, which may queue more:
  // one loop delivers everything, in order.
  if (delivering_) return;
  delivering_ = true;
  while (!queued_.empty()) {
    HttpEvent event = std::move(queued_.front());
    queued_.pop_front();
    deliver_(event);
  }
  delivering_ = false;
}

}  // namespace worker
