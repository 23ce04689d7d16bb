#include "idp/metrics/exporter.hpp"

#include "idp/common/config.hpp"
#include "idp/common/log.hpp"
#include "idp/http/server.hpp"
#include "idp/metrics/registry.hpp"

#include <boost/asio/io_context.hpp>

#include <stdexcept>
#include <thread>

namespace idp::metrics {
namespace {

std::pair<std::string, std::uint16_t> SplitHostPort(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    throw std::runtime_error("metrics listen address must be host:port, got \"" + listen + "\"");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) throw std::runtime_error("bad port in \"" + listen + "\"");
  return {host, static_cast<std::uint16_t>(port)};
}

http::Response Handle(const http::Request& req, const Registry& registry,
                      const std::function<bool()>& ready) {
  if (req.method != "GET" && req.method != "HEAD") {
    auto r = http::Response::Text(405, "method not allowed\n");
    r.SetHeader("Allow", "GET, HEAD");
    return r;
  }
  http::Response r;
  if (req.path == "/metrics") {
    r = http::Response{200, {}, registry.Render()};
    r.SetHeader("Content-Type", std::string(kContentType));
  } else if (req.path == "/healthz") {
    r = http::Response::Json(200, R"({"status":"ok"})");
  } else if (req.path == "/readyz") {
    bool ok = !ready || ready();
    r = http::Response::Json(ok ? 200 : 503, ok ? R"({"status":"ready"})"
                                                : R"({"status":"not ready"})");
  } else {
    r = http::Response::Text(404, "not found\n");
  }
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

}  // namespace

struct Exporter::Impl {
  boost::asio::io_context ioc{1};
  std::unique_ptr<http::Server> server;
  std::thread thread;
  std::function<bool()> ready;
};

Exporter::Exporter(const std::string& listen, const Registry& registry,
                   std::function<bool()> ready)
    : impl_(std::make_unique<Impl>()) {
  auto [host, port] = SplitHostPort(listen);
  impl_->ready = std::move(ready);
  http::ServerOptions options;
  options.address = host;
  options.port = port;
  options.max_body = 1024;
  options.read_timeout = std::chrono::seconds(10);
  const Registry* reg = &registry;
  Impl* impl = impl_.get();
  impl_->server = std::make_unique<http::Server>(
      impl_->ioc, options,
      [reg, impl](http::Request& req) -> boost::asio::awaitable<http::Response> {
        co_return Handle(req, *reg, impl->ready);
      });
  try {
    impl_->server->Start();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + listen + " (metrics): " + e.what());
  }
  impl_->thread = std::thread([impl] { impl->ioc.run(); });
}

Exporter::~Exporter() { Stop(); }

std::uint16_t Exporter::port() const { return impl_->server->port(); }

void Exporter::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server->Stop();
  impl_->ioc.stop();
  impl_->thread.join();
}

std::unique_ptr<Exporter> StartExporter(const Config& config, const std::string& key,
                                        const Registry& registry, std::function<bool()> ready) {
  const std::string listen = config.GetString(key, "");
  if (listen.empty()) return nullptr;
  auto exporter = std::make_unique<Exporter>(listen, registry, std::move(ready));
  log::Info("metrics listening", {{"listen", listen},
                                  {"port", static_cast<std::int64_t>(exporter->port())}});
  return exporter;
}

}  // namespace idp::metrics
