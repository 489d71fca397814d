// The streams' names for the child process and fd toolkit of runtime/sys
// (runtime/sys/child_process.h), which the engine's health checks share.
#pragma once

#include "runtime/sys/child_process.h"

namespace berth::agent::streams {

using sys::ChildProcess;
using sys::ChildStdio;
using sys::makeEventFd;
using sys::openChildPidfd;
using sys::parentOf;
using sys::pollReadable;
using sys::ScratchDir;
using sys::signalEventFd;
using sys::writeAllInterruptible;

}  // namespace berth::agent::streams
