#include "ipc/channel.h"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/unique_fd.h"

using common::UniqueFd;
using ipc::IoResult;
using ipc::kMaxFdsPerMessage;
using ipc::kMaxMessageBytes;
using ipc::ReceivedMessage;

namespace {

const char* result_name(IoResult result) {
  switch (result) {
    case IoResult::ok: return "ok";
    case IoResult::would_block: return "would_block";
    case IoResult::closed: return "closed";
    case IoResult::error: return "error";
  }
  return "?";
}

struct Channel {
  UniqueFd a;
  UniqueFd b;
};

Channel make_channel() {
  Channel channel;
  REQUIRE(ipc::make_channel_pair(channel.a, channel.b));
  REQUIRE(channel.a.valid());
  REQUIRE(channel.b.valid());
  return channel;
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe make_pipe() {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string as_string(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A payload whose bytes depend on its position, so truncation or mixing shows.
std::vector<uint8_t> pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 8));
  return bytes;
}

// Entries in /proc/self/fd (the directory's own fd is counted consistently).
size_t open_fd_count() {
  size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

void write_all(int fd, std::string_view text) {
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
}

std::string read_some(int fd) {
  char buffer[256];
  ssize_t n = read(fd, buffer, sizeof buffer);
  REQUIRE(n >= 0);
  return {buffer, static_cast<size_t>(n)};
}

// Sends with sendmsg directly, bypassing send_message's own limits.
ssize_t raw_send(int socket_fd, std::span<const uint8_t> bytes, const std::vector<int>& fds) {
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<uint8_t> control;
  if (!fds.empty()) {
    control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&msg);
    REQUIRE(header != nullptr);
    if (header == nullptr) return -1;  // unreachable; keeps -Wnull-dereference quiet
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  return sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
}

}  // namespace

TEST_CASE("make_channel_pair creates a connected, non-blocking, close-on-exec SEQPACKET pair") {
  auto channel = make_channel();
  for (int fd : {channel.a.get(), channel.b.get()}) {
    int type = 0;
    socklen_t length = sizeof type;
    REQUIRE(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0);
    CHECK(type == SOCK_SEQPACKET);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    int sndbuf = 0;
    length = sizeof sndbuf;
    REQUIRE(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &length) == 0);
    CHECK(static_cast<size_t>(sndbuf) > kMaxMessageBytes);
  }
  // Each end talks to the other.
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("ping")) == IoResult::ok);
  REQUIRE(ipc::send_message(channel.b.get(), as_bytes("pong")) == IoResult::ok);
  ReceivedMessage message;
  REQUIRE(ipc::receive_message(channel.b.get(), message) == IoResult::ok);
  CHECK(as_string(message.bytes()) == "ping");
  REQUIRE(ipc::receive_message(channel.a.get(), message) == IoResult::ok);
  CHECK(as_string(message.bytes()) == "pong");
}

TEST_CASE("receiving from an empty channel would block") {
  auto channel = make_channel();
  ReceivedMessage message;
  int error = 0;
  CHECK(result_name(ipc::receive_message(channel.b.get(), message, &error)) == std::string("would_block"));
  CHECK(message.bytes().empty());
  CHECK(message.fds().empty());
}

TEST_CASE("message boundaries are preserved, up to kMaxMessageBytes") {
  auto channel = make_channel();
  const std::vector<std::vector<uint8_t>> messages = {
      pattern(1, 1), pattern(3, 2), pattern(1000, 3), pattern(1, 4),
      pattern(65536, 5), pattern(kMaxMessageBytes - 1, 6), pattern(kMaxMessageBytes, 7),
  };
  ReceivedMessage received;
  for (const auto& m : messages) {
    CAPTURE(m.size());
    int error = 0;
    REQUIRE(result_name(ipc::send_message(channel.a.get(), m, {}, &error)) == std::string("ok"));
    REQUIRE(result_name(ipc::receive_message(channel.b.get(), received, &error)) == std::string("ok"));
    CHECK(received.bytes().size() == m.size());
    CHECK(std::equal(m.begin(), m.end(), received.bytes().begin(), received.bytes().end()));
  }
  // Queued back to back, they still arrive one by one.
  for (const auto& m : messages) REQUIRE(ipc::send_message(channel.b.get(), m) == IoResult::ok);
  for (const auto& m : messages) {
    CAPTURE(m.size());
    REQUIRE(ipc::receive_message(channel.a.get(), received) == IoResult::ok);
    CHECK(std::equal(m.begin(), m.end(), received.bytes().begin(), received.bytes().end()));
  }
  CHECK(ipc::receive_message(channel.a.get(), received) == IoResult::would_block);
}

