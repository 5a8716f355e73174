/*
 * A stand-in for a VMM binary in tests of the jail around the drivers. NOT Firecracker, NOT Cloud Hypervisor: it
 * boots nothing. It takes the API socket as Firecracker (--api-sock PATH) or Cloud Hypervisor
 * (--api-socket path=PATH) do, writes what it may and may not do in its jail to /run/standin.report, then serves
 * HTTP on the socket, answering 204 to every request and appending "METHOD PATH BODY" to /run/requests.log.
 * Built static with musl-gcc by the test, so the jail needs no libraries for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void report(FILE *f, const char *what, int ok) {
    fprintf(f, "%s=%s\n", what, ok ? "ok" : strerror(errno));
}

static int writable(const char *path) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return 0;
    close(fd);
    return 1;
}

static void serve(int c) {
    static char buf[65536];
    size_t len = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
            if (len == sizeof buf) return;
            ssize_t n = read(c, buf + len, sizeof buf - len);
            if (n <= 0) return;
            len += n;
        }
        size_t head = end + 4 - buf, body = 0;
        *end = '\0';
        char *cl = strcasestr(buf, "\r\nContent-Length:");
        if (cl) body = strtoul(cl + 17, NULL, 10);
        if (head + body > sizeof buf) return;
        while (len < head + body) {
            ssize_t n = read(c, buf + len, sizeof buf - len);
            if (n <= 0) return;
            len += n;
        }
        char *sp2 = strchr(buf, ' ') ? strchr(strchr(buf, ' ') + 1, ' ') : NULL;
        if (sp2) *sp2 = '\0';
        char line[70000];
        int n = snprintf(line, sizeof line, "%s %.*s\n", buf, (int)body, buf + head);
        int log = open("/run/requests.log", O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (log >= 0) {
            if (write(log, line, n) < 0) {}
            close(log);
        }
        const char *ok = "HTTP/1.1 204 No Content\r\n\r\n";
        if (write(c, ok, strlen(ok)) < 0) return;
        memmove(buf, buf + head + body, len - head - body);
        len -= head + body;
    }
}

int main(int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--api-sock")) path = argv[i + 1];
        if (!strcmp(argv[i], "--api-socket")) path = argv[i + 1] + (strncmp(argv[i + 1], "path=", 5) ? 0 : 5);
    }
    if (!path) {
        fprintf(stderr, "standin-vmm: no --api-sock or --api-socket\n");
        return 2;
    }
    FILE *f = fopen("/run/standin.report", "w");
    if (!f) {
        perror("standin-vmm: /run/standin.report");
        return 2;
    }
    report(f, "open_dev_kvm", writable("/dev/kvm"));
    report(f, "write_root_drive", writable("/rootfs.raw"));
    report(f, "write_kernel", writable("/vmlinux"));
    report(f, "setuid_0", setuid(0) == 0);
    report(f, "mount_proc", mkdir("/run/p", 0700) == 0 && mount("proc", "/run/p", "proc", 0, NULL) == 0);
    report(f, "chroot", chroot("/run") == 0);
    fclose(f);

    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 16) < 0) {
        perror("standin-vmm: listen on the api socket");
        return 2;
    }
    signal(SIGCHLD, SIG_IGN);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        if (fork() == 0) {
            close(s);
            serve(c);
            _exit(0);
        }
        close(c);
    }
}
