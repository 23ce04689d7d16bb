#include "key_ring.hpp"

#include "idp/common/log.hpp"
#include "idp/store/pg.hpp"

#include <boost/json.hpp>

namespace idp::token {

KeyRing::KeyRing(store::PgPool& pool, crypto::Aead master, KeyPolicy policy)
    : pool_(pool), master_(std::move(master)), policy_(policy) {}

namespace {

std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status KeyRing::EnsureKeys(const std::vector<jose::Alg>& algs) {
  for (auto alg : algs) {
    auto name = std::string(jose::AlgName(alg));
    auto created = pool_.Transact<bool>([&](pqxx::work& tx) {
      tx.exec("SELECT pg_advisory_xact_lock(hashtext('idp-token-keys'))");
      auto n = tx.exec_params1(
          "SELECT count(*) FROM token.signing_keys WHERE alg = $1 AND retired_at IS NULL", name);
      if (n[0].as<int>() > 0) return false;
      auto key = jose::Key::Generate(alg).value();
      // The kid is the RFC 7638 thumbprint: stable, and unique per key.
      std::string kid = key.Thumbprint();
      std::string sealed = master_.Seal(key.ToPrivatePem().value(), kid);
      tx.exec_params("INSERT INTO token.signing_keys (kid, alg, private_key) VALUES ($1, $2, $3)",
                     kid, name, pqxx::binarystring(sealed.data(), sealed.size()));
      return true;
    });
    if (!created) return created.error();
    if (*created) log::Info("signing key created", {{"alg", name}});
  }
  return Load();
}

Status KeyRing::Load() {
  struct Row {
    std::string kid, alg, sealed;
    std::int64_t created_at, activates_at, retired_at;
  };
  auto rows = pool_.Run<std::vector<Row>>([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::vector<Row> out;
    for (const auto& r : tx.exec(
             "SELECT kid, alg, private_key, extract(epoch from created_at)::bigint, "
             "floor(extract(epoch from activates_at))::bigint, "
             "coalesce(extract(epoch from retired_at)::bigint, 0) FROM token.signing_keys "
             "ORDER BY activates_at DESC, created_at DESC, kid")) {
      pqxx::binarystring bin(r[2]);
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), bin.str(),
                     r[3].as<std::int64_t>(), r[4].as<std::int64_t>(), r[5].as<std::int64_t>()});
    }
    return out;
  });
  if (!rows) return rows.error();
  std::vector<SigningKey> keys;
  for (const auto& r : *rows) {
    auto pem = master_.Open(r.sealed, r.kid);
    if (!pem) {
      // Wrong IDP_MASTER_KEY: refuse to start rather than silently mint new keys.
      return FailedPrecondition("signing key " + r.kid + " cannot be decrypted: wrong master key?");
    }
    auto key = jose::Key::FromPrivatePem(*pem);
    if (!key) return Internal("signing key " + r.kid + " is unreadable");
    keys.push_back({r.kid, *key, r.created_at, r.activates_at, r.retired_at});
  }
  std::lock_guard lock(mu_);
  keys_ = std::move(keys);
  last_load_ = std::chrono::steady_clock::now();
  return {};
}

void KeyRing::ReloadIfStale() {
  {
    std::lock_guard lock(mu_);
    if (std::chrono::steady_clock::now() - last_load_ < std::chrono::seconds(30)) return;
    last_load_ = std::chrono::steady_clock::now();
  }
  if (auto st = Load(); !st) log::Warn("signing keys not reloaded", {{"error", st.error().ToString()}});
}

Result<SigningKey> KeyRing::Active(jose::Alg alg) {
  ReloadIfStale();
  const std::int64_t now = NowUnix();
  std::lock_guard lock(mu_);
  // keys_ is sorted newest activation first.
  for (const auto& k : keys_) {
    if (k.key.alg() == alg && k.activates_at <= now && (k.retired_at == 0 || k.retired_at > now)) {
      return k;
    }
  }
  return FailedPrecondition("no active signing key for " + std::string(jose::AlgName(alg)));
}

Result<std::pair<std::string, std::string>> KeyRing::Rotate(jose::Alg alg) {
  auto name = std::string(jose::AlgName(alg));
  auto key = jose::Key::Generate(alg);
  if (!key) return key.error();
  std::string kid = key->Thumbprint();
  auto pem = key->ToPrivatePem();
  if (!pem) return pem.error();
  std::string sealed = master_.Seal(*pem, kid);
  auto retired = pool_.Transact<std::string>([&](pqxx::work& tx) {
    tx.exec("SELECT pg_advisory_xact_lock(hashtext('idp-token-keys'))");
    const auto ahead = std::to_string(policy_.publish_ahead.count());
    auto old = tx.exec_params(
        "UPDATE token.signing_keys SET retired_at = now() + ($2 || ' seconds')::interval "
        "WHERE alg = $1 AND retired_at IS NULL RETURNING kid",
        name, ahead);
    tx.exec_params(
        "INSERT INTO token.signing_keys (kid, alg, private_key, activates_at) "
        "VALUES ($1, $2, $3, now() + ($4 || ' seconds')::interval)",
        kid, name, pqxx::binarystring(sealed.data(), sealed.size()), ahead);
    return old.empty() ? std::string() : old[0][0].as<std::string>();
  });
  if (!retired) return retired.error();
  if (auto st = Load(); !st) return st.error();
  log::Info("signing key rotated", {{"alg", name}, {"kid", kid}, {"retired_kid", *retired}});
  return std::make_pair(kid, *retired);
}

std::optional<SigningKey> KeyRing::Find(const std::string& kid) {
  {
    std::lock_guard lock(mu_);
    for (const auto& k : keys_) {
      if (k.kid == kid) return k;
    }
    if (std::chrono::steady_clock::now() - last_load_ < std::chrono::seconds(1)) {
      return std::nullopt;
    }
    last_load_ = std::chrono::steady_clock::now();
  }
  if (!Load()) return std::nullopt;
  std::lock_guard lock(mu_);
  for (const auto& k : keys_) {
    if (k.kid == kid) return k;
  }
  return std::nullopt;
}

std::string KeyRing::JwksJson() {
  ReloadIfStale();
  const std::int64_t now = NowUnix();
  boost::json::array keys;
  std::lock_guard lock(mu_);
  // Published: every key not yet retired (including the next one), and retired keys until
  // the tokens they signed have expired (OIDC Core §10.1.1).
  for (const auto& k : keys_) {
    if (k.retired_at == 0 || k.retired_at + policy_.keep_published.count() > now) {
      keys.emplace_back(k.key.PublicJwk(k.kid));
    }
  }
  return boost::json::serialize(boost::json::object{{"keys", std::move(keys)}});
}

}  // namespace idp::token
