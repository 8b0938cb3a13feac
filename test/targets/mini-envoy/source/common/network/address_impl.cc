#include "source/common/network/address_impl.h"

#include <arpa/inet.h>

#include <stdexcept>

namespace Envoy {
namespace Network {
namespace Address {

Ipv4Instance::Ipv4Instance(const std::string& address, uint32_t port) {
  address_.sin_family = AF_INET;
  address_.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.c_str(), &address_.sin_addr) != 1) {
    throw std::invalid_argument("not an IPv4 address: " + address);
  }
}

Ipv4Instance::Ipv4Instance(const sockaddr_in& address) : address_(address) {}

std::string Ipv4Instance::ip() const {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &address_.sin_addr, buf, sizeof(buf));
  return buf;
}

uint32_t Ipv4Instance::port() const { return ntohs(address_.sin_port); }

std::string Ipv4Instance::asString() const { return ip() + ":" + std::to_string(port()); }

Ipv6Instance::Ipv6Instance(const std::string& address, uint32_t port) {
  address_.sin6_family = AF_INET6;
  address_.sin6_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET6, address.c_str(), &address_.sin6_addr) != 1) {
    throw std::invalid_argument("not an IPv6 address: " + address);
  }
}

Ipv6Instance::Ipv6Instance(const sockaddr_in6& address) : address_(address) {}

std::string Ipv6Instance::ip() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &address_.sin6_addr, buf, sizeof(buf));
  return buf;
}

uint32_t Ipv6Instance::port() const { return ntohs(address_.sin6_port); }

std::string Ipv6Instance::asString() const {
  return "[" + ip() + "]:" + std::to_string(port());
}

InstanceConstSharedPtr parseInternetAddressAndPort(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    throw std::invalid_argument("expected ADDRESS:PORT, got '" + text + "'");
  }
  const std::string port_text = text.substr(colon + 1);
  size_t used = 0;
  unsigned long port = 0;
  try {
    port = std::stoul(port_text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != port_text.size() || port > 65535) {
    throw std::invalid_argument("bad port in '" + text + "'");
  }
  std::string host = text.substr(0, colon);
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']') {
      throw std::invalid_argument("unterminated IPv6 address in '" + text + "'");
    }
    return std::make_shared<Ipv6Instance>(host.substr(1, host.size() - 2),
                                          static_cast<uint32_t>(port));
  }
  return std::make_shared<Ipv4Instance>(host, static_cast<uint32_t>(port));
}

InstanceConstSharedPtr addressFromFd(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    throw std::runtime_error("getsockname failed");
  }
  if (ss.ss_family == AF_INET6) {
    return std::make_shared<Ipv6Instance>(*reinterpret_cast<sockaddr_in6*>(&ss));
  }
  return std::make_shared<Ipv4Instance>(*reinterpret_cast<sockaddr_in*>(&ss));
}

} // namespace Address
} // namespace Network
} // namespace Envoy