TEST_CASE("a passed fd refers to the same open file") {
  auto channel = make_channel();
  auto pipe = make_pipe();
  int fds[] = {pipe.write.get()};
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("here"), fds) == IoResult::ok);
  pipe.write.reset();  // only the received copy remains

  ReceivedMessage message;
  REQUIRE(ipc::receive_message(channel.b.get(), message) == IoResult::ok);
  CHECK(as_string(message.bytes()) == "here");
  REQUIRE(message.fds().size() == 1);
  int received = message.fds()[0].get();
  CHECK((fcntl(received, F_GETFD) & FD_CLOEXEC) != 0);

  write_all(received, "through the passed fd");
  CHECK(read_some(pipe.read.get()) == "through the passed fd");
  // Closing the received fd closes the last write end: the reader sees EOF.
  message.fds().clear();
  CHECK(read_some(pipe.read.get()).empty());
}

TEST_CASE("several fds in one message arrive in order") {
  auto channel = make_channel();
  std::vector<Pipe> pipes;
  std::vector<int> write_ends;
  for (size_t i = 0; i < kMaxFdsPerMessage; ++i) {
    pipes.push_back(make_pipe());
    write_ends.push_back(pipes.back().write.get());
  }
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("fds"), write_ends) == IoResult::ok);
  for (auto& p : pipes) p.write.reset();

  ReceivedMessage message;
  REQUIRE(ipc::receive_message(channel.b.get(), message) == IoResult::ok);
  REQUIRE(message.fds().size() == kMaxFdsPerMessage);
  for (size_t i = 0; i < kMaxFdsPerMessage; ++i) {
    write_all(message.fds()[i].get(), "pipe " + std::to_string(i));
  }
  for (size_t i = 0; i < kMaxFdsPerMessage; ++i) {
    CHECK(read_some(pipes[i].read.get()) == "pipe " + std::to_string(i));
  }
}

TEST_CASE("a message carrying only fds is delivered, not mistaken for a close") {
  auto channel = make_channel();
  auto pipe = make_pipe();
  int fds[] = {pipe.write.get()};
  REQUIRE(ipc::send_message(channel.a.get(), {}, fds) == IoResult::ok);
  ReceivedMessage message;
  REQUIRE(result_name(ipc::receive_message(channel.b.get(), message)) == std::string("ok"));
  CHECK(message.bytes().empty());
  CHECK(message.fds().size() == 1);
}

TEST_CASE("receiving again replaces the previous message and closes its fds") {
  auto channel = make_channel();
  auto pipe = make_pipe();
  int fds[] = {pipe.write.get()};
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("with fd"), fds) == IoResult::ok);
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("plain")) == IoResult::ok);
  pipe.write.reset();

  ReceivedMessage message;
  REQUIRE(ipc::receive_message(channel.b.get(), message) == IoResult::ok);
  REQUIRE(message.fds().size() == 1);
  size_t before = open_fd_count();
  REQUIRE(ipc::receive_message(channel.b.get(), message) == IoResult::ok);
  CHECK(as_string(message.bytes()) == "plain");
  CHECK(message.fds().empty());
  CHECK(open_fd_count() == before - 1);
  CHECK(read_some(pipe.read.get()).empty());  // the last write end is gone
}

TEST_CASE("send_message refuses oversize messages and too many fds with EMSGSIZE") {
  auto channel = make_channel();
  SUBCASE("payload one byte over kMaxMessageBytes") {
    auto big = pattern(kMaxMessageBytes + 1, 9);
    int error = 0;
    CHECK(result_name(ipc::send_message(channel.a.get(), big, {}, &error)) == std::string("error"));
    CHECK(error == EMSGSIZE);
  }
  SUBCASE("one fd over kMaxFdsPerMessage") {
    auto pipe = make_pipe();
    std::vector<int> fds(kMaxFdsPerMessage + 1, pipe.write.get());
    int error = 0;
    CHECK(result_name(ipc::send_message(channel.a.get(), as_bytes("x"), fds, &error)) == std::string("error"));
    CHECK(error == EMSGSIZE);
  }
  SUBCASE("without an error pointer") {
    auto big = pattern(kMaxMessageBytes + 1, 9);
    CHECK(ipc::send_message(channel.a.get(), big) == IoResult::error);
  }
  // Nothing was sent.
  ReceivedMessage message;
  CHECK(ipc::receive_message(channel.b.get(), message) == IoResult::would_block);
}

