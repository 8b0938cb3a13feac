#pragma once

#include <sys/socket.h>

#include "envoy/common/pure.h"

namespace Envoy {
namespace Api {

struct SysCallIntResult {
  int return_value_;
  int errno_;
};

// The syscall layer: every socket syscall of the process goes through it, as in Envoy. It is
// also why frame-pointer stacks at a syscall tracepoint skip one frame (OsSysCallsImpl::x calls
// a libc wrapper that sets up no frame).
class OsSysCalls {
public:
  virtual ~OsSysCalls() = default;
  virtual SysCallIntResult socket(int domain, int type, int protocol) PURE;
  virtual SysCallIntResult bind(int sockfd, const sockaddr* addr, socklen_t addrlen) PURE;
  virtual SysCallIntResult listen(int sockfd, int backlog) PURE;
  virtual SysCallIntResult setsockopt(int sockfd, int level, int optname, const void* optval,
                                      socklen_t optlen) PURE;
  virtual SysCallIntResult duplicate(int oldfd) PURE;
  virtual SysCallIntResult accept(int sockfd, sockaddr* addr, socklen_t* addrlen) PURE;
  virtual SysCallIntResult close(int fd) PURE;
};

} // namespace Api
} // namespace Envoy
