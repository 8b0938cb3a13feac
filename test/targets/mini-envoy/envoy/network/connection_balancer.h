#pragma once

#include <cstdint>
#include <memory>

#include "envoy/common/pure.h"
#include "source/common/network/listen_socket_impl.h"

namespace Envoy {
namespace Network {

// One worker's share of a listener, as a balancer sees it.
class BalancedConnectionHandler {
public:
  virtual ~BalancedConnectionHandler() = default;
  // Connections this handler owns now (counted from the pick until the connection closes).
  virtual uint64_t numConnections() const PURE;
  // Called by the balancer, under its lock, for the handler it picks.
  virtual void incNumConnections() PURE;
  // Hands an accepted socket to this handler's own thread, which then owns the connection.
  virtual void post(ConnectionSocketPtr&& socket) PURE;
};

// Decides which worker owns a connection that one worker accepted.
class ConnectionBalancer {
public:
  virtual ~ConnectionBalancer() = default;
  virtual void registerHandler(BalancedConnectionHandler& handler) PURE;
  virtual void unregisterHandler(BalancedConnectionHandler& handler) PURE;
  // Picks the owner and counts the connection for it. When the owner is not current_handler,
  // the socket has been posted to it and is gone from `socket`; otherwise `socket` is untouched
  // and the caller keeps the connection.
  virtual BalancedConnectionHandler& balanceConnection(ConnectionSocketPtr& socket,
                                                       BalancedConnectionHandler& current_handler) PURE;
};

using ConnectionBalancerSharedPtr = std::shared_ptr<ConnectionBalancer>;

} // namespace Network
} // namespace Envoy
