// `berth attach` (and the attached part of `berth run`): the output of a
// container's init, and input to it, over the call's BidiStream.
//
// Output comes from the container's log file, not from the shim's attach
// socket: from the moment of attach, or, when the call starts the
// container (AttachStart.start), from before the start, so a short-lived
// container's first lines are never lost however late the client reads.
// Input (stdin, close, resize) goes to the shim's attach.sock; the socket's
// own output frames are read and dropped, so the shim never finds us slow
// and disconnects us. Signals go to the init.
//
// The call ends with the container's exit status once its shim exited and
// the log is sent, or when the client detaches (cancels): the container
// keeps running then.
#pragma once

#include "agent/api/connection.h"
#include "agent/engine/container_access.h"

namespace berth::agent::streams {

namespace pb = ::berth::api;

api::CallResult<pb::ExitStatus> runAttach(engine::ContainerAccess& access,
                                          const pb::AttachStart& request,
                                          api::BidiStream& stream);

}  // namespace berth::agent::streams
