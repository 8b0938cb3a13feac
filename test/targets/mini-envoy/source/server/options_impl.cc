#include "source/server/options_impl.h"

#include <stdexcept>

namespace Envoy {
namespace {

uint32_t parseNumber(const std::string& flag, const std::string& value, uint32_t max) {
  size_t used = 0;
  unsigned long n = 0;
  try {
    n = std::stoul(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || n > max) {
    throw std::invalid_argument(flag + " expects a number from 0 to " + std::to_string(max) +
                                ", got '" + value + "'");
  }
  return static_cast<uint32_t>(n);
}

} // namespace

std::string OptionsImpl::usage() {
  return "usage: envoy [--admin-port PORT] [--admin-address IP] [--listener ADDR:PORT]...\n"
         "             [--concurrency N] [--reuse-port] [--exact-balance]\n"
         "  A small Envoy-shaped test target. Defaults: admin on 127.0.0.1 (free port), two\n"
         "  listeners on 127.0.0.1 (free ports), two workers, Envoy <= 1.19 socket layout\n"
         "  (dup per worker); --reuse-port gives the >= 1.20 layout (SO_REUSEPORT per worker).\n"
         "  --exact-balance: every listener has connection_balance_config.exact_balance (the\n"
         "  worker with the fewest connections owns each new one).\n"
         "  IPv6: --listener '[::1]:0'. Prints one JSON line on stdout when ready.\n";
}

OptionsImpl::OptionsImpl(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        throw std::invalid_argument(arg + " expects a value");
      }
      return argv[++i];
    };
    if (arg == "--admin-port") {
      admin_port_ = parseNumber(arg, value(), 65535);
    } else if (arg == "--admin-address") {
      admin_address_ = value();
    } else if (arg == "--listener") {
      listeners_.push_back(value());
    } else if (arg == "--concurrency") {
      concurrency_ = parseNumber(arg, value(), 64);
      if (concurrency_ == 0) {
        throw std::invalid_argument("--concurrency must be at least 1");
      }
    } else if (arg == "--reuse-port") {
      reuse_port_ = true;
    } else if (arg == "--exact-balance") {
      exact_balance_ = true;
    } else if (arg == "--help" || arg == "-h") {
      help_ = true;
    } else {
      throw std::invalid_argument("unknown argument '" + arg + "'");
    }
  }
  if (listeners_.empty()) {
    listeners_ = {"127.0.0.1:0", "127.0.0.1:0"};
  }
}

} // namespace Envoy
