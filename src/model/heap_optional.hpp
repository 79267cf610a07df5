// An optional value kept on the heap: one pointer in its owner where
// std::optional would hold the whole value inline. For members that are
// rarely present in structures held per machine (docs/performance.md, "A
// million machines: where memory and start-up time go"). Copies are deep;
// the operations are std::optional's.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace dm {

template <class T>
class heap_optional {
public:
  heap_optional() = default;
  heap_optional(std::nullopt_t) {} // NOLINT: as std::optional converts
  heap_optional(T value)           // NOLINT
      : value_(std::make_unique<T>(std::move(value))) {}
  heap_optional(const heap_optional& other)
      : value_(other ? std::make_unique<T>(*other) : nullptr) {}
  heap_optional(heap_optional&&) noexcept = default;
  heap_optional& operator=(const heap_optional& other) {
    if (this != &other)
      value_ = other ? std::make_unique<T>(*other) : nullptr;
    return *this;
  }
  heap_optional& operator=(heap_optional&&) noexcept = default;
  heap_optional& operator=(std::nullopt_t) {
    value_.reset();
    return *this;
  }
  heap_optional& operator=(T value) {
    if (value_)
      *value_ = std::move(value);
    else
      value_ = std::make_unique<T>(std::move(value));
    return *this;
  }

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }
  void reset() { value_.reset(); }
  template <class... Args>
  T& emplace(Args&&... args) {
    value_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *value_;
  }

  friend bool operator==(const heap_optional& a, const heap_optional& b) {
    return a ? b && *a == *b : !b;
  }
  friend bool operator!=(const heap_optional& a, const heap_optional& b) {
    return !(a == b);
  }

private:
  std::unique_ptr<T> value_;
};

} // namespace dm
