#include "source/common/api/os_sys_calls_impl.h"

#include <cerrno>
#include <unistd.h>

namespace Envoy {
namespace Api {

SysCallIntResult OsSysCallsImpl::socket(int domain, int type, int protocol) {
  const int rc = ::socket(domain, type, protocol);
  return {rc, rc != -1 ? 0 : errno};
}

SysCallIntResult OsSysCallsImpl::bind(int sockfd, const sockaddr* addr, socklen_t addrlen) {
  const int rc = ::bind(sockfd, addr, addrlen);
  return {rc, rc != -1 ? 0 : errno};
}

SysCallIntResult OsSysCallsImpl::listen(int sockfd, int backlog) {
  const int rc = ::listen(sockfd, backlog);
  return {rc, rc != -1 ? 0 : errno};
}

SysCallIntResult OsSysCallsImpl::setsockopt(int sockfd, int level, int optname,
                                            const void* optval, socklen_t optlen) {
  const int rc = ::setsockopt(sockfd, level, optname, optval, optlen);
  return {rc, rc != -1 ? 0 : errno};
}

SysCallIntResult OsSysCallsImpl::duplicate(int oldfd) {
  const int rc = ::dup(oldfd);
  return {rc, rc != -1 ? 0 : errno};
}

SysCallIntResult OsSysCallsImpl::accept(int sockfd, sockaddr* addr, socklen_t* addrlen) {
  const int rc = ::accept4(sockfd, addr, addrlen, SOCK_CLOEXEC | SOCK_NONBLOCK);
  return {rc, rc != -1 ? 0 : errno};
}

SysCallIntResult OsSysCallsImpl::close(int fd) {
  const int rc = ::close(fd);
  return {rc, rc != -1 ? 0 : errno};
}

OsSysCalls& OsSysCallsSingleton::get() {
  static OsSysCallsImpl instance;
  return instance;
}

} // namespace Api
} // namespace Envoy
