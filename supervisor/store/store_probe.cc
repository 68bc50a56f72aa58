#include "supervisor/store/store_probe.h"

#include <string_view>

#include "ipc/resp.h"

namespace supervisor {

void StoreProbe::start() {
  if (!interval_ && interval_.init(uv_timer_init, loop_) != 0) return;
  interval_->data = this;
  uv_timer_start(
      interval_.get(),
      [](uv_timer_t* timer) {
        if (auto* self = static_cast<StoreProbe*>(timer->data)) self->refresh();
      },
      0, kIntervalMs);
}

void StoreProbe::stop() {
  interval_.reset();
  drop();
}

void StoreProbe::refresh() {
  if (asking_) return;
  if (!pipe_) {
    common::UniqueFd fd;
    std::string error;
    if (!connect_(fd, error)) return;
    if (pipe_.init(uv_pipe_init, loop_, 0) != 0) return;
    if (uv_pipe_open(pipe_.get(), fd.get()) != 0) {
      pipe_.reset();
      return;
    }
    fd.release();
    pipe_->data = this;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(pipe_.get()),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          static char buffer[256];
          *buf = uv_buf_init(buffer, sizeof buffer);
        },
        [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
          auto* self = static_cast<StoreProbe*>(stream->data);
          if (self == nullptr || nread == 0) return;
          if (nread < 0) return self->drop();
          self->on_input(buf->base, static_cast<size_t>(nread));
        });
  }
  static constexpr std::string_view kRequest = "*1\r\n$6\r\nDBSIZE\r\n";
  uv_buf_t buf = uv_buf_init(const_cast<char*>(kRequest.data()), static_cast<unsigned>(kRequest.size()));
  // A few bytes on an idle connection: they go at once or not at all.
  if (uv_try_write(reinterpret_cast<uv_stream_t*>(pipe_.get()), &buf, 1) != static_cast<int>(kRequest.size())) {
    return drop();
  }
  asking_ = true;
  deadline_.start(loop_, kAnswerWithinMs, [this] { drop(); });
}

void StoreProbe::on_input(const char* data, size_t size) {
  input_.append(data, size);
  ipc::resp::Value reply;
  size_t consumed = 0;
  std::string error;
  ipc::resp::Limits limits;
  auto status = ipc::resp::parse_value(input_, limits, reply, consumed, error);
  if (status == ipc::resp::ParseStatus::incomplete && input_.size() < 64) return;
  if (status != ipc::resp::ParseStatus::complete || reply.type != ipc::resp::Value::Type::integer ||
      reply.integer < 0 || !asking_) {
    return drop();
  }
  input_.erase(0, consumed);
  asking_ = false;
  deadline_.cancel();
  keys_ = static_cast<uint64_t>(reply.integer);
  answered_ms_ = uv_now(loop_);
}

void StoreProbe::drop() {
  pipe_.reset();
  deadline_.cancel();
  input_.clear();
  asking_ = false;
}

std::optional<uint64_t> StoreProbe::key_count() const {
  if (!keys_ || uv_now(loop_) - answered_ms_ > kFreshForMs) return std::nullopt;
  return keys_;
}

}  // namespace supervisor
