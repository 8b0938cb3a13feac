#pragma once

#include "envoy/common/pure.h"
#include "source/common/network/listen_socket_impl.h"

namespace Envoy {
namespace Network {

class TcpListenerCallbacks {
public:
  virtual ~TcpListenerCallbacks() = default;
  virtual void onAccept(ConnectionSocketPtr&& socket) PURE;
};

} // namespace Network
} // namespace Envoy
