#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "envoy/common/pure.h"

namespace Envoy {
namespace Network {
namespace Address {

class Instance {
public:
  virtual ~Instance() = default;
  virtual const sockaddr* sockAddr() const PURE;
  virtual socklen_t sockAddrLen() const PURE;
  virtual int family() const PURE;
  // "127.0.0.1:10000" or "[::1]:10000", as Envoy prints addresses.
  virtual std::string asString() const PURE;
  virtual std::string ip() const PURE;
  virtual uint32_t port() const PURE;
};

using InstanceConstSharedPtr = std::shared_ptr<const Instance>;

} // namespace Address
} // namespace Network
} // namespace Envoy
