#include "source/common/network/connection_balancer_impl.h"

#include <algorithm>

namespace Envoy {
namespace Network {

void ExactConnectionBalancerImpl::registerHandler(BalancedConnectionHandler& handler) {
  std::lock_guard<std::mutex> lock(lock_);
  handlers_.push_back(&handler);
}

void ExactConnectionBalancerImpl::unregisterHandler(BalancedConnectionHandler& handler) {
  std::lock_guard<std::mutex> lock(lock_);
  handlers_.erase(std::remove(handlers_.begin(), handlers_.end(), &handler), handlers_.end());
}

BalancedConnectionHandler&
ExactConnectionBalancerImpl::balanceConnection(ConnectionSocketPtr& socket,
                                               BalancedConnectionHandler& current_handler) {
  std::lock_guard<std::mutex> lock(lock_);
  BalancedConnectionHandler* target = &current_handler;
  uint64_t fewest = UINT64_MAX;
  for (auto* handler : handlers_) {
    const uint64_t connections = handler->numConnections();
    if (connections < fewest) {
      fewest = connections;
      target = handler;
    }
  }
  target->incNumConnections();
  if (target != &current_handler) {
    target->post(std::move(socket));
  }
  return *target;
}

BalancedConnectionHandler&
NopConnectionBalancerImpl::balanceConnection(ConnectionSocketPtr&,
                                             BalancedConnectionHandler& current_handler) {
  current_handler.incNumConnections();
  return current_handler;
}

} // namespace Network
} // namespace Envoy
