#include "source/server/listener_impl.h"

#include <cstring>

#include "source/common/network/address_impl.h"

namespace Envoy {
namespace Server {

ListenSocketFactoryImpl::ListenSocketFactoryImpl(
    const Network::Address::InstanceConstSharedPtr& address, SocketLayout layout,
    uint32_t concurrency)
    : layout_(layout) {
  sockets_.push_back(createListenSocketAndApplyOptions(address));
  if (layout_ == SocketLayout::ReusePort) {
    // Port 0: the other workers' sockets join the port the kernel gave the first one.
    const auto bound = sockets_[0]->localAddress();
    for (uint32_t i = 1; i < concurrency; ++i) {
      sockets_.push_back(createListenSocketAndApplyOptions(bound));
    }
  }
}

Network::SocketSharedPtr ListenSocketFactoryImpl::createListenSocketAndApplyOptions(
    const Network::Address::InstanceConstSharedPtr& address) {
  auto options = std::make_shared<Network::Socket::Options>();
  options->push_back({SOL_SOCKET, SO_REUSEADDR, 1, Network::Socket::Option::State::Prebind});
  if (layout_ == SocketLayout::ReusePort) {
    options->push_back({SOL_SOCKET, SO_REUSEPORT, 1, Network::Socket::Option::State::Prebind});
  }
  return std::make_shared<Network::TcpListenSocket>(address, options, true);
}

Network::SocketSharedPtr ListenSocketFactoryImpl::getListenSocket(uint32_t worker_index) {
  switch (layout_) {
  case SocketLayout::Shared:
    return sockets_[0];
  case SocketLayout::DuplicatePerWorker:
    return static_cast<Network::ListenSocketImpl&>(*sockets_[0]).duplicate();
  case SocketLayout::ReusePort:
    return sockets_.at(worker_index);
  }
  return nullptr;
}

void ListenSocketFactoryImpl::doFinalPreWorkerInit() {
  if (layout_ != SocketLayout::ReusePort) {
    return;
  }
  for (auto& socket : sockets_) {
    const auto result = socket->ioHandle().listen(128);
    if (result.return_value_ != 0) {
      throw Network::CreateListenerException("cannot listen on " +
                                             socket->localAddress()->asString() + ": " +
                                             strerror(result.errno_));
    }
  }
}

const Network::Address::InstanceConstSharedPtr& ListenSocketFactoryImpl::localAddress() const {
  return sockets_[0]->localAddress();
}

void ListenSocketFactoryImpl::closeAllSockets() {
  for (auto& socket : sockets_) {
    socket->close();
  }
}

} // namespace Server
} // namespace Envoy
