#pragma once
/// @file idp::Error <-> grpc::Status, one table each way.

#include "idp/common/error.hpp"

#include <grpcpp/support/status.h>

namespace idp::rpc {

/// The gRPC status for an error (kUnknown -> UNKNOWN, kInternal -> INTERNAL, ...).
grpc::Status ToGrpcStatus(const Error& error);

/// The error for a non-OK gRPC status; the message is the status message.
Error FromGrpcStatus(const grpc::Status& status);

}  // namespace idp::rpc
