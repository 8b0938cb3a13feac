#pragma once

#include <stdexcept>
#include <string>

#include "envoy/network/socket.h"
#include "source/common/network/io_socket_handle_impl.h"

namespace Envoy {
namespace Network {

class SocketImpl : public Socket {
public:
  SocketImpl(IoHandlePtr&& io_handle, const Address::InstanceConstSharedPtr& local_address);
  IoHandle& ioHandle() override { return *io_handle_; }
  const Address::InstanceConstSharedPtr& localAddress() const override { return local_address_; }
  Api::SysCallIntResult bind(Address::InstanceConstSharedPtr address) override;
  void close() override;
  bool applyOptions(const Socket::Options& options, Socket::Option::State state);

protected:
  IoHandlePtr io_handle_;
  Address::InstanceConstSharedPtr local_address_;
};

class ListenSocketImpl : public SocketImpl {
public:
  using SocketImpl::SocketImpl;
  Api::SysCallIntResult bind(Address::InstanceConstSharedPtr address) override;
  // Another socket on the same open file (dup), as each worker gets in Envoy <= 1.19.
  SocketSharedPtr duplicate();

protected:
  void setupSocket(const Socket::OptionsSharedPtr& options, bool bind_to_port);
};

template <Socket::Type T> struct NetworkSocketTrait {};

template <> struct NetworkSocketTrait<Socket::Type::Stream> {
  static constexpr int type = SOCK_STREAM;
};

IoHandlePtr socketForAddress(const Address::InstanceConstSharedPtr& address, int type);

template <typename T> class NetworkListenSocket : public ListenSocketImpl {
public:
  NetworkListenSocket(const Address::InstanceConstSharedPtr& address,
                      const Socket::OptionsSharedPtr& options, bool bind_to_port)
      : ListenSocketImpl(socketForAddress(address, T::type), address) {
    setupSocket(options, bind_to_port);
  }
};

using TcpListenSocket = NetworkListenSocket<NetworkSocketTrait<Socket::Type::Stream>>;

class ConnectionSocketImpl : public SocketImpl {
public:
  using SocketImpl::SocketImpl;
};
using ConnectionSocketPtr = std::unique_ptr<ConnectionSocketImpl>;

class CreateListenerException : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

} // namespace Network
} // namespace Envoy
