// berthd, the berth node agent: serves the berth CLI on a unix socket and
// runs containers from images, each under its own berth-shim. See
// agent/daemon/daemon.h for the start-up sequence.
#include "agent/daemon/daemon.h"

int main(int argc, char** argv) { return berth::agent::daemon::daemonMain(argc, argv); }
