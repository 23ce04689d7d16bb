#pragma once
/// @file libcurl plumbing shared by the SMTP and the HTTP SMS providers.

#include <curl/curl.h>

#include <memory>

namespace idp::delivery {

/// curl_global_init, once per process; call before starting threads (app start).
void CurlGlobalInit();

struct CurlEasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
/// An easy handle, cleaned up on every path.
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

}  // namespace idp::delivery
