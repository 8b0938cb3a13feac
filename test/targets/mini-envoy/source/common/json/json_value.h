#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace Envoy {
namespace Json {

// A JSON document kept in insertion order: an admin answer is built as a tree so that a field
// mask can trim it before it is printed (proto3 JSON prints fields in declaration order).
class Value {
public:
  enum class Type { Null, Bool, Number, String, Object, Array };

  Value() = default;
  static Value boolean(bool value);
  static Value number(int64_t value);
  static Value string(const std::string& value);
  static Value object();
  static Value array();

  // Object: adds a member (the caller keeps keys unique). Array: appends an element.
  Value& set(const std::string& key, Value value);
  Value& push(Value value);

  Type type() const { return type_; }
  // Object members: keys()[i] names children()[i]. Array elements: children().
  const std::vector<std::string>& keys() const { return keys_; }
  std::vector<Value>& children() { return children_; }
  const std::vector<Value>& children() const { return children_; }
  // Object: the member named key, or nullptr.
  const Value* find(const std::string& key) const;
  // Object: drops the members for which keep(key, value) returns false (value may be changed).
  template <typename Keep> void retain(Keep keep) {
    std::vector<std::string> keys;
    std::vector<Value> children;
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (keep(keys_[i], children_[i])) {
        keys.push_back(std::move(keys_[i]));
        children.push_back(std::move(children_[i]));
      }
    }
    keys_.swap(keys);
    children_.swap(children);
  }

  std::string toString() const;

private:
  void print(std::string& out) const;

  Type type_{Type::Null};
  bool bool_{false};
  int64_t number_{0};
  std::string string_;
  std::vector<std::string> keys_;
  std::vector<Value> children_;
};

// The body of a JSON string for `in` (quotes, backslashes and control characters escaped).
std::string escape(const std::string& in);

} // namespace Json
} // namespace Envoy
