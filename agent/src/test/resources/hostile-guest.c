/*
 * A hostile guest workload for HostileGuestEndToEndTest: root in its VM, it takes bolero-init's open control channel
 * (the virtio port init holds open, so opening the device again is EBUSY) with pidfd_getfd and attacks the host
 * through it, or stops init so that nobody reads the channel. Built static by the test with musl-gcc.
 *
 *   hostile-guest garbage   writes a frame of an unknown type followed by random bytes
 *   hostile-guest huge      writes a frame header announcing 4 GiB - 1 bytes
 *   hostile-guest replay N  writes SEQUENCE N (an old number) and three STDOUT frames "REPLAYED i"
 *   hostile-guest freeze [S] stops init with ptrace (a child keeps it stopped, S seconds, rounded up to 5, or for
 *                           good): the channel is read by nobody meanwhile
 *
 * Says what it did on /dev/console ("hostile: ..."), which the host keeps as the machine's console log.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SYS_PIDFD_OPEN 434
#define SYS_PIDFD_GETFD 438

static void say(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int fd = open("/dev/console", O_WRONLY | O_NOCTTY);
    if (fd >= 0) {
        dprintf(fd, "hostile: %s\n", line);
        close(fd);
    }
    printf("hostile: %s\n", line);
    fflush(stdout);
}

/* A descriptor of init's open control port, or -1. */
static int steal_port(void) {
    DIR *d = opendir("/proc/1/fd");
    if (!d) return -1;
    struct dirent *e;
    int target = -1;
    while ((e = readdir(d))) {
        char path[300], link[256];
        snprintf(path, sizeof path, "/proc/1/fd/%s", e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0) continue;
        link[n] = 0;
        if (strstr(link, "vport")) target = atoi(e->d_name);
    }
    closedir(d);
    if (target < 0) return -1;
    int pidfd = (int)syscall(SYS_PIDFD_OPEN, 1, 0);
    if (pidfd < 0) return -1;
    int fd = (int)syscall(SYS_PIDFD_GETFD, pidfd, target, 0);
    close(pidfd);
    return fd;
}

/* Writes b whole, in one write when the port takes it (a write is one buffer of the port: frames do not mix). */
static int write_all(int fd, const unsigned char *b, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, b, len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd p = {fd, POLLOUT, 0};
            poll(&p, 1, 1000);
            continue;
        }
        if (n < 0) return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static size_t frame(unsigned char *out, int type, const void *payload, uint32_t len) {
    out[0] = (unsigned char)type;
    out[1] = (unsigned char)(len >> 24);
    out[2] = (unsigned char)(len >> 16);
    out[3] = (unsigned char)(len >> 8);
    out[4] = (unsigned char)len;
    memcpy(out + 5, payload, len);
    return 5 + len;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: hostile-guest garbage|huge|replay N|freeze [S]\n");
        return 2;
    }
    const char *mode = argv[1];
    if (!strcmp(mode, "freeze")) {
        int ready[2];
        if (pipe(ready) < 0) return 1;
        pid_t child = fork();
        if (child == 0) {
            close(ready[0]);
            if (ptrace(PTRACE_SEIZE, 1, 0, 0) < 0 || ptrace(PTRACE_INTERRUPT, 1, 0, 0) < 0) {
                say("ptrace init: %s", strerror(errno));
                _exit(1);
            }
            int st;
            waitpid(1, &st, __WALL);
            say("init stopped: nobody reads the control channel");
            close(ready[1]);
            long thaw = argc > 2 ? atol(argv[2]) : -1;
            for (long waited = 0; thaw < 0 || waited < thaw; waited += 5) { /* stopped while its tracer lives */
                char status[4096] = {0};
                int sf = open("/proc/1/status", O_RDONLY);
                if (sf >= 0) {
                    if (read(sf, status, sizeof status - 1) < 0) status[0] = 0;
                    close(sf);
                }
                char *state = strstr(status, "State:");
                if (state) *strchrnul(state, '\n') = 0;
                say("init %s", state ? state : "?");
                sleep(5);
            }
            ptrace(PTRACE_DETACH, 1, 0, 0);
            say("init resumed");
            _exit(0);
        }
        close(ready[1]);
        char c;
        read(ready[0], &c, 1);
        return 0;
    }
    int fd = steal_port();
    if (fd < 0) {
        say("could not take init's control port: %s", strerror(errno));
        return 1;
    }
    unsigned char buf[8192];
    if (!strcmp(mode, "garbage")) {
        buf[0] = 0xff; /* no such type */
        uint32_t x = 0x9e3779b9u;
        for (size_t i = 1; i < 4096; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            buf[i] = (unsigned char)x;
        }
        write_all(fd, buf, 4096);
        say("wrote 4096 bytes of garbage");
    } else if (!strcmp(mode, "huge")) {
        unsigned char h[5] = {0x03, 0xff, 0xff, 0xff, 0xff};
        write_all(fd, h, sizeof h);
        say("wrote a STDOUT header announcing 4294967295 bytes");
    } else if (!strcmp(mode, "replay") && argc == 3) {
        uint64_t seq = strtoull(argv[2], NULL, 10);
        unsigned char n[8];
        for (int i = 7; i >= 0; i--, seq >>= 8) n[i] = (unsigned char)seq;
        size_t len = frame(buf, 0x0d, n, 8);
        for (int i = 1; i <= 3; i++) {
            char text[32];
            int t = snprintf(text, sizeof text, "REPLAYED %d\n", i);
            len += frame(buf + len, 0x03, text, (uint32_t)t);
        }
        write_all(fd, buf, len);
        say("replayed SEQUENCE %s and 3 frames", argv[2]);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
