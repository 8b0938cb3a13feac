#include "source/server/server.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "source/common/network/address_impl.h"

namespace Envoy {
namespace Server {

InstanceImpl::InstanceImpl(const OptionsImpl& options) : options_(options) {
  dispatcher_ = std::make_unique<Event::DispatcherImpl>("main_thread");
  handler_ = std::make_unique<ConnectionHandlerImpl>(*dispatcher_, 0, "main_thread", stats_);
  listener_manager_ = std::make_unique<ListenerManagerImpl>(*dispatcher_, stats_,
                                                            options.concurrency_, options.reuse_port_,
                                                            options.exact_balance_);
  initialize(options);
}

InstanceImpl::~InstanceImpl() {
  listener_manager_->stopWorkers();
  handler_.reset();
  if (admin_ != nullptr) {
    admin_->closeSocket();
  }
}

void InstanceImpl::initialize(const OptionsImpl& options) {
  const std::string version =
      std::string("0000000000000000000000000000000000000000/") +
      (options.reuse_port_ ? "1.20.0" : "1.19.1") + "/Clean/DEBUG/BoringSSL";
  admin_ = std::make_unique<AdminImpl>(AdminContext{*listener_manager_, stats_, options.concurrency_,
                                                    options.reuse_port_, version});
  admin_->startHttpListener(Network::Address::parseInternetAddressAndPort(
      (options.admin_address_.find(':') != std::string::npos ? "[" + options.admin_address_ + "]"
                                                              : options.admin_address_) +
      ":" + std::to_string(options.admin_port_)));
  // As if from LDS (config_dump lists them under dynamic_listeners, as Istio's are).
  for (const auto& listener : options.listeners_) {
    listener_manager_->addOrUpdateListener(Network::Address::parseInternetAddressAndPort(listener),
                                           "mini-envoy/1", true);
  }
  // The admin listener listens on the main thread, never on a worker.
  admin_->addListenerToHandler(handler_.get());
  stats_.set("server.concurrency", options.concurrency_);
}

void InstanceImpl::printReadyLine() {
  std::ostringstream out;
  out << "{\"ready\":true,\"pid\":" << getpid() << ",\"admin\":{\"address\":\""
      << admin_->localAddress()->ip() << "\",\"port\":" << admin_->localAddress()->port()
      << "},\"listeners\":[";
  const auto& listeners = listener_manager_->listeners();
  for (size_t i = 0; i < listeners.size(); ++i) {
    const auto& address = listeners[i]->listenSocketFactory().localAddress();
    out << (i ? "," : "") << "{\"name\":\"" << listeners[i]->name() << "\",\"address\":\""
        << address->ip() << "\",\"port\":" << address->port() << "}";
  }
  out << "],\"concurrency\":" << options_.concurrency_
      << ",\"reuse_port\":" << (options_.reuse_port_ ? "true" : "false")
      << ",\"exact_balance\":" << (options_.exact_balance_ ? "true" : "false") << "}\n";
  const std::string line = out.str();
  fwrite(line.data(), 1, line.size(), stdout);
  fflush(stdout);
}

void InstanceImpl::run() {
  dispatcher_->listenForSignal(SIGTERM, [this]() { dispatcher_->exit(); });
  dispatcher_->listenForSignal(SIGINT, [this]() { dispatcher_->exit(); });
  listener_manager_->startWorkers([this]() { printReadyLine(); });
  dispatcher_->run(Event::Dispatcher::RunType::Block);
}

} // namespace Server
} // namespace Envoy
