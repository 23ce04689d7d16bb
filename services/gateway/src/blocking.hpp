#pragma once
/// @file Runs a blocking call (hiredis) on a thread pool of its own and resumes the awaiting
/// coroutine on its executor, so that the io_context threads never block.
///
/// `fn` is taken by reference and must outlive the co_await (a named local of the caller): GCC
/// 12 may destroy temporaries of a co_await expression twice (GCC PR 99576).

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <optional>
#include <type_traits>

namespace idp::gateway {

/// `fn()` on `pool`; its result (or exception) comes back to the caller's executor.
template <class Fn>
boost::asio::awaitable<std::invoke_result_t<Fn&>> RunBlocking(boost::asio::thread_pool& pool,
                                                              Fn& fn) {
  using R = std::invoke_result_t<Fn&>;
  std::optional<R> out;
  std::exception_ptr error;
  auto* pool_ptr = &pool;
  auto* fn_ptr = &fn;
  auto* out_ptr = &out;
  auto* error_ptr = &error;
  co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
      [pool_ptr, fn_ptr, out_ptr, error_ptr](auto handler) {
        boost::asio::post(*pool_ptr, [fn_ptr, out_ptr, error_ptr,
                                      handler = std::move(handler)]() mutable {
          try {
            out_ptr->emplace((*fn_ptr)());
          } catch (...) {
            *error_ptr = std::current_exception();
          }
          auto executor = boost::asio::get_associated_executor(handler);
          boost::asio::dispatch(executor, std::move(handler));
        });
      },
      boost::asio::use_awaitable);
  if (error) std::rethrow_exception(error);
  co_return std::move(*out);
}

}  // namespace idp::gateway
