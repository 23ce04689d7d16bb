#pragma once
/// @file Clients declared in the stack's configuration file ([[clients]] tables), applied at
/// start: the file is the source of truth for the clients it names (docs/operations.md).

#include "client_store.hpp"

#include "idp/common/error.hpp"

#include <string>
#include <vector>

namespace idp {
class Config;
}

namespace idp::token {

class TokenService;

/// A client from the file, with the secret read from the environment variable it names.
struct ConfiguredClient {
  ClientRecord client;
  std::string secret;  ///< empty for public and private_key_jwt clients
};

/// Reads every [[clients]] table. kInvalidArgument naming the entry for an unknown key, a
/// missing client_id, or a confidential client whose `secret_env` variable is unset.
[[nodiscard]] Result<std::vector<ConfiguredClient>> ClientsFromConfig(const Config& config);

/// Upserts each client through `service` (its checks apply); returns how many were applied.
[[nodiscard]] Result<int> ApplyConfiguredClients(TokenService& service,
                                                 const std::vector<ConfiguredClient>& clients);

}  // namespace idp::token
