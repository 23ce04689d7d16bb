#include "idp/http/message.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

using idp::ErrorCode;
using idp::http::CookieOptions;
using idp::http::Params;
using idp::http::Request;
using idp::http::Response;

TEST_CASE("Params::Parse decodes form-urlencoded text") {
  auto params = Params::Parse("a=1&b=x+y&c=%41%20");
  REQUIRE(params.has_value());
  REQUIRE(params->items().size() == 3);
  CHECK(params->Get("a") == "1");
  CHECK(params->Get("b") == "x y");
  CHECK(params->Get("c") == "A ");
  CHECK(params->items()[2].first == "c");
  CHECK_FALSE(params->Get("d").has_value());
}

TEST_CASE("Params counts duplicates and keeps the first value") {
  auto params = Params::Parse("scope=a&scope=b&flag&&x%2By=1%2B1");
  REQUIRE(params.has_value());
  CHECK(params->Count("scope") == 2);
  CHECK(params->Get("scope") == "a");
  CHECK(params->Count("flag") == 1);
  CHECK(params->Get("flag") == "");
  CHECK(params->Get("x+y") == "1+1");
  CHECK(params->Count("missing") == 0);
}

namespace {

bool RejectedAsInvalid(std::string_view text) {
  auto params = Params::Parse(text);
  return !params && params.error().code == ErrorCode::kInvalidArgument;
}

}  // namespace

TEST_CASE("the first repeated name is found in one pass over a 64 KiB body of distinct names") {
  std::string body;
  int n = 0;
  while (body.size() < 64 * 1024) {
    if (!body.empty()) body += '&';
    body += 'p';  // += pieces: GCC 12's -Wrestrict misfires on + chains
    body += std::to_string(n++);
    body += "=v";
  }
  auto distinct = Params::Parse(body);
  REQUIRE(distinct.has_value());
  CHECK(distinct->items().size() > 8000);
  CHECK_FALSE(distinct->FirstRepeated());
  auto repeated = Params::Parse(body + "&p17=again&p3=again");
  REQUIRE(repeated.has_value());
  CHECK(repeated->FirstRepeated() == std::optional<std::string>("p17"));
  CHECK(Params::Parse("a=1&b=2&a=3")->FirstRepeated() == std::optional<std::string>("a"));
  CHECK_FALSE(Params::Parse("")->FirstRepeated());
}

TEST_CASE("Params::Parse rejects malformed escapes and invalid UTF-8") {
  CHECK(RejectedAsInvalid("a=%4"));
  CHECK(RejectedAsInvalid("a=%GG"));
  CHECK(RejectedAsInvalid("%4"));
  CHECK(RejectedAsInvalid("%GG=1"));
  CHECK(RejectedAsInvalid("a=%"));
  CHECK(RejectedAsInvalid("a=%C3%28"));
  CHECK(RejectedAsInvalid("%C3%28=1"));
  CHECK(RejectedAsInvalid("a=%ED%A0%80"));  // surrogate
  auto euro = Params::Parse("p=%E2%82%AC");
  REQUIRE(euro.has_value());
  CHECK(euro->Get("p") == "\xE2\x82\xAC");
}

TEST_CASE("PercentDecode keeps '+' in paths and decodes it in forms") {
  CHECK(idp::http::PercentDecode("/a+b%20c").value() == "/a+b c");
  CHECK(idp::http::PercentDecode("a+b", true).value() == "a b");
  CHECK_FALSE(idp::http::PercentDecode("/%zz").has_value());
}

