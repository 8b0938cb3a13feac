#include "source/common/network/listen_socket_impl.h"

#include <cstring>

#include "source/common/api/os_sys_calls_impl.h"
#include "source/common/network/address_impl.h"

namespace Envoy {
namespace Network {

IoHandlePtr socketForAddress(const Address::InstanceConstSharedPtr& address, int type) {
  const auto result =
      Api::OsSysCallsSingleton::get().socket(address->family(), type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (result.return_value_ == -1) {
    throw CreateListenerException(std::string("socket() failed: ") + strerror(result.errno_));
  }
  return std::make_unique<IoSocketHandleImpl>(result.return_value_);
}

SocketImpl::SocketImpl(IoHandlePtr&& io_handle, const Address::InstanceConstSharedPtr& local_address)
    : io_handle_(std::move(io_handle)), local_address_(local_address) {}

Api::SysCallIntResult SocketImpl::bind(Address::InstanceConstSharedPtr address) {
  const auto result = io_handle_->bind(address);
  if (result.return_value_ == 0) {
    // Port 0 asks the kernel for a port: remember the one it chose.
    local_address_ = Address::addressFromFd(io_handle_->fdDoNotUse());
  }
  return result;
}

void SocketImpl::close() {
  if (io_handle_->isOpen()) {
    io_handle_->close();
  }
}

bool SocketImpl::applyOptions(const Socket::Options& options, Socket::Option::State state) {
  for (const auto& option : options) {
    if (option.state != state) {
      continue;
    }
    const int value = option.value;
    if (io_handle_->setOption(option.level, option.name, &value, sizeof(value)).return_value_ != 0) {
      return false;
    }
  }
  return true;
}

Api::SysCallIntResult ListenSocketImpl::bind(Address::InstanceConstSharedPtr address) {
  const auto result = SocketImpl::bind(address);
  if (result.return_value_ == -1) {
    throw CreateListenerException("cannot bind '" + address->asString() +
                                  "': " + strerror(result.errno_));
  }
  return result;
}

SocketSharedPtr ListenSocketImpl::duplicate() {
  IoHandlePtr handle = io_handle_->duplicate();
  if (handle == nullptr) {
    throw CreateListenerException("dup() of a listen socket failed");
  }
  return std::make_shared<ListenSocketImpl>(std::move(handle), local_address_);
}

void ListenSocketImpl::setupSocket(const Socket::OptionsSharedPtr& options, bool bind_to_port) {
  if (options != nullptr && !applyOptions(*options, Socket::Option::State::Prebind)) {
    throw CreateListenerException("cannot set pre-bind socket options");
  }
  if (bind_to_port) {
    bind(local_address_);
    if (options != nullptr && !applyOptions(*options, Socket::Option::State::Bound)) {
      throw CreateListenerException("cannot set bound socket options");
    }
  }
}

} // namespace Network
} // namespace Envoy
