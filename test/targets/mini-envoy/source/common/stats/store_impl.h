#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace Envoy {
namespace Stats {

// Counters and gauges by name, shared by all threads (a mutex is plenty for a test target).
class StoreImpl {
public:
  void add(const std::string& name, int64_t delta);
  void set(const std::string& name, int64_t value);
  std::map<std::string, int64_t> snapshot();

private:
  std::mutex lock_;
  std::map<std::string, int64_t> values_;
};

// "127.0.0.1:10000" -> "127.0.0.1_10000", as Envoy sanitizes stat names.
std::string sanitizeStatName(const std::string& name);

} // namespace Stats
} // namespace Envoy
