// berth-shim: the per-container supervisor that berthd launches (see
// agent/shim/shim.h).
#include "agent/shim/shim.h"

int main(int argc, char** argv) { return berth::agent::shim::shimMain(argc, argv); }
