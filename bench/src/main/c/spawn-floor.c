/*
 * The guest's own cost of starting a command: posix_spawn /bin/true and wait for it, N times, each
 * timed by the guest's monotonic clock; prints one duration in nanoseconds per line. Built static
 * (bench/run) so it runs in any image. This is the floor for an exec through the agent and the API.
 * Usage: spawn-floor N [program]
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long) t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10;
    char *program = argc > 2 ? argv[2] : "/bin/true";
    char *args[] = {program, NULL};
    for (int i = 0; i < n; i++) {
        long long t0 = now();
        pid_t pid;
        int status;
        if (posix_spawn(&pid, program, NULL, NULL, args, environ) != 0) { perror("posix_spawn"); return 1; }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "%s failed\n", program);
            return 1;
        }
        printf("%lld\n", now() - t0);
    }
    return 0;
}