TEST_CASE("sending into a full channel would block until the peer reads") {
  auto channel = make_channel();
  const auto chunk = pattern(64 * 1024, 11);
  size_t sent = 0;
  IoResult result = IoResult::ok;
  // The send buffer holds a few MiB at most; 10000 x 64 KiB is far beyond it.
  for (int i = 0; i < 10000; ++i) {
    result = ipc::send_message(channel.a.get(), chunk);
    if (result != IoResult::ok) break;
    ++sent;
  }
  REQUIRE(result_name(result) == std::string("would_block"));
  REQUIRE(sent > 0);
  // would_block sends nothing; after the peer reads one, there is room again.
  ReceivedMessage message;
  REQUIRE(ipc::receive_message(channel.b.get(), message) == IoResult::ok);
  CHECK(ipc::send_message(channel.a.get(), chunk) == IoResult::ok);
  size_t drained = 1;
  while (ipc::receive_message(channel.b.get(), message) == IoResult::ok) {
    CHECK(message.bytes().size() == chunk.size());
    ++drained;
  }
  CHECK(drained == sent + 1);
}

// Fills the channel from a; what no longer fits goes to the queue, numbered.
std::deque<std::vector<uint8_t>> fill_then_queue(int fd, size_t queued, size_t& sent) {
  std::deque<std::vector<uint8_t>> queue;
  sent = 0;
  for (uint8_t i = 0;; ++i) {
    auto chunk = pattern(64 * 1024, i);
    if (queue.empty() && ipc::send_message(fd, chunk) == IoResult::ok) {
      ++sent;
      continue;
    }
    queue.push_back(std::move(chunk));
    if (queue.size() == queued) return queue;
  }
}

TEST_CASE("send_queued with no time sends what fits and keeps the rest in order") {
  auto channel = make_channel();
  size_t sent = 0;
  auto queue = fill_then_queue(channel.a.get(), 5, sent);
  const auto first_queued = queue.front();
  CHECK(ipc::send_queued(channel.a.get(), queue, 0) == IoResult::would_block);
  CHECK(queue.size() == 5);
  CHECK(queue.front() == first_queued);
  ReceivedMessage message;
  REQUIRE(ipc::receive_message(channel.b.get(), message) == IoResult::ok);
  CHECK(ipc::send_queued(channel.a.get(), queue, 0) == IoResult::would_block);
  CHECK(queue.size() == 4);
}

TEST_CASE("send_queued waits for room while the peer reads, and everything arrives in order") {
  auto channel = make_channel();
  size_t sent = 0;
  auto queue = fill_then_queue(channel.a.get(), 20, sent);
  std::vector<std::vector<uint8_t>> expected(queue.begin(), queue.end());
  std::vector<std::vector<uint8_t>> received;
  std::thread reader([&] {
    // The reader starts late, so the sender must wait for room.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ReceivedMessage message;
    for (size_t i = 0; i < sent + expected.size();) {
      auto result = ipc::receive_message(channel.b.get(), message);
      if (result == IoResult::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (result != IoResult::ok) break;
      if (i++ >= sent) received.emplace_back(message.bytes().begin(), message.bytes().end());
    }
  });
  CHECK(ipc::send_queued(channel.a.get(), queue, 10000) == IoResult::ok);
  reader.join();
  CHECK(queue.empty());
  CHECK(received == expected);
}

TEST_CASE("send_queued gives up at its deadline, and reports a closed peer") {
  auto channel = make_channel();
  size_t sent = 0;
  auto queue = fill_then_queue(channel.a.get(), 3, sent);
  auto started = std::chrono::steady_clock::now();
  CHECK(ipc::send_queued(channel.a.get(), queue, 50) == IoResult::would_block);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(50));
  CHECK(queue.size() == 3);
  channel.b.reset();
  CHECK(result_name(ipc::send_queued(channel.a.get(), queue, 1000)) == std::string("closed"));
  CHECK(queue.size() == 3);
}

