#include "idp/common/log.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

TEST_CASE("log lines are valid JSON with escaped values and the thread's request id") {
  idp::log::ScopedRequestId rid("req-123");
  auto line = idp::log::FormatLine("info", "said \"hi\"\n",
                                   {{"user", "a\"b"}, {"n", 42}, {"ok", true}});
  auto v = boost::json::parse(line).as_object();
  CHECK(v.at("level") == "info");
  CHECK(v.at("msg") == "said \"hi\"\n");
  CHECK(v.at("request_id") == "req-123");
  CHECK(v.at("user") == "a\"b");
  CHECK(v.at("n") == 42);
  CHECK(v.at("ok") == true);
  CHECK(v.contains("ts"));
}

TEST_CASE("an explicit request_id field wins over the thread's") {
  idp::log::ScopedRequestId rid("thread-id");
  auto v = boost::json::parse(idp::log::FormatLine("warn", "m", {{"request_id", "explicit"}}))
               .as_object();
  CHECK(v.at("request_id") == "explicit");
}

TEST_CASE("request ids from outside are checked") {
  CHECK(idp::log::IsValidRequestId("abc-123_x.y"));
  CHECK_FALSE(idp::log::IsValidRequestId(""));
  CHECK_FALSE(idp::log::IsValidRequestId("a b"));
  CHECK_FALSE(idp::log::IsValidRequestId("a\nb"));
  CHECK_FALSE(idp::log::IsValidRequestId(std::string(65, 'a')));
  auto id = idp::log::NewRequestId();
  CHECK(id.size() == 32);
  CHECK(idp::log::IsValidRequestId(id));
  CHECK(id != idp::log::NewRequestId());
}
