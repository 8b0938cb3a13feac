#include "source/common/network/connection_impl.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace Envoy {
namespace Network {

ConnectionImpl::ConnectionImpl(Event::DispatcherImpl& dispatcher, ConnectionSocketPtr&& socket,
                               ReadFilter filter, std::function<void(ConnectionImpl&)> on_close)
    : dispatcher_(dispatcher), socket_(std::move(socket)), filter_(std::move(filter)),
      on_close_(std::move(on_close)) {
  // Envoy turns Nagle off on every accepted connection.
  noDelay(true);
  file_event_ = dispatcher_.createFileEvent(
      socket_->ioHandle().fdDoNotUse(), [this](uint32_t events) { onFileEvent(events); },
      Event::FileReadyType::Read);
}

void ConnectionImpl::noDelay(bool enable) {
  const int value = enable ? 1 : 0;
  socket_->ioHandle().setOption(IPPROTO_TCP, TCP_NODELAY, &value, sizeof(value));
}

void ConnectionImpl::write(const std::string& data) {
  const int fd = socket_->ioHandle().fdDoNotUse();
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::send(fd, data.data() + written, data.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, 1000);
    } else {
      return;
    }
  }
}

void ConnectionImpl::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  // Unregister before close(): the fd number may be reused by the next accept at once.
  file_event_->setEnabled(0);
  socket_->close();
  on_close_(*this);
}

void ConnectionImpl::onFileEvent(uint32_t events) {
  if (events & Event::FileReadyType::Read) {
    onReadReady();
  }
}

void ConnectionImpl::onReadReady() {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(socket_->ioHandle().fdDoNotUse(), buf, sizeof(buf));
    if (n > 0) {
      read_buffer_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      break;
    }
    close(); // EOF or error
    return;
  }
  if (filter_ && filter_(*this, read_buffer_)) {
    close();
  }
}

} // namespace Network
} // namespace Envoy
