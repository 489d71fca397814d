// Result<T>: the error-carrying return type used by every berth layer.
//
// Runtime code does not throw (and must never throw after clone), so every
// fallible call returns a Result that holds either a value or an Error. An
// Error keeps the errno of the failing system call and a chain of context
// added on the way up, so the user reads
//   "create container web: mount proc on /proc: Permission denied"
// rather than "exit status 1".
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace berth::sys {

class Error {
 public:
  Error() = default;
  // `what` describes the operation that failed ("mount proc on /proc");
  // `code` is an errno value, or 0 when the failure is not a system error.
  Error(int code, std::string what) : code_(code), what_(std::move(what)) {}

  // Captures the current errno; call immediately after the failing syscall.
  static Error fromErrno(std::string what) { return Error(errno, std::move(what)); }
  // A failure that is not a system call error (bad input, protocol violation).
  static Error invalid(std::string what) { return Error(0, std::move(what)); }

  int code() const { return code_; }
  const std::string& what() const { return what_; }

  // Prepends the caller's view of the operation: "outer: inner".
  Error context(std::string_view outer) && {
    std::string combined(outer);
    combined += ": ";
    combined += what_;
    what_ = std::move(combined);
    return std::move(*this);
  }

  // The full message including the errno text, e.g. "open /x: No such file or directory".
  std::string str() const;

 private:
  int code_ = 0;
  std::string what_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  Result context(std::string_view outer) && {
    if (ok()) return std::move(*this);
    return std::move(*this).error().context(outer);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const {}
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

  Result context(std::string_view outer) && {
    if (ok_) return {};
    return std::move(error_).context(outer);
  }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> ok() { return {}; }

}  // namespace berth::sys

// BERTH_TRY(expr): evaluates a Result; on error returns it from the enclosing
// function, otherwise yields the value (GNU statement expression; gcc and clang).
#define BERTH_TRY(expr)                                        \
  ({                                                           \
    auto&& berth_try_result_ = (expr);                         \
    if (!berth_try_result_) return std::move(berth_try_result_).error(); \
    std::move(berth_try_result_).value();                      \
  })

// BERTH_TRY_CTX(expr, text): like BERTH_TRY but adds context to the error.
#define BERTH_TRY_CTX(expr, text)                                               \
  ({                                                                            \
    auto&& berth_try_result_ = (expr);                                          \
    if (!berth_try_result_) return std::move(berth_try_result_).error().context(text); \
    std::move(berth_try_result_).value();                                       \
  })
