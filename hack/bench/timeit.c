/* timeit: runs one command and appends "<wall ns> <peak RSS KiB> <exit code>"
 * to a file. The benchmark scripts call it once per measured run: shell
 * timing (`date +%s%N` around a command) adds a fork and exec of `date` to
 * every sample, about a millisecond, which blurs a container start of a few
 * milliseconds. Here the clock is read right before posix_spawn and right
 * after wait4, and the peak RSS comes from the same wait4 (ru_maxrss is the
 * largest of the child and the descendants it reaped, as /usr/bin/time %M).
 *
 * Usage: timeit OUTFILE CMD [ARGS...]   (exit code: the command's)
 * Built on demand by hack/bench/runtime-start.sh with the system cc. */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static long long nsSince(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000000000LL + (now.tv_nsec - start->tv_nsec);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: timeit OUTFILE CMD [ARGS...]\n");
    return 2;
  }
  FILE *out = fopen(argv[1], "a");
  if (out == NULL) {
    fprintf(stderr, "timeit: open %s: %s\n", argv[1], strerror(errno));
    return 2;
  }
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t pid;
  int err = posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ);
  if (err != 0) {
    fprintf(stderr, "timeit: spawn %s: %s\n", argv[2], strerror(err));
    return 127;
  }
  int status = 0;
  struct rusage usage;
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "timeit: wait4 %s: %s\n", argv[2], strerror(errno));
      return 2;
    }
  }
  long long elapsed = nsSince(&start);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fprintf(out, "%lld %ld %d\n", elapsed, usage.ru_maxrss, code);
  fclose(out);
  return code;
}
