#include "source/common/stats/store_impl.h"

namespace Envoy {
namespace Stats {

void StoreImpl::add(const std::string& name, int64_t delta) {
  std::lock_guard<std::mutex> lock(lock_);
  values_[name] += delta;
}

void StoreImpl::set(const std::string& name, int64_t value) {
  std::lock_guard<std::mutex> lock(lock_);
  values_[name] = value;
}

std::map<std::string, int64_t> StoreImpl::snapshot() {
  std::lock_guard<std::mutex> lock(lock_);
  return values_;
}

std::string sanitizeStatName(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    if (c == ':') {
      c = '_';
    }
  }
  return out;
}

} // namespace Stats
} // namespace Envoy