TEST_CASE("IsValidUtf8 follows RFC 3629") {
  CHECK(idp::http::IsValidUtf8(""));
  CHECK(idp::http::IsValidUtf8("plain ascii"));
  CHECK(idp::http::IsValidUtf8("\xC3\xA9"));              // é
  CHECK(idp::http::IsValidUtf8("\xE2\x82\xAC"));          // €
  CHECK(idp::http::IsValidUtf8("\xF0\x9F\x98\x80"));      // U+1F600
  CHECK(idp::http::IsValidUtf8("\xF4\x8F\xBF\xBF"));      // U+10FFFF
  CHECK_FALSE(idp::http::IsValidUtf8("\xC0\xAF"));        // overlong '/'
  CHECK_FALSE(idp::http::IsValidUtf8("\xE0\x80\xAF"));    // overlong '/'
  CHECK_FALSE(idp::http::IsValidUtf8("\xF0\x80\x80\xAF"));  // overlong '/'
  CHECK_FALSE(idp::http::IsValidUtf8("\xED\xA0\x80"));    // surrogate U+D800
  CHECK_FALSE(idp::http::IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  CHECK_FALSE(idp::http::IsValidUtf8("\xE2\x82"));        // truncated
  CHECK_FALSE(idp::http::IsValidUtf8("\x80"));            // lone continuation
  CHECK_FALSE(idp::http::IsValidUtf8("\xFF"));
}

TEST_CASE("UrlEncode keeps only unreserved characters") {
  CHECK(idp::http::UrlEncode("AZaz09-._~") == "AZaz09-._~");
  CHECK(idp::http::UrlEncode("a b&c=d/e?f#g+h%i:j") ==
        "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25i%3Aj");
  CHECK(idp::http::UrlEncode("\xE2\x82\xAC") == "%E2%82%AC");

  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"redirect_uri", "https://rp.example/cb?x=1&y=2"}, {"state", "a b+c"}};
  const std::string query = idp::http::EncodeQuery(pairs);
  CHECK(query == "redirect_uri=https%3A%2F%2Frp.example%2Fcb%3Fx%3D1%26y%3D2&state=a%20b%2Bc");
  auto back = Params::Parse(query);
  REQUIRE(back.has_value());
  CHECK(back->items() == pairs);
}

TEST_CASE("HtmlEscape escapes text and attribute specials") {
  CHECK(idp::http::HtmlEscape("<a href='x'>&\"") ==
        "&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
  CHECK(idp::http::HtmlEscape("plain") == "plain");
}

TEST_CASE("ParseCookieHeader trims spaces and skips malformed pieces") {
  const auto cookies =
      idp::http::ParseCookieHeader(" sid=abc ;theme = dark; junk; =nameless; q=\"quoted\"; e=;"
                                   " bad name=1;last=1");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"sid", "abc"}, {"theme", "dark"}, {"q", "quoted"}, {"e", ""}, {"last", "1"}};
  CHECK(cookies == expected);
  CHECK(idp::http::ParseCookieHeader("").empty());
  CHECK(idp::http::ParseCookieHeader(";;; ").empty());
}

TEST_CASE("Request looks up headers and cookies") {
  Request req;
  req.headers = {{"content-type", "text/plain"}, {"cookie", "a=1; b=2"}, {"cookie", "c=3"}};
  CHECK(req.Header("content-type") == "text/plain");
  CHECK(req.Header("Content-Type") == "text/plain");
  CHECK_FALSE(req.Header("accept").has_value());
  CHECK(req.Cookie("b") == "2");
  CHECK(req.Cookie("c") == "3");
  CHECK_FALSE(req.Cookie("d").has_value());
}

TEST_CASE("SetCookieValue writes the attributes") {
  CookieOptions options;
  options.max_age = 3600;
  CHECK(idp::http::SetCookieValue("sid", "abc", options) ==
        "sid=abc; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Lax");

  CookieOptions remove;
  remove.max_age = 0;
  remove.same_site = "Strict";
  remove.path = "/login";
  CHECK(idp::http::SetCookieValue("sid", "", remove) ==
        "sid=; Path=/login; Max-Age=0; Secure; HttpOnly; SameSite=Strict");

  CookieOptions session;
  session.secure = false;
  session.http_only = false;
  CHECK(idp::http::SetCookieValue("pref", "1", session) == "pref=1; Path=/; SameSite=Lax");
}

TEST_CASE("Response helpers set status and type and location") {
  auto json = Response::Json(201, "{}");
  CHECK(json.status == 201);
  CHECK(json.Header("content-type") == "application/json;charset=utf-8");
  CHECK(json.body == "{}");
  CHECK(Response::Html(200, "<p>").Header("Content-Type") == "text/html;charset=utf-8");
  CHECK(Response::Text(404, "no").Header("Content-Type") == "text/plain;charset=utf-8");

  auto redirect = Response::Redirect(303, "https://rp.example/cb?code=x");
  CHECK(redirect.status == 303);
  CHECK(redirect.Header("location") == "https://rp.example/cb?code=x");

  json.SetHeader("CONTENT-TYPE", "application/jwk-set+json");
  json.AddHeader("Cache-Control", "no-store");
  CHECK(json.headers.size() == 2);
  CHECK(json.Header("Content-Type") == "application/jwk-set+json");
}