TEST_CASE("a closed peer reads as closed, after its pending messages") {
  auto channel = make_channel();
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("last words")) == IoResult::ok);
  channel.a.reset();

  ReceivedMessage message;
  REQUIRE(ipc::receive_message(channel.b.get(), message) == IoResult::ok);
  CHECK(as_string(message.bytes()) == "last words");
  CHECK(result_name(ipc::receive_message(channel.b.get(), message)) == std::string("closed"));
  CHECK(result_name(ipc::receive_message(channel.b.get(), message)) == std::string("closed"));

  int error = 0;
  CHECK(result_name(ipc::send_message(channel.b.get(), as_bytes("anyone?"), {}, &error)) == std::string("closed"));
  CHECK(error == EPIPE);
}

TEST_CASE("a message with more fds than the receiver accepts is an error and leaks no fd") {
  auto channel = make_channel();
  constexpr size_t kSent = kMaxFdsPerMessage + 4;
  std::vector<Pipe> pipes;
  std::vector<int> write_ends;
  for (size_t i = 0; i < kSent; ++i) {
    pipes.push_back(make_pipe());
    write_ends.push_back(pipes.back().write.get());
  }
  auto payload = as_bytes("too many fds");
  REQUIRE(raw_send(channel.a.get(), payload, write_ends) == static_cast<ssize_t>(payload.size()));
  for (auto& p : pipes) p.write.reset();  // in flight only now

  size_t before = open_fd_count();
  ReceivedMessage message;
  int error = 0;
  CHECK(result_name(ipc::receive_message(channel.b.get(), message, &error)) == std::string("error"));
  CHECK(error == EMSGSIZE);
  CHECK(message.fds().empty());
  CHECK(message.bytes().empty());
  CHECK(open_fd_count() == before);
  // Every write end is closed: each reader sees EOF.
  for (auto& p : pipes) CHECK(read_some(p.read.get()).empty());

  // The channel is still usable.
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("after")) == IoResult::ok);
  REQUIRE(ipc::receive_message(channel.b.get(), message) == IoResult::ok);
  CHECK(as_string(message.bytes()) == "after");
}

TEST_CASE("a payload longer than kMaxMessageBytes is an error and its fds are closed") {
  auto channel = make_channel();
  auto big = pattern(kMaxMessageBytes + 100, 13);
  auto pipe = make_pipe();
  std::vector<int> fds = {pipe.write.get(), pipe.write.get()};
  REQUIRE(raw_send(channel.a.get(), big, fds) == static_cast<ssize_t>(big.size()));
  pipe.write.reset();

  size_t before = open_fd_count();
  ReceivedMessage message;
  int error = 0;
  CHECK(result_name(ipc::receive_message(channel.b.get(), message, &error)) == std::string("error"));
  CHECK(error == EMSGSIZE);
  CHECK(message.fds().empty());
  CHECK(message.bytes().empty());
  CHECK(open_fd_count() == before);
  CHECK(read_some(pipe.read.get()).empty());

  // The rest of the truncated message is discarded; the next one is whole.
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("next")) == IoResult::ok);
  REQUIRE(ipc::receive_message(channel.b.get(), message) == IoResult::ok);
  CHECK(as_string(message.bytes()) == "next");
}

TEST_CASE("MessageReader delivers queued messages in order, several per system call, with their fds") {
  auto channel = make_channel();
  auto pipe = make_pipe();
  constexpr size_t kSent = ipc::MessageReader::kBatch * 2 + 1;
  for (size_t i = 0; i < kSent; ++i) {
    int fds[] = {pipe.write.get()};
    std::span<const int> passed = i % 3 == 0 ? std::span<const int>(fds) : std::span<const int>();
    REQUIRE(ipc::send_message(channel.a.get(), as_bytes("message " + std::to_string(i)), passed) == IoResult::ok);
  }
  ipc::MessageReader reader;
  for (size_t i = 0; i < kSent; ++i) {
    CAPTURE(i);
    REQUIRE(result_name(reader.next(channel.b.get())) == std::string("ok"));
    CHECK(as_string(reader.bytes()) == "message " + std::to_string(i));
    REQUIRE(reader.fds().size() == (i % 3 == 0 ? 1u : 0u));
    if (i % 3 == 0) CHECK((fcntl(reader.fds()[0].get(), F_GETFD) & FD_CLOEXEC) != 0);
    // Within a full batch, the rest is already read from the kernel.
    CHECK(reader.pending() == (i % ipc::MessageReader::kBatch != ipc::MessageReader::kBatch - 1 && i + 1 < kSent));
  }
  CHECK(result_name(reader.next(channel.b.get())) == std::string("would_block"));
}

