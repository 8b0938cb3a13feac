#pragma once

#include <string>

#include "envoy/network/address.h"

namespace Envoy {
namespace Network {
namespace Address {

class Ipv4Instance : public Instance {
public:
  Ipv4Instance(const std::string& address, uint32_t port);
  explicit Ipv4Instance(const sockaddr_in& address);
  const sockaddr* sockAddr() const override { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t sockAddrLen() const override { return sizeof(address_); }
  int family() const override { return AF_INET; }
  std::string asString() const override;
  std::string ip() const override;
  uint32_t port() const override;

private:
  sockaddr_in address_{};
};

class Ipv6Instance : public Instance {
public:
  Ipv6Instance(const std::string& address, uint32_t port);
  explicit Ipv6Instance(const sockaddr_in6& address);
  const sockaddr* sockAddr() const override { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t sockAddrLen() const override { return sizeof(address_); }
  int family() const override { return AF_INET6; }
  std::string asString() const override;
  std::string ip() const override;
  uint32_t port() const override;

private:
  sockaddr_in6 address_{};
};

// Parses "1.2.3.4:80" or "[::1]:80"; throws std::invalid_argument with a readable message.
InstanceConstSharedPtr parseInternetAddressAndPort(const std::string& text);
// The address a socket is bound to (resolves port 0 to the port the kernel chose).
InstanceConstSharedPtr addressFromFd(int fd);

} // namespace Address
} // namespace Network
} // namespace Envoy
