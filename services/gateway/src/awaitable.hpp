#pragma once
/// @file The gateway's name for a coroutine's result (Boost.Asio's awaitable).

#include <boost/asio/awaitable.hpp>

namespace idp::gateway {

template <class T>
using Awaitable = boost::asio::awaitable<T>;

}  // namespace idp::gateway
