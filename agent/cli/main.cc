// berth: the command line of berthd (cli.h).
#include "agent/cli/cli.h"

int main(int argc, char** argv) {
  return berth::agent::cli::cliMain(argc, argv);
}
