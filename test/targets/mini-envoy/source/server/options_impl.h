#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace Envoy {

class OptionsImpl {
public:
  // Throws std::invalid_argument with a message for the user on bad arguments.
  OptionsImpl(int argc, char** argv);
  static std::string usage();

  std::string admin_address_{"127.0.0.1"};
  uint32_t admin_port_{0};
  std::vector<std::string> listeners_;
  uint32_t concurrency_{2};
  bool reuse_port_{false};
  bool exact_balance_{false};
  bool help_{false};
};

} // namespace Envoy
