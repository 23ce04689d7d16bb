#include "idp/rpc/status.hpp"

namespace idp::rpc {

grpc::Status ToGrpcStatus(const Error& error) {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  switch (error.code) {
    case ErrorCode::kUnknown: code = grpc::StatusCode::UNKNOWN; break;
    case ErrorCode::kInvalidArgument: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case ErrorCode::kNotFound: code = grpc::StatusCode::NOT_FOUND; break;
    case ErrorCode::kAlreadyExists: code = grpc::StatusCode::ALREADY_EXISTS; break;
    case ErrorCode::kPermissionDenied: code = grpc::StatusCode::PERMISSION_DENIED; break;
    case ErrorCode::kUnauthenticated: code = grpc::StatusCode::UNAUTHENTICATED; break;
    case ErrorCode::kFailedPrecondition: code = grpc::StatusCode::FAILED_PRECONDITION; break;
    case ErrorCode::kResourceExhausted: code = grpc::StatusCode::RESOURCE_EXHAUSTED; break;
    case ErrorCode::kUnavailable: code = grpc::StatusCode::UNAVAILABLE; break;
    case ErrorCode::kDeadlineExceeded: code = grpc::StatusCode::DEADLINE_EXCEEDED; break;
    case ErrorCode::kInternal: code = grpc::StatusCode::INTERNAL; break;
  }
  return {code, error.message};
}

Error FromGrpcStatus(const grpc::Status& status) {
  ErrorCode code = ErrorCode::kUnknown;
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE: code = ErrorCode::kInvalidArgument; break;
    case grpc::StatusCode::NOT_FOUND: code = ErrorCode::kNotFound; break;
    case grpc::StatusCode::ALREADY_EXISTS: code = ErrorCode::kAlreadyExists; break;
    case grpc::StatusCode::PERMISSION_DENIED: code = ErrorCode::kPermissionDenied; break;
    case grpc::StatusCode::UNAUTHENTICATED: code = ErrorCode::kUnauthenticated; break;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED: code = ErrorCode::kFailedPrecondition; break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: code = ErrorCode::kResourceExhausted; break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED: code = ErrorCode::kUnavailable; break;
    case grpc::StatusCode::DEADLINE_EXCEEDED: code = ErrorCode::kDeadlineExceeded; break;
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::UNIMPLEMENTED: code = ErrorCode::kInternal; break;
    default: code = ErrorCode::kUnknown; break;
  }
  return {code, status.error_message()};
}

}  // namespace idp::rpc
