#include "source/exe/main_common.h"

#include <signal.h>

#include <cstdio>
#include <stdexcept>

#include "source/server/server.h"

namespace Envoy {

int MainCommon::main(int argc, char** argv) {
  std::unique_ptr<OptionsImpl> options;
  try {
    options = std::make_unique<OptionsImpl>(argc, argv);
  } catch (const std::invalid_argument& e) {
    fprintf(stderr, "envoy: %s\n%s", e.what(), OptionsImpl::usage().c_str());
    return 2;
  }
  if (options->help_) {
    fputs(OptionsImpl::usage().c_str(), stdout);
    return 0;
  }
  // Blocked before any thread starts, so every thread inherits the mask and only the main
  // dispatcher's signalfd sees SIGTERM/SIGINT.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  try {
    Server::InstanceImpl server(*options);
    server.run();
  } catch (const std::exception& e) {
    fprintf(stderr, "envoy: %s\n", e.what());
    return 1;
  }
  return 0;
}

} // namespace Envoy
