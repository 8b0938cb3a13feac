#pragma once

#include <mutex>
#include <vector>

#include "envoy/network/connection_balancer.h"

namespace Envoy {
namespace Network {

// connection_balance_config.exact_balance: under one lock per listener, the handler with the
// fewest connections (the first registered on a tie) gets the connection. The accepting worker
// keeps doing the accept4() itself; only the ownership moves. "Nearly" exact: a connection that
// closes meanwhile makes a count stale until the next pick.
class ExactConnectionBalancerImpl : public ConnectionBalancer {
public:
  void registerHandler(BalancedConnectionHandler& handler) override;
  void unregisterHandler(BalancedConnectionHandler& handler) override;
  BalancedConnectionHandler& balanceConnection(ConnectionSocketPtr& socket,
                                               BalancedConnectionHandler& current_handler) override;

private:
  // Also held while posting, so a handler that unregisters (its worker stopping) is never
  // posted to once it is gone.
  std::mutex lock_;
  std::vector<BalancedConnectionHandler*> handlers_;
};

// No connection_balance_config: the worker that accepted owns the connection.
class NopConnectionBalancerImpl : public ConnectionBalancer {
public:
  void registerHandler(BalancedConnectionHandler&) override {}
  void unregisterHandler(BalancedConnectionHandler&) override {}
  BalancedConnectionHandler& balanceConnection(ConnectionSocketPtr& socket,
                                               BalancedConnectionHandler& current_handler) override;
};

} // namespace Network
} // namespace Envoy