TEST_CASE("MessageReader: after a short batch, would_block comes without asking the kernel") {
  auto channel = make_channel();
  ipc::MessageReader reader;
  CHECK(result_name(reader.next(channel.b.get())) == std::string("would_block"));
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("one")) == IoResult::ok);
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("two")) == IoResult::ok);
  REQUIRE(reader.next(channel.b.get()) == IoResult::ok);
  CHECK(as_string(reader.bytes()) == "one");
  REQUIRE(reader.next(channel.b.get()) == IoResult::ok);
  CHECK(as_string(reader.bytes()) == "two");
  CHECK_FALSE(reader.pending());
  // Arrived after the batch: this wake-up ends here (the level-triggered poll
  // reports it again), and the next call reads it.
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("three")) == IoResult::ok);
  CHECK(result_name(reader.next(channel.b.get())) == std::string("would_block"));
  REQUIRE(result_name(reader.next(channel.b.get())) == std::string("ok"));
  CHECK(as_string(reader.bytes()) == "three");
}

TEST_CASE("MessageReader: a bad message inside a batch is an error of its own; the others arrive") {
  auto channel = make_channel();
  std::vector<Pipe> pipes;
  std::vector<int> write_ends;
  for (size_t i = 0; i < kMaxFdsPerMessage + 2; ++i) {
    pipes.push_back(make_pipe());
    write_ends.push_back(pipes.back().write.get());
  }
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("before")) == IoResult::ok);
  auto payload = as_bytes("too many fds");
  REQUIRE(raw_send(channel.a.get(), payload, write_ends) == static_cast<ssize_t>(payload.size()));
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("after")) == IoResult::ok);
  for (auto& p : pipes) p.write.reset();

  ipc::MessageReader reader;
  REQUIRE(reader.next(channel.b.get()) == IoResult::ok);
  CHECK(as_string(reader.bytes()) == "before");
  int error = 0;
  CHECK(result_name(reader.next(channel.b.get(), &error)) == std::string("error"));
  CHECK(error == EMSGSIZE);
  CHECK(reader.fds().empty());
  for (auto& p : pipes) CHECK(read_some(p.read.get()).empty());  // no fd leaked
  REQUIRE(reader.next(channel.b.get()) == IoResult::ok);
  CHECK(as_string(reader.bytes()) == "after");
}

TEST_CASE("MessageReader: a closed peer reads as closed after its pending messages") {
  auto channel = make_channel();
  REQUIRE(ipc::send_message(channel.a.get(), as_bytes("last words")) == IoResult::ok);
  channel.a.reset();
  ipc::MessageReader reader;
  REQUIRE(reader.next(channel.b.get()) == IoResult::ok);
  CHECK(as_string(reader.bytes()) == "last words");
  IoResult result = reader.next(channel.b.get());
  if (result == IoResult::would_block) result = reader.next(channel.b.get());  // the batch was short
  CHECK(result_name(result) == std::string("closed"));
}

TEST_CASE("MessageReader: reset forgets what it read from a channel that is gone") {
  // A reader kept across channels (the store's control channel, when the
  // store restarts): what it held from the old one must not be delivered as
  // if the new one had said it. A closed peer can fill a whole batch with
  // ends of stream.
  auto old_channel = make_channel();
  REQUIRE(ipc::send_message(old_channel.a.get(), as_bytes("from the old store")) == IoResult::ok);
  old_channel.a.reset();
  ipc::MessageReader reader;
  REQUIRE(reader.next(old_channel.b.get()) == IoResult::ok);
  IoResult result = reader.next(old_channel.b.get());
  if (result == IoResult::would_block) result = reader.next(old_channel.b.get());
  REQUIRE(result_name(result) == std::string("closed"));
  CHECK(reader.pending());  // more ends of stream, from the old channel
  reader.reset();
  CHECK_FALSE(reader.pending());

  auto new_channel = make_channel();
  CHECK(result_name(reader.next(new_channel.b.get())) == std::string("would_block"));
  REQUIRE(ipc::send_message(new_channel.a.get(), as_bytes("from the new store")) == IoResult::ok);
  REQUIRE(reader.next(new_channel.b.get()) == IoResult::ok);
  CHECK(as_string(reader.bytes()) == "from the new store");
}
