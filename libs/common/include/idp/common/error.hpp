#pragma once
/// @file Error and Result: the one error channel of our libraries and services.
/// Codes take their names from gRPC's canonical codes so that mapping to grpc::Status is one
/// table (libs/rpc). Expected business outcomes (wrong password, invalid_grant) are not errors:
/// they travel inside responses.

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <iosfwd>
#include <string>
#include <string_view>

namespace idp {

enum class ErrorCode {
  kUnknown = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kFailedPrecondition,
  kResourceExhausted,
  kUnavailable,
  kDeadlineExceeded,
  kInternal,
};

/// Short stable name of a code ("invalid_argument"), used in logs.
std::string_view ErrorCodeName(ErrorCode code);

/// A failed operation: a code and a message fit for logs (never a secret).
struct Error {
  ErrorCode code = ErrorCode::kUnknown;
  std::string message;

  std::string ToString() const;
};

inline Error InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
inline Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Error AlreadyExists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
inline Error PermissionDenied(std::string m) { return {ErrorCode::kPermissionDenied, std::move(m)}; }
inline Error Unauthenticated(std::string m) { return {ErrorCode::kUnauthenticated, std::move(m)}; }
inline Error FailedPrecondition(std::string m) {
  return {ErrorCode::kFailedPrecondition, std::move(m)};
}
inline Error ResourceExhausted(std::string m) {
  return {ErrorCode::kResourceExhausted, std::move(m)};
}
inline Error Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
inline Error DeadlineExceeded(std::string m) { return {ErrorCode::kDeadlineExceeded, std::move(m)}; }
inline Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

/// Prints ToString() (tests and logs).
std::ostream& operator<<(std::ostream& os, const Error& e);

/// Thrown by Result<T>::value() on an error; carries the Error.
class ErrorException : public std::exception {
 public:
  explicit ErrorException(Error e) : error_(std::move(e)), what_(error_.ToString()) {}
  const Error& error() const noexcept { return error_; }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  Error error_;
  std::string what_;
};

/// Found by ADL from boost::system::result<T, Error>::value().
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

/// Result of an operation with no value.
using Status = boost::system::result<void, Error>;

}  // namespace idp
