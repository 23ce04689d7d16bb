#pragma once

namespace idp {
class Config;
}

namespace idp::delivery {

/// Serves idp.delivery.v1 and grpc.health.v1 until SIGTERM. Sending (SMTP, SMS, the outbox in
/// Redis Streams) arrives with the delivery issue; until then its RPCs answer UNIMPLEMENTED.
int RunApp(const Config& config);

}  // namespace idp::delivery
