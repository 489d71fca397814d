// CallResult<T>: what a berthd call returns, on both sides of the socket.
//
// sys::Result carries an errno for the people debugging a host; the API
// carries an ErrorCode (berth.proto) that a script can branch on, plus a
// message for a human. CallError is that pair; a sys::Error converts to it
// by mapping its errno, so daemon code can return BERTH_TRY'd errors as is.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "agent/api/berth.pb.h"
#include "runtime/sys/result.h"

namespace berth::agent::api {

// The generated messages (package berth.api) live in ::berth::api; inside
// this namespace `api::` would name ourselves, hence the alias.
namespace pb = ::berth::api;

struct CallError {
  pb::ErrorCode code = pb::INTERNAL;
  std::string message;

  CallError() = default;
  CallError(pb::ErrorCode c, std::string m) : code(c), message(std::move(m)) {}

  // errno -> code (ENOENT -> NOT_FOUND, EACCES -> PERMISSION_DENIED, ...);
  // an Error without errno (bad input) becomes INVALID_ARGUMENT.
  static CallError fromSys(const sys::Error& error);
  static CallError fromProto(const pb::Error& error);
  void toProto(pb::Error* out) const;

  // "not found: no such container web"
  std::string str() const;
};

// "NOT_FOUND" -> "not found"; stable, for messages and `--format json`.
std::string errorCodeText(pb::ErrorCode code);
pb::ErrorCode errorCodeFromErrno(int err);

template <class T>
class [[nodiscard]] CallResult {
 public:
  CallResult(T value)
      : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  CallResult(CallError error) : v_(std::in_place_index<1>, std::move(error)) {}   // NOLINT
  CallResult(const sys::Error& error) : CallResult(CallError::fromSys(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const CallError& error() const& { return std::get<1>(v_); }
  CallError&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, CallError> v_;
};

template <>
class [[nodiscard]] CallResult<void> {
 public:
  CallResult() = default;
  CallResult(CallError error) : error_(std::move(error)), ok_(false) {}           // NOLINT
  CallResult(const sys::Error& error) : CallResult(CallError::fromSys(error)) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const CallError& error() const& { return error_; }
  CallError&& error() && { return std::move(error_); }

 private:
  CallError error_;
  bool ok_ = true;
};

}  // namespace berth::agent::api
