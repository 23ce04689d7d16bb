#pragma once
/// @file A unary gRPC call through the callback API as a C++20 awaitable, so that an event-loop
/// thread never blocks on gRPC. Completion is posted back to the awaiting coroutine's executor.
///
/// GCC 12 destroys some non-trivially-destructible temporaries of a co_await expression twice
/// (GCC PR 99576). Coroutines here therefore take parameters by reference, and the lambdas
/// inside co_await expressions capture only pointers and references.

#include "idp/common/error.hpp"
#include "idp/rpc/caller.hpp"
#include "idp/rpc/channel.hpp"
#include "idp/rpc/status.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <grpcpp/client_context.h>

#include <memory>
#include <utility>

namespace idp::rpc {

/// Runs `start(context, &request, &response, callback)`, which must begin a callback-API call,
/// e.g. `stub->async()->GetClient(ctx, req, resp, std::move(cb))`. The context, request and
/// response live in this coroutine's frame until completion. `caller` gives the request id and
/// the browser's origin sent as metadata. Returns the response, or the
/// call's failure as an Error (kUnavailable, kDeadlineExceeded, ...).
template <class Req, class Resp, class Start>
boost::asio::awaitable<Result<Resp>> AsyncUnary(
    const Req& request, const Start& start, const Caller& caller,
    std::chrono::milliseconds deadline = kDefaultDeadline) {
  grpc::ClientContext context;
  PrepareContext(context, caller.request_id, deadline);
  AddCallOrigin(context, caller.client_addr, caller.user_agent, caller.client_id);
  Resp response;
  grpc::ClientContext* ctx = &context;
  Resp* resp = &response;
  const Req* req = &request;
  const Start* st = &start;

  grpc::Status status = co_await boost::asio::async_initiate<
      decltype(boost::asio::use_awaitable), void(grpc::Status)>(
      [ctx, req, resp, st](auto handler) {
        auto executor = boost::asio::get_associated_executor(handler);
        // std::function needs a copyable callable; the awaitable handler is move-only.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        (*st)(ctx, req, resp, [shared, executor](grpc::Status s) {
          boost::asio::post(executor, [shared, s = std::move(s)]() mutable {
            (*shared)(std::move(s));
          });
        });
      },
      boost::asio::use_awaitable);
  if (!status.ok()) co_return Result<Resp>(FromGrpcStatus(status));
  co_return Result<Resp>(std::move(response));
}

}  // namespace idp::rpc
