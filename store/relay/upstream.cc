#include "store/relay/upstream.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>

#include "common/openssl_text.h"
#include "common/process.h"

namespace store::relay {
namespace {

// Reads per wake-up on a plain socket before giving the loop back (the
// poll is level-triggered, so what is left comes next iteration).
constexpr int kReadsPerWakeup = 16;
// Sent bytes are dropped from the front of the output this often, not on
// every write.
constexpr size_t kCompactOutputBytes = 1024 * 1024;

bool is_pushed_message(const ipc::resp::Value& value) {
  using Type = ipc::resp::Value::Type;
  return value.type == Type::array && value.elements.size() == 3 && value.elements[0].type == Type::bulk_string &&
         value.elements[0].text == "message";
}

std::string tls_failure(SSL* ssl, std::string_view what) {
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return std::string(what) + ": certificate verification failed: " + X509_verify_cert_error_string(verify);
  }
  return std::string(what) + ": " + common::openssl_error();
}

}  // namespace

Upstream::Upstream(uv_loop_t* loop, std::string label, uint32_t timeout_ms, ClosedCallback on_closed)
    : loop_(loop), label_(std::move(label)), timeout_ms_(timeout_ms), on_closed_(std::move(on_closed)) {
  limits_.max_bulk_bytes = kMaxReplyBulkBytes;
}

Upstream::~Upstream() { close(); }

bool Upstream::start(common::UniqueFd fd, const TlsClientContext* tls, const std::string& peer_name, std::string& error) {
  fd_ = std::move(fd);
  int flags = fcntl(fd_.get(), F_GETFL);
  if (flags < 0 || fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    error = "cannot make the connection non-blocking: " + common::errno_text(errno);
    return false;
  }
  if (tls != nullptr) {
    ssl_ = tls->connect_to(fd_.get(), peer_name, error);
    if (!ssl_) return false;
    handshaking_ = true;
  }
  int rc = poll_.init(uv_poll_init, loop_, fd_.get());
  if (rc == 0) rc = tick_.init(uv_timer_init, loop_);
  if (rc == 0) rc = flush_check_.init(uv_check_init, loop_);
  if (rc == 0) rc = flush_idle_.init(uv_idle_init, loop_);
  if (rc != 0) {
    error = std::string("cannot watch the connection: ") + uv_strerror(rc);
    return false;
  }
  poll_->data = this;
  tick_->data = this;
  flush_check_->data = this;
  // Often enough to see a reply overdue by a quarter of the timeout at most.
  uint64_t tick_ms = std::clamp<uint64_t>(timeout_ms_ / 4, 25, 250);
  uv_timer_start(
      tick_.get(),
      [](uv_timer_t* timer) {
        if (auto* self = static_cast<Upstream*>(timer->data)) self->on_tick();
      },
      tick_ms, tick_ms);
  started_ms_ = last_read_ms_ = uv_now(loop_);
  open_ = true;
  // The handshake starts from the poll (the socket is writable at once),
  // never from inside start(): a failure found at once (the server's
  // certificate can come back within the first SSL_do_handshake) would
  // otherwise call the owner back while it is still setting this up.
  handshake_wants_write_ = handshaking_;
  update_poll();
  return true;
}

void Upstream::send(std::string_view command, ReplyCallback done, size_t frames) {
  if (!open_) {
    if (done) done(nullptr, {});
    return;
  }
  output_ += command;
  pending_.push_back(Pending{std::move(done), std::max<size_t>(frames, 1), command.size(), uv_now(loop_)});
  backlog_bytes_ += command.size();
  // Written once the current callback is over, so a burst of commands
  // costs one write.
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    uv_check_start(flush_check_.get(), [](uv_check_t* handle) {
      auto* self = static_cast<Upstream*>(handle->data);
      if (self == nullptr) return;
      uv_check_stop(handle);
      uv_idle_stop(self->flush_idle_.get());
      self->flush_scheduled_ = false;
      if (!self->open_ || self->handshaking_) return;
      self->write_available();
      if (self->open_) self->update_poll();
    });
    // Keeps the loop from blocking before the check runs.
    uv_idle_start(flush_idle_.get(), [](uv_idle_t*) {});
  }
}

void Upstream::on_poll(int status, int events) {
  if (status < 0) return fail(std::string("connection failed: ") + uv_strerror(status));
  if (handshaking_) return handshake();
  if ((events & UV_WRITABLE) != 0 || (write_wants_read_ && (events & UV_READABLE) != 0)) {
    write_available();
    if (!open_) return;
  }
  if ((events & UV_READABLE) != 0 || (read_wants_write_ && (events & UV_WRITABLE) != 0)) {
    read_available();
    if (!open_) return;
  }
  update_poll();
}

void Upstream::handshake() {
  int rc = SSL_do_handshake(ssl_.get());
  handshake_wants_write_ = false;
  if (rc == 1) {
    handshaking_ = false;
    write_available();  // what was queued meanwhile
    if (open_) update_poll();
    return;
  }
  int err = SSL_get_error(ssl_.get(), rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    handshake_wants_write_ = err == SSL_ERROR_WANT_WRITE;
    update_poll();
    return;
  }
  fail(err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 ? "TLS handshake failed: the server closed the connection"
                                                          : tls_failure(ssl_.get(), "TLS handshake failed"));
}

