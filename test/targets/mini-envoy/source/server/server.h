#pragma once

#include <memory>

#include "source/server/admin/admin.h"
#include "source/server/listener_manager_impl.h"
#include "source/server/options_impl.h"

namespace Envoy {
namespace Server {

class InstanceImpl {
public:
  explicit InstanceImpl(const OptionsImpl& options);
  ~InstanceImpl();
  void initialize(const OptionsImpl& options);
  void run();

private:
  void printReadyLine();

  const OptionsImpl& options_;
  Stats::StoreImpl stats_;
  std::unique_ptr<Event::DispatcherImpl> dispatcher_;
  std::unique_ptr<ConnectionHandlerImpl> handler_;
  std::unique_ptr<ListenerManagerImpl> listener_manager_;
  std::unique_ptr<AdminImpl> admin_;
};

} // namespace Server
} // namespace Envoy
