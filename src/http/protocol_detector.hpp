// The first protocol of every connection: looks at the first bytes and
// hands the connection to HTTP (SRPC comes through HTTP's CONNECT) or, with
// TLS configured and a ClientHello coming, starts TLS first.
#pragma once

#include <memory>

#include "frontend/channel.hpp"
#include "web/web_context.hpp"

namespace dm {

class protocol_detector final : public protocol {
public:
  explicit protocol_detector(std::shared_ptr<const web_context> ctx);
  void on_input(channel& ch) override;

private:
  std::shared_ptr<const web_context> ctx_;
};

} // namespace dm
