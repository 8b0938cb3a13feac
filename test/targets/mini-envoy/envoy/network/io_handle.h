#pragma once

#include <sys/socket.h>

#include <memory>

#include "envoy/api/os_sys_calls.h"
#include "envoy/common/pure.h"
#include "envoy/network/address.h"

namespace Envoy {
namespace Network {

class IoHandle;
using IoHandlePtr = std::unique_ptr<IoHandle>;

class IoHandle {
public:
  virtual ~IoHandle() = default;
  virtual int fdDoNotUse() const PURE;
  virtual bool isOpen() const PURE;
  virtual Api::SysCallIntResult bind(Address::InstanceConstSharedPtr address) PURE;
  virtual Api::SysCallIntResult listen(int backlog) PURE;
  virtual IoHandlePtr duplicate() PURE;
  // Returns nullptr when nothing is pending (EAGAIN) or on error.
  virtual IoHandlePtr accept(sockaddr* addr, socklen_t* addrlen) PURE;
  virtual Api::SysCallIntResult setOption(int level, int optname, const void* optval,
                                          socklen_t optlen) PURE;
  virtual Api::SysCallIntResult close() PURE;
};

} // namespace Network
} // namespace Envoy
