// The first protocol of every connection: looks at the first bytes and
// hands the connection to HTTP or SRPC (and, with TLS, to a TLS layer).
#pragma once

#include <memory>

#include "net/io_loop.hpp"
#include "web/web_context.hpp"

namespace dm {

class protocol_detector final : public protocol {
public:
  explicit protocol_detector(std::shared_ptr<const web_context> ctx);
  void on_input(connection& conn) override;

private:
  std::shared_ptr<const web_context> ctx_;
};

} // namespace dm
