// The berth command line: global flags, finding the command, running it.
// main.cc calls cliMain(argc, argv); tests call the Io overload with their
// own streams, environment and clock, against a fake berthd.
#pragma once

#include "agent/cli/context.h"

namespace berth::agent::cli {

int cliMain(int argc, char** argv);
int cliMain(int argc, char** argv, Io& io);

}  // namespace berth::agent::cli
