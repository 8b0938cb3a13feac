#pragma once

#include "envoy/api/os_sys_calls.h"

namespace Envoy {
namespace Api {

class OsSysCallsImpl : public OsSysCalls {
public:
  SysCallIntResult socket(int domain, int type, int protocol) override;
  SysCallIntResult bind(int sockfd, const sockaddr* addr, socklen_t addrlen) override;
  SysCallIntResult listen(int sockfd, int backlog) override;
  SysCallIntResult setsockopt(int sockfd, int level, int optname, const void* optval,
                              socklen_t optlen) override;
  SysCallIntResult duplicate(int oldfd) override;
  SysCallIntResult accept(int sockfd, sockaddr* addr, socklen_t* addrlen) override;
  SysCallIntResult close(int fd) override;
};

// Envoy reaches the syscall layer through a singleton too.
class OsSysCallsSingleton {
public:
  static OsSysCalls& get();
};

} // namespace Api
} // namespace Envoy
