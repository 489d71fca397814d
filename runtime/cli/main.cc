// berth-runtime: an OCI runtime with runc's command line, so podman,
// containerd and CRI-O can drive it. See runtime/cli/commands.cc.
#include "runtime/cli/globals.h"

int main(int argc, char** argv) { return berth::runtime::cli::runtimeMain(argc, argv); }
