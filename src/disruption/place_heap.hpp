// A binary min-heap of pointers to items that each keep their own place in
// it, so that any item leaves, or moves after its key changed, in O(log n)
// without a search. The group book orders its queue, expiries and waits so,
// with one pointer per machine instead of a tree node holding a copy of its
// name (docs/performance.md, "A million machines: where memory and start-up
// time go").
//
// `Order` gives `static bool less(const T&, const T&)`, a strict total
// order (ties broken, so that equal keys leave in a fixed order), and
// `static std::uint32_t& place(T&)` and `static std::uint32_t place(const
// T&)`, where the item keeps its place (`no_place` when outside the heap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace dm {

inline constexpr std::uint32_t no_place =
    std::numeric_limits<std::uint32_t>::max();

template <class T, class Order>
class place_heap {
public:
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  // The least item; the heap must not be empty.
  T& top() const { return *items_.front(); }
  bool contains(const T& item) const { return Order::place(item) != no_place; }

  void push(T& item) {
    if (items_.size() == items_.capacity()) // grow by half, not double
      items_.reserve(items_.size() + items_.size() / 2 + 2);
    items_.push_back(&item);
    Order::place(item) = static_cast<std::uint32_t>(items_.size() - 1);
    rise(items_.size() - 1);
  }

  void erase(T& item) {
    std::size_t at = Order::place(item);
    Order::place(item) = no_place;
    T* last = items_.back();
    items_.pop_back();
    if (at < items_.size()) {
      items_[at] = last;
      Order::place(*last) = static_cast<std::uint32_t>(at);
      settle(at);
    }
    // Memory goes back once the heap is a quarter full (amortised O(1)).
    if (items_.empty())
      std::vector<T*>().swap(items_);
    else if (items_.capacity() >= 32 && items_.size() < items_.capacity() / 4)
      items_.shrink_to_fit();
  }

  // Puts `item`, whose key changed, back in its place.
  void update(T& item) { settle(Order::place(item)); }

  // How many items come before `item` (which is in the heap): visits only
  // those, as every ancestor of an item comes before it.
  std::size_t count_before(const T& item) const {
    std::size_t count = 0;
    std::vector<std::size_t> todo;
    if (!items_.empty() && items_[0] != &item && Order::less(*items_[0], item))
      todo.push_back(0);
    while (!todo.empty()) {
      std::size_t at = todo.back();
      todo.pop_back();
      ++count;
      for (std::size_t child = 2 * at + 1; child <= 2 * at + 2; ++child)
        if (child < items_.size() && Order::less(*items_[child], item))
          todo.push_back(child);
    }
    return count;
  }

  // The items in heap order (not sorted).
  const std::vector<T*>& items() const { return items_; }

private:
  void settle(std::size_t at) {
    if (at > 0 && Order::less(*items_[at], *items_[(at - 1) / 2]))
      rise(at);
    else
      sink(at);
  }

  void rise(std::size_t at) {
    T* item = items_[at];
    while (at > 0) {
      std::size_t parent = (at - 1) / 2;
      if (!Order::less(*item, *items_[parent]))
        break;
      put(at, items_[parent]);
      at = parent;
    }
    put(at, item);
  }

  void sink(std::size_t at) {
    T* item = items_[at];
    std::size_t n = items_.size();
    for (;;) {
      std::size_t child = 2 * at + 1;
      if (child >= n)
        break;
      if (child + 1 < n && Order::less(*items_[child + 1], *items_[child]))
        ++child;
      if (!Order::less(*items_[child], *item))
        break;
      put(at, items_[child]);
      at = child;
    }
    put(at, item);
  }

  void put(std::size_t at, T* item) {
    items_[at] = item;
    Order::place(*item) = static_cast<std::uint32_t>(at);
  }

  std::vector<T*> items_;
};

} // namespace dm
