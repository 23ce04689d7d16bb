#include "idp/store/pg.hpp"

#include "idp/common/log.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace idp::store {
namespace {

/// Thrown by Acquire when a new connection cannot be opened; never retried.
class OpenFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The DSN with connect_timeout added unless it sets one. Both URL and key=value forms.
std::string WithConnectTimeout(const std::string& dsn, std::chrono::seconds timeout) {
  if (dsn.find("connect_timeout") != std::string::npos) return dsn;
  const std::string value = std::to_string(std::max<long long>(timeout.count(), 1));
  const bool is_url = dsn.rfind("postgresql://", 0) == 0 || dsn.rfind("postgres://", 0) == 0;
  if (is_url) {
    return dsn + (dsn.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=" + value;
  }
  return dsn + (dsn.empty() ? "" : " ") + "connect_timeout=" + value;
}

/// First line of a libpq message without its "ERROR:  " prefix: the lines after it carry
/// DETAIL (row values), LINE (query text) and CONTEXT, which must not reach logs.
std::string FirstLine(std::string_view msg) {
  msg = msg.substr(0, msg.find('\n'));
  for (std::string_view prefix : {"ERROR:  ", "FATAL:  "}) {
    if (msg.substr(0, prefix.size()) == prefix) msg.remove_prefix(prefix.size());
  }
  return std::string(msg);
}

/// A log-safe message for an SQL error. Data exceptions (class 22) quote the offending input
/// value, so only their SQLSTATE is kept.
std::string SqlMessage(const pqxx::sql_error& e) {
  const std::string& state = e.sqlstate();
  if (state.rfind("22", 0) == 0) return "data exception (sqlstate " + state + ")";
  std::string out = FirstLine(e.what());
  if (!state.empty()) out += " (sqlstate " + state + ")";
  return out;
}

}  // namespace

PgPool::PgPool(PgPoolOptions options)
    : options_(std::move(options)),
      dsn_(WithConnectTimeout(options_.dsn, options_.connect_timeout)) {
  options_.size = std::max<std::size_t>(options_.size, 1);
}

PgPool::~PgPool() = default;

std::unique_ptr<pqxx::connection> PgPool::Acquire() {
  std::unique_lock lock(mu_);
  const bool ready = cv_.wait_for(lock, options_.acquire_timeout,
                                  [this] { return !idle_.empty() || open_ < options_.size; });
  if (!ready) {
    ++acquire_timeouts_;
    return nullptr;
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  ++open_;
  lock.unlock();
  try {
    return std::make_unique<pqxx::connection>(dsn_);
  } catch (const std::exception& e) {
    lock.lock();
    --open_;
    lock.unlock();
    cv_.notify_one();
    // libpq's message names host and port, never the password.
    throw OpenFailed(FirstLine(e.what()));
  }
}

PoolStats PgPool::Stats() {
  std::lock_guard lock(mu_);
  return {open_ - idle_.size(), open_, options_.size, acquire_timeouts_};
}

void PgPool::Release(std::unique_ptr<pqxx::connection> conn, bool broken) {
  {
    std::lock_guard lock(mu_);
    if (broken) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  cv_.notify_one();
  conn.reset();  // a broken connection is closed outside the lock
}

void PgPool::DropIdle() {
  std::vector<std::unique_ptr<pqxx::connection>> dropped;
  {
    std::lock_guard lock(mu_);
    dropped.swap(idle_);
    open_ -= dropped.size();
  }
  cv_.notify_all();
}

Status PgPool::RunErased(const std::function<void(pqxx::connection&)>& fn) {
  // Returns the connection to the pool on every path, including exceptions that propagate.
  struct Lease {
    PgPool* pool;
    std::unique_ptr<pqxx::connection> conn;
    bool broken = false;
    ~Lease() {
      if (!conn) return;
      const bool drop = broken || !conn->is_open();
      pool->Release(std::move(conn), drop);
    }
  };

  for (int attempt = 0;; ++attempt) {
    Lease lease{this, nullptr};
    try {
      lease.conn = Acquire();
    } catch (const OpenFailed& e) {
      log::Warn("postgres connection failed", {{"error", e.what()}});
      return Unavailable(std::string("postgres: cannot connect: ") + e.what());
    }
    if (!lease.conn) return Unavailable("postgres: no free connection within acquire_timeout");

    try {
      fn(*lease.conn);
      return {};
    } catch (const pqxx::broken_connection& e) {
      // The transaction that threw did not commit (a lost COMMIT throws in_doubt_error
      // instead), so running `fn` again on a new connection is safe for one transaction.
      lease.broken = true;
      DropIdle();
      if (attempt == 0) {
        log::Warn("postgres connection broken; retrying on a new connection",
                  {{"error", FirstLine(e.what())}});
        continue;
      }
      return Unavailable("postgres: connection broken: " + FirstLine(e.what()));
    } catch (const pqxx::in_doubt_error& e) {
      lease.broken = true;
      log::Error("postgres commit outcome unknown", {{"error", FirstLine(e.what())}});
      return Unavailable("postgres: connection lost during commit; outcome unknown");
    } catch (const pqxx::statement_completion_unknown& e) {
      return Unavailable("postgres: statement outcome unknown: " + FirstLine(e.what()));
    } catch (const pqxx::unique_violation& e) {
      return AlreadyExists(SqlMessage(e));
    } catch (const pqxx::serialization_failure& e) {
      return Unavailable("postgres: serialization failure, retry: " + FirstLine(e.what()));
    } catch (const pqxx::deadlock_detected& e) {
      return Unavailable("postgres: deadlock detected, retry: " + FirstLine(e.what()));
    } catch (const pqxx::sql_error& e) {
      return Internal("postgres: " + SqlMessage(e));
    } catch (const pqxx::failure& e) {
      return Internal("postgres: " + FirstLine(e.what()));
    } catch (const pqxx::conversion_error&) {
      // Its message quotes the value that failed to convert.
      return Internal("postgres: value conversion failed");
    } catch (const pqxx::pqxx_exception& e) {
      return Internal(std::string("postgres: ") + e.base().what());
    }
  }
}

bool PgPool::Ping() {
  auto st = RunErased([](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec0("SET LOCAL statement_timeout = 1000");
    tx.exec1("SELECT 1");
    tx.commit();
  });
  return st.has_value();
}

}  // namespace idp::store
