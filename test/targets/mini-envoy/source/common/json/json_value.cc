#include "source/common/json/json_value.h"

#include <cstdio>

namespace Envoy {
namespace Json {

Value Value::boolean(bool value) {
  Value v;
  v.type_ = Type::Bool;
  v.bool_ = value;
  return v;
}

Value Value::number(int64_t value) {
  Value v;
  v.type_ = Type::Number;
  v.number_ = value;
  return v;
}

Value Value::string(const std::string& value) {
  Value v;
  v.type_ = Type::String;
  v.string_ = value;
  return v;
}

Value Value::object() {
  Value v;
  v.type_ = Type::Object;
  return v;
}

Value Value::array() {
  Value v;
  v.type_ = Type::Array;
  return v;
}

Value& Value::set(const std::string& key, Value value) {
  keys_.push_back(key);
  children_.push_back(std::move(value));
  return *this;
}

Value& Value::push(Value value) {
  children_.push_back(std::move(value));
  return *this;
}

const Value* Value::find(const std::string& key) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) {
      return &children_[i];
    }
  }
  return nullptr;
}

std::string Value::toString() const {
  std::string out;
  print(out);
  return out;
}

void Value::print(std::string& out) const {
  switch (type_) {
  case Type::Null:
    out += "null";
    return;
  case Type::Bool:
    out += bool_ ? "true" : "false";
    return;
  case Type::Number:
    out += std::to_string(number_);
    return;
  case Type::String:
    out += '"' + escape(string_) + '"';
    return;
  case Type::Object:
    out += '{';
    for (size_t i = 0; i < keys_.size(); ++i) {
      out += (i ? ",\"" : "\"") + escape(keys_[i]) + "\":";
      children_[i].print(out);
    }
    out += '}';
    return;
  case Type::Array:
    out += '[';
    for (size_t i = 0; i < children_.size(); ++i) {
      if (i) {
        out += ',';
      }
      children_[i].print(out);
    }
    out += ']';
    return;
  }
}

std::string escape(const std::string& in) {
  std::string out;
  for (const char c : in) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        char buf[8];
        snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
        out += buf;
      } else {
        out += c;
      }
    }
  }
  return out;
}

} // namespace Json
} // namespace Envoy
