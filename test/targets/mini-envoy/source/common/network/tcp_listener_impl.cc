#include "source/common/network/tcp_listener_impl.h"

#include <cstring>

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/address_impl.h"

namespace Envoy {
namespace Network {

TcpListenerImpl::TcpListenerImpl(Event::DispatcherImpl& dispatcher, SocketSharedPtr socket,
                                 TcpListenerCallbacks& cb, bool bind_to_port, bool listen_needed,
                                 uint32_t backlog_size)
    : socket_(std::move(socket)), cb_(cb), backlog_size_(backlog_size) {
  if (bind_to_port) {
    if (listen_needed) {
      setupServerSocket(dispatcher, *socket_);
    }
    file_event_ = dispatcher.createFileEvent(
        socket_->ioHandle().fdDoNotUse(), [this](uint32_t events) { onSocketEvent(events); },
        Event::FileReadyType::Read);
  }
}

void TcpListenerImpl::setupServerSocket(Event::DispatcherImpl&, Socket& socket) {
  const auto result = socket.ioHandle().listen(backlog_size_);
  if (result.return_value_ != 0) {
    throw CreateListenerException("cannot listen on socket: " + socket.localAddress()->asString() +
                                  ": " + strerror(result.errno_));
  }
}

void TcpListenerImpl::onSocketEvent(short) {
  // Every worker's epoll sees the shared accept queue: drain it until EAGAIN.
  for (;;) {
    sockaddr_storage remote{};
    socklen_t remote_len = sizeof(remote);
    IoHandlePtr handle =
        socket_->ioHandle().accept(reinterpret_cast<sockaddr*>(&remote), &remote_len);
    if (handle == nullptr) {
      return;
    }
    const int fd = handle->fdDoNotUse();
    cb_.onAccept(std::make_unique<ConnectionSocketImpl>(std::move(handle),
                                                        Address::addressFromFd(fd)));
  }
}

} // namespace Network
} // namespace Envoy
