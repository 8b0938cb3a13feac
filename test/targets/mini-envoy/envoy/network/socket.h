#pragma once

#include <memory>
#include <vector>

#include "envoy/common/pure.h"
#include "envoy/network/address.h"
#include "envoy/network/io_handle.h"

namespace Envoy {
namespace Network {

class Socket {
public:
  enum class Type { Stream, Datagram };

  // A socket option and the point of the socket's life where it is applied.
  struct Option {
    enum class State { Prebind, Bound, Listening };
    int level;
    int name;
    int value;
    State state;
  };
  using Options = std::vector<Option>;
  using OptionsSharedPtr = std::shared_ptr<const Options>;

  virtual ~Socket() = default;
  virtual IoHandle& ioHandle() PURE;
  virtual const Address::InstanceConstSharedPtr& localAddress() const PURE;
  virtual Api::SysCallIntResult bind(Address::InstanceConstSharedPtr address) PURE;
  virtual void close() PURE;
};

using SocketPtr = std::unique_ptr<Socket>;
using SocketSharedPtr = std::shared_ptr<Socket>;

} // namespace Network
} // namespace Envoy
