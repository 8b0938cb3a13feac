#pragma once

#include "envoy/network/io_handle.h"

namespace Envoy {
namespace Network {

class IoSocketHandleImpl : public IoHandle {
public:
  explicit IoSocketHandleImpl(int fd) : fd_(fd) {}
  ~IoSocketHandleImpl() override;

  int fdDoNotUse() const override { return fd_; }
  bool isOpen() const override { return fd_ != -1; }
  Api::SysCallIntResult bind(Address::InstanceConstSharedPtr address) override;
  Api::SysCallIntResult listen(int backlog) override;
  IoHandlePtr duplicate() override;
  IoHandlePtr accept(sockaddr* addr, socklen_t* addrlen) override;
  Api::SysCallIntResult setOption(int level, int optname, const void* optval,
                                  socklen_t optlen) override;
  Api::SysCallIntResult close() override;

private:
  int fd_;
};

} // namespace Network
} // namespace Envoy
