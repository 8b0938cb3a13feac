#include "source/common/network/io_socket_handle_impl.h"

#include "source/common/api/os_sys_calls_impl.h"

namespace Envoy {
namespace Network {

IoSocketHandleImpl::~IoSocketHandleImpl() {
  if (fd_ != -1) {
    close();
  }
}

Api::SysCallIntResult IoSocketHandleImpl::bind(Address::InstanceConstSharedPtr address) {
  return Api::OsSysCallsSingleton::get().bind(fd_, address->sockAddr(), address->sockAddrLen());
}

Api::SysCallIntResult IoSocketHandleImpl::listen(int backlog) {
  return Api::OsSysCallsSingleton::get().listen(fd_, backlog);
}

IoHandlePtr IoSocketHandleImpl::duplicate() {
  const auto result = Api::OsSysCallsSingleton::get().duplicate(fd_);
  if (result.return_value_ == -1) {
    return nullptr;
  }
  return std::make_unique<IoSocketHandleImpl>(result.return_value_);
}

IoHandlePtr IoSocketHandleImpl::accept(sockaddr* addr, socklen_t* addrlen) {
  const auto result = Api::OsSysCallsSingleton::get().accept(fd_, addr, addrlen);
  if (result.return_value_ == -1) {
    return nullptr;
  }
  return std::make_unique<IoSocketHandleImpl>(result.return_value_);
}

Api::SysCallIntResult IoSocketHandleImpl::setOption(int level, int optname, const void* optval,
                                                    socklen_t optlen) {
  return Api::OsSysCallsSingleton::get().setsockopt(fd_, level, optname, optval, optlen);
}

Api::SysCallIntResult IoSocketHandleImpl::close() {
  const auto result = Api::OsSysCallsSingleton::get().close(fd_);
  fd_ = -1;
  return result;
}

} // namespace Network
} // namespace Envoy
