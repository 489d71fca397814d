// The errno -> ErrorCode mapping and the text of each code.
#include "agent/api/status.h"

#include <cerrno>

namespace berth::agent::api {

pb::ErrorCode errorCodeFromErrno(int err) {
  switch (err) {
    case 0:
    case EINVAL:
    case E2BIG:
    case ENAMETOOLONG:
    case EDOM:
    case ERANGE:
      return pb::INVALID_ARGUMENT;
    case ENOENT:
    case ESRCH:
    case ENXIO:
      return pb::NOT_FOUND;
    case EEXIST:
      return pb::ALREADY_EXISTS;
    case EPERM:
    case EACCES:
    case EROFS:
      return pb::PERMISSION_DENIED;
    case EBUSY:
    case ETXTBSY:
    case ENOTEMPTY:
      return pb::CONFLICT;
    case ENOSPC:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case EDQUOT:
    case EMSGSIZE:
      return pb::RESOURCE_EXHAUSTED;
    case ETIMEDOUT:
      return pb::DEADLINE_EXCEEDED;
    case ECANCELED:
    case EINTR:
      return pb::CANCELLED;
    case ENOSYS:
    case EOPNOTSUPP:
      return pb::UNIMPLEMENTED;
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EAGAIN:
      return pb::UNAVAILABLE;
    case EALREADY:
    case EINPROGRESS:
    case ECHILD:
      return pb::FAILED_PRECONDITION;
    default:
      return pb::INTERNAL;
  }
}

CallError CallError::fromSys(const sys::Error& error) {
  return CallError(errorCodeFromErrno(error.code()), error.str());
}

CallError CallError::fromProto(const pb::Error& error) {
  pb::ErrorCode code = error.code();
  // A reply without a code is still a failure: never let it read as success.
  if (code == pb::ERROR_CODE_UNSPECIFIED) code = pb::INTERNAL;
  return CallError(code, error.message());
}

void CallError::toProto(pb::Error* out) const {
  out->set_code(code);
  out->set_message(message);
}

std::string errorCodeText(pb::ErrorCode code) {
  switch (code) {
    case pb::INVALID_ARGUMENT:
      return "invalid argument";
    case pb::NOT_FOUND:
      return "not found";
    case pb::ALREADY_EXISTS:
      return "already exists";
    case pb::FAILED_PRECONDITION:
      return "failed precondition";
    case pb::PERMISSION_DENIED:
      return "permission denied";
    case pb::UNAVAILABLE:
      return "unavailable";
    case pb::INTERNAL:
      return "internal error";
    case pb::VERSION_MISMATCH:
      return "version mismatch";
    case pb::CANCELLED:
      return "cancelled";
    case pb::DEADLINE_EXCEEDED:
      return "deadline exceeded";
    case pb::RESOURCE_EXHAUSTED:
      return "resource exhausted";
    case pb::UNIMPLEMENTED:
      return "unimplemented";
    case pb::CONFLICT:
      return "conflict";
    default:
      return "error " + std::to_string(static_cast<int>(code));
  }
}

std::string CallError::str() const {
  return errorCodeText(code) + ": " + message;
}

}  // namespace berth::agent::api
