// How SMTP and SMS API answers map to accepted, retry or fail.
#include "sender.hpp"

#include <catch2/catch.hpp>
#include <curl/curl.h>

using namespace idp::delivery;

TEST_CASE("SMTP success is accepted") {
  auto o = MapSmtpResult(CURLE_OK, 250, "");
  CHECK(o.verdict == SendVerdict::kAccepted);
  CHECK(o.error.empty());
}

TEST_CASE("SMTP transport failures are retried") {
  CHECK(MapSmtpResult(CURLE_COULDNT_CONNECT, 0, "").error == "connect");
  CHECK(MapSmtpResult(CURLE_COULDNT_CONNECT, 0, "").verdict == SendVerdict::kRetry);
  CHECK(MapSmtpResult(CURLE_OPERATION_TIMEDOUT, 0, "").error == "timeout");
  CHECK(MapSmtpResult(CURLE_USE_SSL_FAILED, 0, "").error == "tls");
  CHECK(MapSmtpResult(CURLE_PEER_FAILED_VERIFICATION, 0, "").verdict == SendVerdict::kRetry);
  CHECK(MapSmtpResult(CURLE_RECV_ERROR, 0, "").error == "transport");
  CHECK(MapSmtpResult(CURLE_GOT_NOTHING, 0, "").verdict == SendVerdict::kRetry);
}

TEST_CASE("SMTP 4xx is retried and 5xx fails except authentication") {
  auto busy = MapSmtpResult(CURLE_SEND_ERROR, 451, "");
  CHECK(busy.verdict == SendVerdict::kRetry);
  CHECK(busy.error == "smtp_4xx");
  auto no_user = MapSmtpResult(CURLE_SEND_ERROR, 550, "");
  CHECK(no_user.verdict == SendVerdict::kFail);
  CHECK(no_user.error == "smtp_5xx");
  CHECK(MapSmtpResult(CURLE_RECV_ERROR, 552, "").verdict == SendVerdict::kFail);
  CHECK(MapSmtpResult(CURLE_RECV_ERROR, 554, "").verdict == SendVerdict::kFail);
  for (long code : {530L, 534L, 535L, 538L}) {
    auto o = MapSmtpResult(CURLE_SEND_ERROR, code, "");
    CHECK(o.verdict == SendVerdict::kRetry);
    CHECK(o.error == "auth");
  }
  CHECK(MapSmtpResult(CURLE_LOGIN_DENIED, 535, "").error == "auth");
}

TEST_CASE("SMS API 2xx is accepted") {
  CHECK(MapSmsApiResult(CURLE_OK, 201, R"({"sid":"SM1"})", std::nullopt, "").verdict ==
        SendVerdict::kAccepted);
  CHECK(MapSmsApiResult(CURLE_OK, 200, "", std::nullopt, "").verdict == SendVerdict::kAccepted);
}

TEST_CASE("SMS API server errors and throttling are retried") {
  for (long s : {500L, 502L, 503L, 504L, 429L, 408L, 401L, 403L, 404L}) {
    INFO(s);
    auto o = MapSmsApiResult(CURLE_OK, s, "{}", std::nullopt, "");
    CHECK(o.verdict == SendVerdict::kRetry);
    CHECK(o.error == "http_" + std::to_string(s));
  }
  auto later = MapSmsApiResult(CURLE_OK, 429, "", std::chrono::seconds(7), "");
  CHECK(later.retry_after == std::chrono::milliseconds(7000));
  CHECK(MapSmsApiResult(CURLE_COULDNT_CONNECT, 0, "", std::nullopt, "").error == "connect");
  CHECK(MapSmsApiResult(CURLE_OPERATION_TIMEDOUT, 0, "", std::nullopt, "").error == "timeout");
}

TEST_CASE("SMS API client errors fail for good but not Twilio queue codes") {
  auto bad_number = MapSmsApiResult(
      CURLE_OK, 400, R"({"code": 21211, "message": "The 'To' number +3161 is not valid."})",
      std::nullopt, "");
  CHECK(bad_number.verdict == SendVerdict::kFail);
  CHECK(bad_number.error == "http_400");
  CHECK(bad_number.detail.find("21211") != std::string::npos);
  CHECK(bad_number.detail.find("+3161") == std::string::npos);  // the number stays out of logs
  CHECK(MapSmsApiResult(CURLE_OK, 422, "not json", std::nullopt, "").verdict == SendVerdict::kFail);
  CHECK(MapSmsApiResult(CURLE_OK, 400, R"({"code": 21611})", std::nullopt, "").verdict ==
        SendVerdict::kRetry);
  CHECK(MapSmsApiResult(CURLE_OK, 400, R"({"code": 20429})", std::nullopt, "").verdict ==
        SendVerdict::kRetry);
  // A final refusal ignores Retry-After.
  CHECK(MapSmsApiResult(CURLE_OK, 400, "{}", std::chrono::seconds(5), "").retry_after.count() ==
        0);
}