void Upstream::read_available() {
  static std::array<char, 64 * 1024> buffer;
  read_wants_write_ = false;
  for (int reads = 0; open_; ++reads) {
    size_t count = 0;
    if (ssl_) {
      // No cap: bytes OpenSSL has buffered would not wake the poll again.
      int rc = SSL_read(ssl_.get(), buffer.data(), static_cast<int>(buffer.size()));
      if (rc <= 0) {
        int err = SSL_get_error(ssl_.get(), rc);
        if (err == SSL_ERROR_WANT_READ) break;
        if (err == SSL_ERROR_WANT_WRITE) {
          read_wants_write_ = true;
          break;
        }
        return fail(err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
                        ? "the server closed the connection"
                        : tls_failure(ssl_.get(), "TLS read failed"));
      }
      count = static_cast<size_t>(rc);
    } else {
      if (reads == kReadsPerWakeup) break;
      ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return fail("read failed: " + common::errno_text(errno));
      }
      if (n == 0) return fail("the server closed the connection");
      count = static_cast<size_t>(n);
    }
    input_.append(buffer.data(), count);
    last_read_ms_ = uv_now(loop_);
  }
  parse_input();
}

void Upstream::parse_input() {
  size_t offset = 0;
  std::string_view input(input_);
  while (open_ && offset < input.size()) {
    ipc::resp::Value reply;
    size_t consumed = 0;
    std::string error;
    auto status = ipc::resp::parse_value(input.substr(offset), limits_, reply, consumed, error);
    if (status == ipc::resp::ParseStatus::incomplete) break;
    if (status == ipc::resp::ParseStatus::error) return fail("malformed reply: " + error);
    std::string_view raw = input.substr(offset, consumed);
    offset += consumed;
    if (on_push_ && is_pushed_message(reply)) {
      on_push_(reply);
      continue;
    }
    if (pending_.empty()) return fail("a reply no command asked for");
    Pending& front = pending_.front();
    ReplyCallback done;
    if (--front.frames == 0) {
      done = std::move(front.done);
      backlog_bytes_ -= front.bytes;
      pending_.pop_front();
    } else {
      done = front.done;
    }
    if (done) done(&reply, raw);
  }
  // A callback may have closed the connection (input_ is left alone then).
  if (open_) input_.erase(0, offset);
}

void Upstream::write_available() {
  write_wants_read_ = false;
  while (open_ && output_sent_ < output_.size()) {
    const char* data = output_.data() + output_sent_;
    size_t size = output_.size() - output_sent_;
    size_t written = 0;
    if (ssl_) {
      int rc = SSL_write(ssl_.get(), data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
      if (rc <= 0) {
        int err = SSL_get_error(ssl_.get(), rc);
        if (err == SSL_ERROR_WANT_WRITE) break;
        if (err == SSL_ERROR_WANT_READ) {
          write_wants_read_ = true;
          break;
        }
        return fail(tls_failure(ssl_.get(), "TLS write failed"));
      }
      written = static_cast<size_t>(rc);
    } else {
      ssize_t n = ::send(fd_.get(), data, size, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return fail("write failed: " + common::errno_text(errno));
      }
      written = static_cast<size_t>(n);
    }
    output_sent_ += written;
  }
  if (output_sent_ == output_.size()) {
    output_.clear();
    output_sent_ = 0;
  } else if (output_sent_ >= kCompactOutputBytes) {
    output_.erase(0, output_sent_);
    output_sent_ = 0;
  }
}

void Upstream::update_poll() {
  if (!open_ || !poll_) return;
  int events = UV_READABLE;
  bool output_waiting = output_sent_ < output_.size() && !handshaking_ && !write_wants_read_;
  if (output_waiting || read_wants_write_ || (handshaking_ && handshake_wants_write_)) events |= UV_WRITABLE;
  if (events == poll_events_) return;
  poll_events_ = events;
  uv_poll_start(poll_.get(), events, [](uv_poll_t* handle, int status, int ready) {
    if (auto* self = static_cast<Upstream*>(handle->data)) self->on_poll(status, ready);
  });
}

void Upstream::on_tick() {
  uint64_t now = uv_now(loop_);
  if (handshaking_ && now - started_ms_ > timeout_ms_) {
    return fail("the TLS handshake took longer than " + std::to_string(timeout_ms_) + " ms");
  }
  if (!pending_.empty() && now - pending_.front().sent_ms > timeout_ms_) {
    return fail("no reply within " + std::to_string(timeout_ms_) + " ms");
  }
  // An idle connection proves itself alive: a node that vanished without
  // closing would otherwise look up until the next command timed out.
  if (pending_.empty() && !handshaking_ && now - last_read_ms_ >= timeout_ms_ / 2) {
    send("*1\r\n$4\r\nPING\r\n", nullptr);
  }
}

void Upstream::shut() {
  open_ = false;
  flush_check_.reset();
  flush_idle_.reset();
  flush_scheduled_ = false;
  tick_.reset();
  poll_.reset();  // before the descriptor closes: libuv stops watching it first
  poll_events_ = 0;
  ssl_.reset();
  fd_.reset();
  output_.clear();
  output_sent_ = 0;
}

void Upstream::fail(const std::string& error) {
  if (!open_) return;
  shut();
  // The owner hears first, so whatever the waiting callbacks do next (send
  // another command) meets a backend already known to be down.
  if (on_closed_) on_closed_(error);
  fail_pending();
}

void Upstream::close() {
  if (open_) shut();
  fail_pending();
}

void Upstream::fail_pending() {
  auto waiting = std::exchange(pending_, {});
  backlog_bytes_ = 0;
  for (auto& entry : waiting) {
    if (entry.done) entry.done(nullptr, {});
  }
}

}  // namespace store::relay
