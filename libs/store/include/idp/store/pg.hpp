#pragma once
/// @file A bounded pool of libpqxx 6 connections with reconnect, and the translation of pqxx
/// exceptions into idp::Error. Include only in a service's store adapters.

#include "idp/common/error.hpp"
#include "idp/store/pool_stats.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace idp::store {

struct PgPoolOptions {
  std::string dsn;             ///< libpq connection string or postgresql:// URL
  std::size_t size = 4;        ///< connections at most
  std::chrono::milliseconds acquire_timeout{2000};
  /// libpq connect_timeout, added to the DSN unless it sets one (libpq's minimum is 2 s).
  std::chrono::seconds connect_timeout{5};
};

/// Thread-safe pool. Connections are opened lazily; a broken one is dropped and reopened on the
/// next use. Run() retries once on a broken connection only when no transaction was committed.
class PgPool {
 public:
  explicit PgPool(PgPoolOptions options);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  /// Runs `fn` with a connection of the pool. Exceptions from pqxx are translated:
  /// broken_connection -> kUnavailable, unique_violation -> kAlreadyExists,
  /// serialization_failure / deadlock -> kUnavailable ("retry"), others -> kInternal.
  /// Exceptions of other types propagate. The pool waits at most acquire_timeout for a free
  /// connection (kUnavailable after); a connection that cannot be opened gives kUnavailable.
  /// When `fn` throws broken_connection it runs once more on a new connection. That is safe
  /// for a `fn` that does one pqxx::work (as Transact does): a transaction that threw did not
  /// commit, and a commit whose outcome is unknown throws in_doubt_error, which is not retried
  /// (kUnavailable). A `fn` that commits several transactions, or writes through a
  /// nontransaction, must be idempotent. SQL messages keep only their first line (no query
  /// text, no DETAIL with values). Thread-safe.
  template <class T>
  [[nodiscard]] Result<T> Run(const std::function<T(pqxx::connection&)>& fn);

  /// Runs `fn` inside one transaction (pqxx::work), committed when `fn` returns.
  template <class T>
  [[nodiscard]] Result<T> Transact(const std::function<T(pqxx::work&)>& fn) {
    return Run<T>([&fn](pqxx::connection& c) {
      pqxx::work tx(c);
      if constexpr (std::is_void_v<T>) {
        fn(tx);
        tx.commit();
      } else {
        T value = fn(tx);
        tx.commit();
        return value;
      }
    });
  }

  /// True when a connection answers "SELECT 1" within a 1 s statement timeout (readiness).
  bool Ping();

  /// The pool's use now. Thread-safe.
  PoolStats Stats();

 private:
  std::unique_ptr<pqxx::connection> Acquire();
  void Release(std::unique_ptr<pqxx::connection> conn, bool broken);
  /// Closes every idle connection (after one broke, the others are suspect too).
  void DropIdle();
  [[nodiscard]] Status RunErased(const std::function<void(pqxx::connection&)>& fn);

  PgPoolOptions options_;
  std::string dsn_;  ///< options_.dsn plus connect_timeout; never logged (may hold a password)
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_ = 0;
  std::uint64_t acquire_timeouts_ = 0;
};

template <class T>
Result<T> PgPool::Run(const std::function<T(pqxx::connection&)>& fn) {
  if constexpr (std::is_void_v<T>) {
    return RunErased(fn);
  } else {
    std::optional<T> out;
    auto st = RunErased([&](pqxx::connection& c) { out.emplace(fn(c)); });
    if (!st) return st.error();
    return std::move(*out);
  }
}

}  // namespace idp::store
