/*
 * bolero-init: PID 1 of every Bolero microVM.
 *
 * Implements docs/guest-protocol.md (version 1): loads the kernel modules listed in /etc/bolero/modules, finds the
 * control channel (virtio-serial port "bolero.ctl", else a vsock listener on port 1024), says HELLO until a CONFIG
 * arrives, mounts the root drive and switches into it, sets up hostname, /etc/hosts, /etc/resolv.conf and the
 * network, runs the workload as the image's user, streams its output, forwards signals, reaps zombies, reports
 * EXITED or FAILED, waits for the host's ACK and reboots (the VMM runs with "no reboot", so the VM ends). Runs the
 * host's EXEC requests beside the workload. Frames are kept (up to 1 MiB) until the host confirms it persisted them,
 * and sent again to the next host.
 *
 * Diagnostics go to /dev/console, prefixed "bolero-init: ".
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* <linux/vm_sockets.h> is not in musl's include path: the ABI struct, as the kernel defines it. */
struct sockaddr_vm {
    sa_family_t svm_family;
    unsigned short svm_reserved1;
    unsigned int svm_port;
    unsigned int svm_cid;
    unsigned char svm_flags;
    unsigned char svm_zero[sizeof(struct sockaddr) - sizeof(sa_family_t) - sizeof(unsigned short) -
                           2 * sizeof(unsigned int) - sizeof(unsigned char)];
};
#define VMADDR_CID_ANY 0xffffffffu

#define HELLO 0x01
#define STARTED 0x02
#define STDOUT_FRAME 0x03
#define STDERR_FRAME 0x04
#define EXITED 0x05
#define FAILED 0x06
#define CONFIG 0x81
#define SIGNAL 0x82
#define ACK 0x83
#define EXEC_STARTED 0x07
#define EXEC_STDOUT 0x08
#define EXEC_STDERR 0x09
#define EXEC_EXITED 0x0a
#define EXEC_FAILED 0x0b
#define EXEC 0x84
#define EXEC_INPUT 0x85
#define EXEC_SIGNAL 0x86
#define EXEC_RESIZE 0x87
#define EXEC_CREDIT 0x89 /* host -> guest: exec id, 4-byte count: the host takes that many more output bytes */
#define SEQUENCE 0x0d /* guest -> host: the sequence number of the next frame */
#define RECEIVED 0x88 /* host -> guest: every frame before this sequence number is persisted; 0: send them again */
#define CLOCK 0x8a    /* host -> guest: 8-byte realtime in ns since the epoch: set the clock (after a resume) */
#define IDENTITY 0x8b /* host -> guest: key/value pairs: the clone of a VM takes its own identity (after a fork) */
#define INPUT 0x8c    /* host -> guest: bytes for the workload's stdin (CONFIG tty or stdin); empty: close a pipe */
#define RESIZE 0x8d   /* host -> guest: 2-byte rows, 2-byte cols: the size of the workload's terminal (CONFIG tty) */
#define VOLUME_GROWN 0x8e /* host -> guest: 8-byte size, serial: a mounted volume's device grew: grow its fs */
#define FREEZE 0x8f /* host -> guest: 4-byte request id, 1-byte op (1 freeze, 0 thaw), serial: FIFREEZE/FITHAW */
#define FROZEN 0x0e /* guest -> host: 4-byte request id, 4-byte errno (0: done): the answer to a FREEZE */
#define MAX_EXECS 16
#define PENDING_MAX (1u << 20)

#define MAX_PAYLOAD (1u << 20)
#define HEADER 5
#define TICK_MS 250
#define HELLO_FIRST_MS 10
#define DEVICE_WAIT_MS 10000
#define ACK_WAIT_S 300 /* default of CONFIG's ack_wait_s */
#define VSOCK_PORT 1024
#define PORT_NAME "bolero.ctl"
#define VERSION "bolero-init/1"
#define NEWROOT "/newroot"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---------- diagnostics ---------- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    char buf[512];
    int n = snprintf(buf, sizeof buf, "bolero-init: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(buf);
    buf[len++] = '\n';
    if (write(2, buf, len) < 0) { /* nowhere else to report */ }
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Milliseconds since the kernel started keeping time (early in its boot): when init began, the kernel's boot time. */
static long uptime_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static void power_off(void) __attribute__((noreturn));
static void power_off(void) {
    sync();
    reboot(RB_AUTOBOOT);
    for (;;) pause(); /* PID 1 must never return */
}

/* ---------- control channel ---------- */

static int ctl_fd = -1;         /* connected stream: the virtio port, or an accepted vsock connection */
/* How long a closed port stays closed before it is reopened: HELLO_FIRST_MS once the host has sent something, each
 * pause an eighth longer while it reads EOF (no host), up to TICK_MS. A resumed or cloned guest reads EOF at once (its
 * host is a new VMM), and the new host connects within milliseconds: its first frames (the clock, a clone's identity)
 * then arrive that soon, while an absent host costs the guest a wake-up per TICK_MS. */
static long reopen_pause = HELLO_FIRST_MS;
static int ctl_listen = -1;     /* vsock listener, -1 with a virtio port */
static char ctl_path[PATH_MAX];  /* /dev/vportNpM */
static unsigned char rx[HEADER + MAX_PAYLOAD];

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static size_t rx_len;

/* Every frame but HELLO gets a sequence number (from 0) and is kept, up to 1 MiB in all, until the host says it has
 * persisted it (RECEIVED). pending[0, pending_sent) went out on the current connection, the rest not yet; every
 * (re)transmission starts with SEQUENCE. When full, newer frames are dropped and counted. */
static unsigned char pending[PENDING_MAX];
static size_t pending_len, pending_sent;
static uint64_t pending_seq;  /* of the frame at pending[0] */
static uint64_t sent_frames;  /* frames in pending[0, pending_sent) */
static int need_sequence = 1;
static unsigned long pending_dropped;

/* The kept frames go out again, from the oldest. */
static void resend_kept(void) {
    pending_sent = 0;
    sent_frames = 0;
    need_sequence = 1;
}

static void execs_unthrottle(void);

static void ctl_drop(void) {
    execs_unthrottle();
    if (ctl_fd >= 0) close(ctl_fd);
    ctl_fd = -1;
    rx_len = 0;
    resend_kept();
}

/* Opens the channel if it is closed. For the virtio port this always succeeds while the device exists: whether a
 * host is connected shows as EOF / POLLHUP later. */
static void ctl_open(void) {
    if (ctl_fd >= 0) return;
    if (ctl_listen >= 0) {
        ctl_fd = accept4(ctl_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } else {
        ctl_fd = open(ctl_path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (ctl_fd < 0) say("open %s: %s", ctl_path, strerror(errno));
    }
}

/* Writes bytes whole. 0: written; -1: nothing written (no host); -2: cut short (the host went away mid-frame, the
 * frame is lost). */
static int write_all(const unsigned char *b, size_t total) {
    if (ctl_fd < 0) return -1;
    size_t off = 0;
    while (off < total) {
        ssize_t n = write(ctl_fd, b + off, total - off);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {ctl_fd, POLLOUT, 0};
            int r = poll(&p, 1, 1000);
            if (r > 0 && !(p.revents & (POLLHUP | POLLERR))) continue;
            if (r == 0) continue; /* connected but slow: back-pressure */
        }
        /* host gone: a frame cut short on a stream socket would desynchronise it */
        if (off > 0 || ctl_listen >= 0) ctl_drop();
        return off > 0 ? -2 : -1;
    }
    return 0;
}

static void put_be64(unsigned char *b, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8) b[i] = (unsigned char)v;
}

static uint64_t be64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | b[i];
    return v;
}

/* Sends the kept frames not sent on this connection yet, oldest first. 0 when all went out. */
static int flush_pending(void) {
    while (pending_sent < pending_len) {
        if (need_sequence) {
            unsigned char seq[HEADER + 8] = {SEQUENCE, 0, 0, 0, 8};
            put_be64(seq + HEADER, pending_seq + sent_frames);
            if (write_all(seq, sizeof seq) != 0) return -1;
            need_sequence = 0;
        }
        size_t len = HEADER + be32(pending + pending_sent + 1);
        if (write_all(pending + pending_sent, len) != 0) return -1; /* kept: sent again to the next host */
        pending_sent += len;
        sent_frames++;
    }
    if (pending_dropped) {
        say("dropped %lu frames: 1 MiB of output was not yet received by a host", pending_dropped);
        pending_dropped = 0;
    }
    return 0;
}

/* RECEIVED: forgets the frames the host persisted; 0 asks for all kept frames again. */
static void on_received(const unsigned char *p, uint32_t len) {
    if (len != 8) return;
    uint64_t upto = be64(p);
    if (upto == 0) {
        execs_unthrottle();
        resend_kept();
        return;
    }
    size_t at = 0;
    uint64_t frames = 0;
    while (at < pending_len && pending_seq + frames < upto) {
        at += HEADER + be32(pending + at + 1);
        frames++;
    }
    memmove(pending, pending + at, pending_len - at);
    pending_len -= at;
    pending_seq += frames;
    if (frames > sent_frames) { /* unsent frames the host had: tell it where the stream goes on */
        resend_kept();
    } else {
        pending_sent -= at;
        sent_frames -= frames;
    }
}

/* Keeps one frame (HELLO: writes it only) and sends what is unsent. Returns 0 when kept, -1 when dropped. */
static int send_frame(int type, const void *payload, uint32_t len) {
    static unsigned char buf[HEADER + 65536];
    if (len > sizeof buf - HEADER) return -1;
    buf[0] = (unsigned char)type;
    buf[1] = (unsigned char)(len >> 24);
    buf[2] = (unsigned char)(len >> 16);
    buf[3] = (unsigned char)(len >> 8);
    buf[4] = (unsigned char)len;
    if (len) memcpy(buf + HEADER, payload, len);
    size_t total = HEADER + len;
    if (type == HELLO) return write_all(buf, total) == 0 ? 0 : -1;
    if (pending_len + total > sizeof pending) {
        pending_dropped++;
        return -1;
    }
    memcpy(pending + pending_len, buf, total);
    pending_len += total;
    flush_pending();
    return 0;
}

static int send_u32(int type, uint32_t v) {
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
    return send_frame(type, b, 4);
}


typedef void (*frame_handler)(int type, const unsigned char *payload, uint32_t len);

/* Hands each complete frame in rx[0, rx_len) to h and keeps the incomplete rest. On a protocol error the channel is
 * closed (reopened on the next tick). The host-facing parser: guest/fuzz/ feeds it without a VM. */
static void ctl_frames(frame_handler h) {
    while (rx_len >= HEADER) {
        int type = rx[0];
        uint32_t len = be32(rx + 1);
        if (len > MAX_PAYLOAD || (type != CONFIG && type != SIGNAL && type != ACK && type != EXEC &&
                                  type != EXEC_INPUT && type != EXEC_SIGNAL && type != EXEC_RESIZE &&
                                  type != RECEIVED && type != EXEC_CREDIT && type != CLOCK && type != IDENTITY &&
                                  type != INPUT && type != RESIZE && type != VOLUME_GROWN && type != FREEZE)) {
            say("protocol error: frame type 0x%02x, length %u; reconnecting", type, len);
            ctl_drop();
            return;
        }
        if (rx_len < HEADER + len) return;
        h(type, rx + HEADER, len);
        if (ctl_fd < 0) return;
        memmove(rx, rx + HEADER + len, rx_len - HEADER - len);
        rx_len -= HEADER + len;
    }
}

/* Reads what the channel has and hands each complete frame to h. On EOF or a protocol error the channel is closed
 * (reopened on the next tick). */
static void ctl_read(frame_handler h) {
    for (;;) {
        ssize_t n = read(ctl_fd, rx + rx_len, sizeof rx - rx_len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            ctl_drop();
            return;
        }
        reopen_pause = HELLO_FIRST_MS;
        rx_len += (size_t)n;
        ctl_frames(h);
        if (ctl_fd < 0) return;
    }
}

/* Finds /dev/<port> whose /sys/class/virtio-ports/<port>/name is bolero.ctl. */
static int find_port(void) {
    DIR *d = opendir("/sys/class/virtio-ports");
    if (!d) return -1;
    struct dirent *e;
    int found = -1;
    while (found < 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[PATH_MAX], name[64] = {0};
        snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/name", e->d_name);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n = read(fd, name, sizeof name - 1);
        close(fd);
        if (n > 0 && name[n - 1] == '\n') name[n - 1] = 0;
        if (n > 0 && strcmp(name, PORT_NAME) == 0) {
            snprintf(ctl_path, sizeof ctl_path, "/dev/%s", e->d_name);
            if (access(ctl_path, F_OK) == 0) found = 0;
        }
    }
    closedir(d);
    return found;
}

static int vsock_listen(void) {
    int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = VSOCK_PORT};
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0) {
        close(s);
        return -1;
    }
    return s;
}

/* The virtio port when it appears within the bound; else a vsock listener. */
static int ctl_setup(void) {
    long deadline = now_ms() + DEVICE_WAIT_MS;
    while (find_port() < 0) {
        if (access("/dev/vsock", F_OK) == 0 && (ctl_listen = vsock_listen()) >= 0) {
            say("control channel: vsock port %d", VSOCK_PORT);
            return 0;
        }
        if (now_ms() > deadline) return -1;
        sleep_ms(20);
    }
    return 0;
}

/* ---------- configuration ---------- */

static struct {
    char **argv;
    int argc;
    char **env;
    int envc;
    const char *workdir, *user, *hostname, *root, *ip, *gateway;
    const char *dns[8];
    int dnsc;
    const char *search[6];
    int searchc;
    const char *mounts[8]; /* SERIAL:PATH */
    int mountc;
    long ack_wait_s;
    char **secret_files; /* PATH=contents, written by write_secrets() */
    int secret_filec;
    int tty;              /* the workload runs on a pseudo-terminal of size ws (CONFIG tty) */
    struct winsize ws;
    int stdin_open;       /* the workload's stdin is a pipe fed by INPUT (CONFIG stdin), not /dev/null */
} cfg = {.ack_wait_s = ACK_WAIT_S};
static char cfg_buf[MAX_PAYLOAD + 1];
static int have_config;
static char failure[512];

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
    if (failure[0]) return; /* the first failure is the one to report */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(failure, sizeof failure, fmt, ap);
    va_end(ap);
}

/* Parses a terminal size ROWSxCOLS (1-65535 each) into *ws; -1 when v is not one. */
static int parse_size(const char *v, struct winsize *ws) {
    unsigned rows = 0, cols = 0;
    char end;
    if (sscanf(v, "%ux%u%c", &rows, &cols, &end) != 2 || !rows || !cols || rows > 65535 || cols > 65535) return -1;
    *ws = (struct winsize){.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    return 0;
}

static int parse_config(const unsigned char *p, uint32_t len) {
    memcpy(cfg_buf, p, len);
    cfg_buf[len] = 0;
    if (len > 0 && cfg_buf[len - 1] != 0) {
        fail("config: malformed payload");
        return -1;
    }
    int strings = 0;
    for (uint32_t i = 0; i < len; i++) strings += cfg_buf[i] == 0;
    if (strings % 2) {
        fail("config: malformed payload");
        return -1;
    }
    cfg.argv = calloc((size_t)strings / 2 + 1, sizeof(char *));
    cfg.env = calloc((size_t)strings / 2 + 3, sizeof(char *));
    cfg.secret_files = calloc((size_t)strings / 2 + 1, sizeof(char *));
    cfg.workdir = "/";
    cfg.user = "0:0";
    cfg.root = "/dev/vda";
    for (char *k = cfg_buf; k < cfg_buf + len;) {
        char *v = k + strlen(k) + 1;
        char *next = v + strlen(v) + 1;
        if (!strcmp(k, "arg")) cfg.argv[cfg.argc++] = v;
        else if (!strcmp(k, "env")) cfg.env[cfg.envc++] = v;
        else if (!strcmp(k, "workdir")) cfg.workdir = v;
        else if (!strcmp(k, "user")) cfg.user = v;
        else if (!strcmp(k, "hostname")) cfg.hostname = v;
        else if (!strcmp(k, "root")) cfg.root = v;
        else if (!strcmp(k, "ip")) cfg.ip = v;
        else if (!strcmp(k, "gateway")) cfg.gateway = v;
        else if (!strcmp(k, "ack_wait_s")) cfg.ack_wait_s = strtol(v, NULL, 10);
        else if (!strcmp(k, "tty") || !strcmp(k, "stdin")) {
            if (!strcmp(k, "tty") ? parse_size(v, &cfg.ws) < 0 : strcmp(v, "open") != 0) {
                fail("config: %s %s is not %s", k, v, !strcmp(k, "tty") ? "ROWSxCOLS" : "open");
                return -1;
            }
            *(!strcmp(k, "tty") ? &cfg.tty : &cfg.stdin_open) = 1;
        } else if (!strcmp(k, "dns")) {
            if (cfg.dnsc < 8) cfg.dns[cfg.dnsc++] = v;
        } else if (!strcmp(k, "search")) {
            if (cfg.searchc < 6) cfg.search[cfg.searchc++] = v;
        } else if (!strcmp(k, "secret_file")) {
            if (!strchr(v, '=') || v[0] != '/') {
                fail("config: malformed secret_file"); /* never the value: it is a secret */
                return -1;
            }
            cfg.secret_files[cfg.secret_filec++] = v;
        } else if (!strcmp(k, "mount")) {
            if (cfg.mountc == 8 || !strchr(v, ':')) {
                fail("config: mount %s: more than 8, or not SERIAL:PATH", v);
                return -1;
            }
            cfg.mounts[cfg.mountc++] = v;
        } else {
            fail("config: unknown key %s", k);
            return -1;
        }
        k = next;
    }
    if (cfg.argc == 0 || !cfg.argv[0][0]) {
        fail("config: no arg");
        return -1;
    }
    return 0;
}

static long config_at; /* uptime_ms() when the CONFIG arrived */
static int hellos;     /* HELLOs written before it */

/* CLOCK: the host's realtime; a resumed VM's clock stood still while it was suspended. */
static void on_clock(const unsigned char *p, uint32_t len) {
    if (len != 8) return;
    uint64_t ns = be64(p);
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    if (clock_settime(CLOCK_REALTIME, &ts) < 0) say("set the clock: %s", strerror(errno));
}

static void on_boot_frame(int type, const unsigned char *p, uint32_t len) {
    if (type == RECEIVED) on_received(p, len);
    if (type == CLOCK) on_clock(p, len);
    if (type != CONFIG || have_config) return; /* SIGNAL/ACK before the workload: nothing to do */
    have_config = 1;
    config_at = uptime_ms();
    parse_config(p, len);
}

/* HELLO until a CONFIG arrives: every HELLO_FIRST_MS at first, each pause an eighth longer than the one before, up to
 * TICK_MS. The virtio port reads EOF until a host connects, and the host may connect just after a HELLO: a short
 * pause at first keeps that wait short while the host is expected (it connects as soon as the VMM runs), and the
 * growth keeps an absent host from costing the guest CPU. */
static void await_config(void) {
    long next_hello = 0, pause = HELLO_FIRST_MS;
    while (!have_config) {
        long now = now_ms();
        if (now >= next_hello) {
            ctl_open();
            if (send_frame(HELLO, VERSION, sizeof VERSION - 1) == 0) hellos++;
            next_hello = now + pause;
            pause = pause + pause / 8 + 1 < TICK_MS ? pause + pause / 8 + 1 : TICK_MS;
        }
        struct pollfd p = {ctl_fd >= 0 ? ctl_fd : ctl_listen, POLLIN, 0};
        long wait = next_hello - now_ms();
        if (p.fd < 0) {
            sleep_ms(wait > 0 ? wait : 0);
            continue;
        }
        int r = poll(&p, 1, (int)(wait > 0 ? wait : 0));
        if (r <= 0) continue;
        if (ctl_fd >= 0) {
            ctl_read(on_boot_frame);
            if (ctl_fd < 0) sleep_ms(next_hello - now_ms() > 0 ? next_hello - now_ms() : 0);
        } else {
            ctl_open(); /* a vsock connection is waiting */
            next_hello = 0;
        }
    }
}

/* ---------- system setup ---------- */

static void mkdirs(const char *path, mode_t mode) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        mkdir(p, 0755);
        *s = '/';
    }
    mkdir(p, mode);
}

static int mount_at(const char *src, const char *dst, const char *type, unsigned long flags, const char *data,
                    mode_t mode) {
    mkdirs(dst, mode);
    if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY) {
        fail("mount %s on %s: %s", src, dst, strerror(errno));
        return -1;
    }
    return 0;
}

static void load_modules(void) {
    FILE *f = fopen("/etc/bolero/modules", "re");
    if (!f) return;
    char line[PATH_MAX];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) continue;
        int fd = open(line, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            say("module %s: %s", line, strerror(errno));
            continue;
        }
        if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST) say("load %s: %s", line, strerror(errno));
        close(fd);
        unlink(line); /* the initramfs stays in RAM: free what is no longer needed */
    }
    fclose(f);
}

static int wait_for(const char *path) {
    long deadline = now_ms() + DEVICE_WAIT_MS;
    while (access(path, F_OK) < 0) {
        if (now_ms() > deadline) return -1;
        sleep_ms(10);
    }
    return 0;
}

#include <sys/statfs.h>
#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif

/* Grows the ext4 file system of `device` mounted at `mnt` online to fill the device: a machine given a larger root
 * drive than the image's (guest.rootfs_mb) sees the room, and so does one mounting a volume that was extended. Best
 * effort: on failure the file system keeps its size and init says why. */
static void grow_fs(const char *device, const char *mnt) {
    uint64_t bytes = 0;
    struct statfs before, after;
    int dev = open(device, O_RDONLY | O_CLOEXEC);
    if (dev < 0 || ioctl(dev, BLKGETSIZE64, &bytes) < 0 || statfs(mnt, &before) < 0) {
        say("grow %s: %s", device, strerror(errno));
        if (dev >= 0) close(dev);
        return;
    }
    close(dev);
    uint64_t blocks = bytes / (uint64_t)before.f_bsize;
    if (blocks <= (uint64_t)before.f_blocks) return;
    int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* a no-op when the file system already spans the device (f_blocks excludes its metadata) */
    if (fd < 0 || ioctl(fd, EXT4_IOC_RESIZE_FS, &blocks) < 0) {
        say("grow %s to %llu blocks: %s", device, (unsigned long long)blocks, strerror(errno));
    } else if (statfs(mnt, &after) == 0 && after.f_blocks > before.f_blocks) {
        say("grew %s to %llu MiB", device, (unsigned long long)(after.f_blocks * after.f_bsize >> 20));
    }
    if (fd >= 0) close(fd);
}

/* Mounts the root drive and makes it / (as switch_root does: move the mounts, then chroot). */
static int switch_root(void) {
    if (wait_for(cfg.root) < 0) {
        fail("mount %s: device did not appear", cfg.root);
        return -1;
    }
    mkdir(NEWROOT, 0755);
    if (mount(cfg.root, NEWROOT, "ext4", 0, "") < 0) {
        fail("mount %s: %s", cfg.root, strerror(errno));
        return -1;
    }
    grow_fs(cfg.root, NEWROOT);
    static const char *moved[] = {"/dev", "/proc", "/sys"};
    for (size_t i = 0; i < sizeof moved / sizeof *moved; i++) {
        char dst[64];
        snprintf(dst, sizeof dst, NEWROOT "%s", moved[i]);
        mkdirs(dst, 0755);
        if (mount(moved[i], dst, NULL, MS_MOVE, NULL) < 0) {
            fail("move %s: %s", moved[i], strerror(errno));
            return -1;
        }
    }
    if (chdir(NEWROOT) < 0 || mount(NEWROOT, "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0) {
        fail("switch root to %s: %s", cfg.root, strerror(errno));
        return -1;
    }
    if (mount_at("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620", 0755) < 0 ||
        mount_at("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777) < 0 ||
        mount_at("run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", 0755) < 0 ||
        mount_at("tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777) < 0)
        return -1;
    return 0;
}

/* Finds the virtio block device whose serial (/sys/block/vdX/serial) is `serial`, waiting for it to appear, and
 * writes its /dev path to `dev`. Volumes are found by serial, never by their order on the bus. */
static int find_by_serial(const char *serial, char *dev, size_t size) {
    long deadline = now_ms() + DEVICE_WAIT_MS;
    for (;;) {
        DIR *d = opendir("/sys/block");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strncmp(e->d_name, "vd", 2) != 0) continue;
            char path[PATH_MAX], got[64] = {0};
            snprintf(path, sizeof path, "/sys/block/%s/serial", e->d_name);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            ssize_t n = read(fd, got, sizeof got - 1);
            close(fd);
            if (n <= 0) continue;
            got[strcspn(got, "\n")] = 0;
            if (strcmp(got, serial) == 0) {
                snprintf(dev, size, "/dev/%s", e->d_name);
                closedir(d);
                return wait_for(dev);
            }
        }
        if (d) closedir(d);
        if (now_ms() > deadline) return -1;
        sleep_ms(10);
    }
}

/* Mounts each volume (CONFIG `mount` SERIAL:PATH) in the new root, creating the path, and grows its file system to its
 * device's size (the volume may have been extended since it was last mounted). */
static int mount_volumes(void) {
    for (int i = 0; i < cfg.mountc; i++) {
        char serial[64], dev[PATH_MAX];
        const char *colon = strchr(cfg.mounts[i], ':');
        const char *path = colon + 1;
        snprintf(serial, sizeof serial, "%.*s", (int)(colon - cfg.mounts[i]), cfg.mounts[i]);
        if (find_by_serial(serial, dev, sizeof dev) < 0) {
            fail("mount volume %s on %s: no device with that serial appeared", serial, path);
            return -1;
        }
        mkdirs(path, 0755);
        if (mount(dev, path, "ext4", MS_NOSUID | MS_NODEV, "") < 0) {
            fail("mount volume %s (%s) on %s: %s", serial, dev, path, strerror(errno));
            return -1;
        }
        grow_fs(dev, path);
    }
    return 0;
}

#define GROWN_WAIT_MS 2000 /* how long VOLUME_GROWN waits for the device to show its new size */

/* The index of the mount (CONFIG `mount` SERIAL:PATH) of the volume whose serial is the n bytes at `serial`; -1 for
 * none (or a serial of 0 or over 63 bytes, or one holding a NUL). */
static int mount_of(const unsigned char *serial, uint32_t n) {
    if (n == 0 || n > 63 || memchr(serial, 0, n)) return -1;
    for (int i = 0; i < cfg.mountc; i++) {
        const char *colon = strchr(cfg.mounts[i], ':');
        if (colon && (size_t)(colon - cfg.mounts[i]) == n && memcmp(cfg.mounts[i], serial, n) == 0) return i;
    }
    return -1;
}

/* Parses a VOLUME_GROWN payload: 8-byte big-endian size, then the volume's serial (1-63 bytes, no NUL), which a
 * mount must name: writes the size, the serial and the mount's index; -1 for a malformed payload or an unknown serial.
 * The host-facing half of on_volume_grown, which guest/fuzz/ feeds. */
static int parse_volume_grown(const unsigned char *p, uint32_t len, uint64_t *size, char serial[64], int *mount) {
    if (len < 9 || (*mount = mount_of(p + 8, len - 8)) < 0) return -1;
    *size = be64(p);
    memcpy(serial, p + 8, len - 8);
    serial[len - 8] = 0;
    return 0;
}

/* VOLUME_GROWN: the host resized a mounted volume's drive: waits up to GROWN_WAIT_MS for the device to show the new
 * size (the resize reaches the guest's driver as an interrupt of its own, not ordered with this frame), then grows
 * the file system online to fill it, as at mount. Best effort: what fails is said on the console. */
static void on_volume_grown(const unsigned char *p, uint32_t len) {
    uint64_t size = 0, bytes = 0;
    char serial[64], dev[PATH_MAX];
    int mount = -1;
    if (parse_volume_grown(p, len, &size, serial, &mount) < 0) {
        say("volume grown: no mounted volume in a frame of %u bytes", len);
        return;
    }
    if (find_by_serial(serial, dev, sizeof dev) < 0) {
        say("volume %s grown: no device with that serial", serial);
        return;
    }
    for (long deadline = now_ms() + GROWN_WAIT_MS;; sleep_ms(10)) {
        int fd = open(dev, O_RDONLY | O_CLOEXEC);
        int ok = fd >= 0 && ioctl(fd, BLKGETSIZE64, &bytes) == 0;
        if (fd >= 0) close(fd);
        if (!ok || bytes >= size || now_ms() > deadline) break;
    }
    if (bytes < size) say("volume %s grown: %s shows %llu bytes, not %llu", serial, dev, (unsigned long long)bytes,
                          (unsigned long long)size);
    grow_fs(dev, strchr(cfg.mounts[mount], ':') + 1);
}

#ifndef FIFREEZE
#define FIFREEZE _IOWR('X', 119, int)
#define FITHAW _IOWR('X', 120, int)
#endif
#define FREEZE_MAX_MS 60000 /* a file system frozen this long is thawed by init itself: its host went away */
static long thaw_at[8];     /* by mount: now_ms() when init thaws its frozen file system; 0: not frozen */

/* Parses a FREEZE payload: 4-byte request id, 1-byte op (1 freeze, 0 thaw), the volume's serial, which a mount must
 * name: writes the id, op and mount index; -1 for a malformed payload (nothing written) or, after the id, -2 for an
 * unknown serial or op. The host-facing half of on_freeze, which guest/fuzz/ feeds. */
static int parse_freeze(const unsigned char *p, uint32_t len, uint32_t *id, int *op, int *mount) {
    if (len < 6) return -1;
    *id = be32(p);
    *op = p[4];
    if (*op > 1 || (*mount = mount_of(p + 5, len - 5)) < 0) return -2;
    return 0;
}

/* Freezes (FIFREEZE: writes flushed, new ones held) or thaws (FITHAW) the file system of mount i; 0 or the errno. */
static int set_frozen(int i, int freeze) {
    const char *path = strchr(cfg.mounts[i], ':') + 1;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = fd < 0 || ioctl(fd, freeze ? FIFREEZE : FITHAW, 0) < 0 ? errno : 0;
    if (fd >= 0) close(fd);
    if (!err || !freeze) thaw_at[i] = !err && freeze ? now_ms() + FREEZE_MAX_MS : 0;
    return err;
}

/* FREEZE: freezes or thaws a mounted volume's file system, for the host to copy it consistently, and answers FROZEN
 * with the outcome. A frozen file system is thawed by init after FREEZE_MAX_MS if the host does not. */
static void on_freeze(const unsigned char *p, uint32_t len) {
    uint32_t id = 0;
    int op = 0, mount = -1;
    int parsed = parse_freeze(p, len, &id, &op, &mount);
    if (parsed == -1) {
        say("freeze: a frame of %u bytes", len);
        return;
    }
    int err = parsed < 0 ? ENOENT : set_frozen(mount, op);
    if (err) say("%s volume: %s", op ? "freeze" : "thaw", strerror(err));
    unsigned char answer[8];
    memcpy(answer, p, 4);
    answer[4] = (unsigned char)(err >> 24);
    answer[5] = (unsigned char)(err >> 16);
    answer[6] = (unsigned char)(err >> 8);
    answer[7] = (unsigned char)err;
    send_frame(FROZEN, answer, sizeof answer);
}

/* Thaws the file systems frozen longer than FREEZE_MAX_MS; whether one is still frozen. */
static int thaw_expired(void) {
    int frozen = 0;
    for (int i = 0; i < cfg.mountc; i++) {
        if (!thaw_at[i]) continue;
        if (now_ms() < thaw_at[i]) {
            frozen = 1;
        } else {
            say("volume %s: frozen for %d s, thawed: its host did not", cfg.mounts[i], FREEZE_MAX_MS / 1000);
            set_frozen(i, 0);
        }
    }
    return frozen;
}

static int write_file(const char *path, const char *content) {
    mkdirs("/etc", 0755);
    unlink(path); /* may be a dangling symlink into /run */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || write(fd, content, strlen(content)) < 0) {
        fail("write %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int ifreq_op(int s, unsigned long op, const char *ifname, in_addr_t addr, short flags) {
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, IFNAMSIZ, "%s", ifname);
    if (op == SIOCSIFFLAGS) {
        if (ioctl(s, SIOCGIFFLAGS, &r) < 0) return -1;
        r.ifr_flags |= flags;
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&r.ifr_addr;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = addr;
    }
    return ioctl(s, op, &r);
}

static int setup_network(void) {
    char addr[32] = {0};
    int prefix = 32;
    if (cfg.ip) {
        const char *slash = strchr(cfg.ip, '/');
        size_t n = slash ? (size_t)(slash - cfg.ip) : strlen(cfg.ip);
        if (n >= sizeof addr) n = sizeof addr - 1;
        memcpy(addr, cfg.ip, n);
        if (slash) prefix = atoi(slash + 1);
    }
    if (cfg.hostname && sethostname(cfg.hostname, strlen(cfg.hostname)) < 0) {
        fail("hostname %s: %s", cfg.hostname, strerror(errno));
        return -1;
    }
    char hosts[256];
    if (cfg.hostname && cfg.ip)
        snprintf(hosts, sizeof hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost\n%s\t%s\n", addr, cfg.hostname);
    else if (cfg.hostname)
        snprintf(hosts, sizeof hosts, "127.0.0.1\tlocalhost %s\n::1\tlocalhost\n", cfg.hostname);
    else
        snprintf(hosts, sizeof hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost\n");
    if (write_file("/etc/hosts", hosts) < 0) return -1;
    if (cfg.dnsc || cfg.searchc) {
        char resolv[2048] = {0};
        for (int i = 0; i < cfg.dnsc; i++) {
            size_t l = strlen(resolv);
            snprintf(resolv + l, sizeof resolv - l, "nameserver %s\n", cfg.dns[i]);
        }
        if (cfg.searchc) {
            size_t l = strlen(resolv);
            snprintf(resolv + l, sizeof resolv - l, "search");
            for (int i = 0; i < cfg.searchc; i++) {
                l = strlen(resolv);
                snprintf(resolv + l, sizeof resolv - l, " %s", cfg.search[i]);
            }
            l = strlen(resolv);
            snprintf(resolv + l, sizeof resolv - l, "\n");
        }
        if (write_file("/etc/resolv.conf", resolv) < 0) return -1;
    }

    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0 || ifreq_op(s, SIOCSIFFLAGS, "lo", 0, IFF_UP) < 0) {
        fail("network lo up: %s", strerror(errno));
        if (s >= 0) close(s);
        return -1;
    }
    if (cfg.ip) {
        struct in_addr a;
        if (inet_pton(AF_INET, addr, &a) != 1 || prefix < 0 || prefix > 32) {
            fail("network: bad ip %s", cfg.ip);
            close(s);
            return -1;
        }
        in_addr_t mask = prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
        if (wait_for("/sys/class/net/eth0") < 0) {
            fail("network eth0: device did not appear");
            close(s);
            return -1;
        }
        if (ifreq_op(s, SIOCSIFADDR, "eth0", a.s_addr, 0) < 0 || ifreq_op(s, SIOCSIFNETMASK, "eth0", mask, 0) < 0 ||
            ifreq_op(s, SIOCSIFFLAGS, "eth0", 0, IFF_UP | IFF_RUNNING) < 0) {
            fail("network eth0 %s: %s", cfg.ip, strerror(errno));
            close(s);
            return -1;
        }
        if (cfg.gateway) {
            struct rtentry rt;
            memset(&rt, 0, sizeof rt);
            struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst, *gw = (struct sockaddr_in *)&rt.rt_gateway,
                               *mk = (struct sockaddr_in *)&rt.rt_genmask;
            dst->sin_family = gw->sin_family = mk->sin_family = AF_INET;
            rt.rt_flags = RTF_UP | RTF_GATEWAY;
            if (inet_pton(AF_INET, cfg.gateway, &gw->sin_addr) != 1 || ioctl(s, SIOCADDRT, &rt) < 0) {
                fail("network default route via %s: %s", cfg.gateway, strerror(errno));
                close(s);
                return -1;
            }
        }
    }
    close(s);
    return 0;
}

/* ---------- identity (after a fork) ---------- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes up to max bytes of hex into out; the count, or -1 when malformed. */
static int unhex(const char *hex, unsigned char *out, int max) {
    int n = 0;
    for (; hex[0] && hex[1] && n < max; hex += 2) {
        int hi = hexval(hex[0]), lo = hexval(hex[1]);
        if (hi < 0 || lo < 0) return -1;
        out[n++] = (unsigned char)(hi << 4 | lo);
    }
    return hex[0] ? -1 : n;
}

/* Credits the host's entropy to the kernel's pool and makes the CRNG reseed at once, so a clone's random numbers
 * part from its source's and its siblings'. */
static void reseed(const char *hex) {
    /* <linux/random.h>'s struct rand_pool_info and ioctls (musl ships no kernel headers) */
    struct {
        int entropy_count;
        int buf_size;
        unsigned char buf[256];
    } pool;
    int n = unhex(hex, pool.buf, sizeof pool.buf);
    if (n <= 0) {
        say("identity: malformed entropy");
        return;
    }
    pool.entropy_count = n * 8;
    pool.buf_size = n;
    int fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
    if (fd < 0 || ioctl(fd, _IOW('R', 0x03, int[2]), &pool) < 0 || ioctl(fd, _IO('R', 0x07)) < 0)
        say("identity: reseed the kernel RNG: %s", strerror(errno));
    if (fd >= 0) close(fd);
    memset(&pool, 0, sizeof pool);
}

/* eth0 takes a new MAC (virtio-net passes it to the device), address and default route. */
static void readdress(const char *mac, const char *ip, const char *gateway) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        say("identity: socket: %s", strerror(errno));
        return;
    }
    if (mac) {
        struct ifreq r;
        memset(&r, 0, sizeof r);
        snprintf(r.ifr_name, IFNAMSIZ, "eth0");
        r.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
        unsigned char b[6];
        char hex[13] = {0};
        int j = 0;
        for (const char *c = mac; *c && j < 12; c++)
            if (*c != ':') hex[j++] = *c;
        if (unhex(hex, b, 6) != 6) {
            say("identity: malformed mac %s", mac);
        } else {
            memcpy(r.ifr_hwaddr.sa_data, b, 6);
            if (ioctl(s, SIOCSIFHWADDR, &r) < 0) say("identity: eth0 mac %s: %s", mac, strerror(errno));
        }
    }
    if (ip) {
        char addr[32] = {0};
        const char *slash = strchr(ip, '/');
        size_t n = slash ? (size_t)(slash - ip) : strlen(ip);
        if (n >= sizeof addr) n = sizeof addr - 1;
        memcpy(addr, ip, n);
        int prefix = slash ? atoi(slash + 1) : 32;
        struct in_addr a;
        in_addr_t mask = prefix > 0 && prefix <= 32 ? htonl(0xffffffffu << (32 - prefix)) : 0;
        if (inet_pton(AF_INET, addr, &a) != 1 || ifreq_op(s, SIOCSIFADDR, "eth0", a.s_addr, 0) < 0 ||
            ifreq_op(s, SIOCSIFNETMASK, "eth0", mask, 0) < 0 || ifreq_op(s, SIOCSIFFLAGS, "eth0", 0, IFF_UP) < 0)
            say("identity: eth0 %s: %s", ip, strerror(errno));
    }
    if (ip && gateway) { /* the address change took the routes through the old one */
        struct rtentry rt;
        memset(&rt, 0, sizeof rt);
        struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst, *gw = (struct sockaddr_in *)&rt.rt_gateway,
                           *mk = (struct sockaddr_in *)&rt.rt_genmask;
        dst->sin_family = gw->sin_family = mk->sin_family = AF_INET;
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        if (inet_pton(AF_INET, gateway, &gw->sin_addr) != 1 || (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST))
            say("identity: default route via %s: %s", gateway, strerror(errno));
    }
    close(s);
}

/* Replaces a file of the root after the workload started (a failure is said, not reported as the boot's). */
static void rewrite(const char *path, const char *content) {
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || write(fd, content, strlen(content)) < 0) say("identity: write %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
}

/* IDENTITY: this VM is a clone resumed from another's snapshot: it takes its own hostname, address, MAC and
 * machine-id, and its kernel RNG is reseeded. Each failure is said on the console; the rest still applies. */
static void on_identity(const unsigned char *p, uint32_t len) {
    static char buf[4096];
    if (len == 0 || len >= sizeof buf || p[len - 1] != 0) {
        say("identity: malformed payload");
        return;
    }
    memcpy(buf, p, len);
    const char *hostname = NULL, *ip = NULL, *gateway = NULL, *mac = NULL, *machine_id = NULL, *entropy = NULL;
    for (char *k = buf; k < buf + len;) {
        char *v = k + strlen(k) + 1;
        if (v >= buf + len) break;
        if (!strcmp(k, "hostname")) hostname = v;
        else if (!strcmp(k, "ip")) ip = v;
        else if (!strcmp(k, "gateway")) gateway = v;
        else if (!strcmp(k, "mac")) mac = v;
        else if (!strcmp(k, "machine_id")) machine_id = v;
        else if (!strcmp(k, "entropy")) entropy = v;
        else say("identity: unknown key %s", k);
        k = v + strlen(v) + 1;
    }
    if (entropy) reseed(entropy);
    if (hostname && sethostname(hostname, strlen(hostname)) < 0) say("identity: hostname: %s", strerror(errno));
    if (hostname) {
        char hosts[256];
        if (ip)
            snprintf(hosts, sizeof hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost\n%.*s\t%s\n", (int)strcspn(ip, "/"),
                     ip, hostname);
        else
            snprintf(hosts, sizeof hosts, "127.0.0.1\tlocalhost %s\n::1\tlocalhost\n", hostname);
        rewrite("/etc/hosts", hosts);
    }
    if (machine_id) {
        char line[40];
        snprintf(line, sizeof line, "%.32s\n", machine_id);
        rewrite("/etc/machine-id", line);
    }
    if (mac || ip) readdress(mac, ip, gateway);
    memset(buf, 0, sizeof buf);
}

/* ---------- user ---------- */

struct ident {
    uid_t uid;
    gid_t gid;
    gid_t groups[64];
    int ngroups;
    char name[64];
    char home[PATH_MAX];
};
static struct ident who; /* the workload's user */

static int numeric(const char *s, unsigned long *out) {
    char *end;
    if (!*s) return 0;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return !*end && !errno;
}

/* Splits a passwd/group line into fields in place. Returns the number of fields. */
static int fields(char *line, char **f, int max) {
    int n = 0;
    line[strcspn(line, "\n")] = 0;
    f[n++] = line;
    for (char *c = line; *c && n < max; c++)
        if (*c == ':') {
            *c = 0;
            f[n++] = c + 1;
        }
    return n;
}

/* Resolves "name", "uid", "name:group" or "uid:gid" in the root's /etc/passwd and /etc/group into *w; on failure
 * writes the reason to err and returns -1. */
static int resolve_ident(const char *user, struct ident *w, char *err, size_t errlen) {
    char spec[256];
    memset(w, 0, sizeof *w);
    snprintf(spec, sizeof spec, "%s", user);
    char *group = strchr(spec, ':');
    if (group) *group++ = 0;
    unsigned long num;
    int user_numeric = numeric(spec, &num);
    int found = 0;
    w->uid = user_numeric ? (uid_t)num : 0;
    w->gid = 0;
    snprintf(w->home, sizeof w->home, "/");
    char line[1024], *f[8];
    FILE *pw = fopen("/etc/passwd", "re");
    while (pw && fgets(line, sizeof line, pw)) {
        if (fields(line, f, 8) < 7) continue;
        unsigned long uid, gid;
        if (!numeric(f[2], &uid) || !numeric(f[3], &gid)) continue;
        if (user_numeric ? uid == num : !strcmp(f[0], spec)) {
            found = 1;
            w->uid = (uid_t)uid;
            w->gid = (gid_t)gid;
            snprintf(w->name, sizeof w->name, "%s", f[0]);
            snprintf(w->home, sizeof w->home, "%s", f[5]);
            break;
        }
    }
    if (pw) fclose(pw);
    if (!found && !user_numeric) {
        snprintf(err, errlen, "user %s: no such user", spec);
        return -1;
    }
    int group_numeric = group && numeric(group, &num);
    if (group_numeric) w->gid = (gid_t)num;
    int group_found = !group || group_numeric;
    w->ngroups = 0;
    FILE *gr = fopen("/etc/group", "re");
    while (gr && fgets(line, sizeof line, gr)) {
        if (fields(line, f, 8) < 4) continue;
        unsigned long gid;
        if (!numeric(f[2], &gid)) continue;
        if (group && !group_numeric && !strcmp(f[0], group)) {
            w->gid = (gid_t)gid;
            group_found = 1;
        }
        if (!w->name[0]) continue;
        for (char *m = strtok(f[3], ","); m; m = strtok(NULL, ","))
            if (!strcmp(m, w->name) && w->ngroups < 63) w->groups[w->ngroups++] = (gid_t)gid;
    }
    if (gr) fclose(gr);
    if (!group_found) {
        snprintf(err, errlen, "user %s: no such group %s", user, group);
        return -1;
    }
    w->groups[w->ngroups++] = w->gid;
    return 0;
}

static int resolve_user(void) {
    char err[512];
    if (resolve_ident(cfg.user, &who, err, sizeof err) == 0) return 0;
    fail("%s", err);
    return -1;
}

/* ---------- secrets ---------- */

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

/* Writes each secret_file (PATH=contents) as PATH, mode 0400, owned by the workload's user, on a tmpfs: a directory
 * not on one gets a small tmpfs of its own (hiding what the image has there). Messages name paths, never contents. */
static int write_secrets(void) {
    for (int i = 0; i < cfg.secret_filec; i++) {
        char *eq = strchr(cfg.secret_files[i], '=');
        char path[PATH_MAX], dir[PATH_MAX];
        snprintf(path, sizeof path, "%.*s", (int)(eq - cfg.secret_files[i]), cfg.secret_files[i]);
        const char *contents = eq + 1;
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash == dir) {
            fail("secret file %s: not inside a directory", path);
            return -1;
        }
        *slash = 0;
        mkdirs(dir, 0755);
        struct statfs fs;
        if (statfs(dir, &fs) < 0) {
            fail("secret file %s: %s: %s", path, dir, strerror(errno));
            return -1;
        }
        if (fs.f_type != TMPFS_MAGIC &&
            mount("secrets", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=16m") < 0) {
            fail("secret file %s: mount tmpfs on %s: %s", path, dir, strerror(errno));
            return -1;
        }
        unlink(path);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
        size_t len = strlen(contents), off = 0;
        while (fd >= 0 && off < len) {
            ssize_t n = write(fd, contents + off, len - off);
            if (n < 0 && errno != EINTR) break;
            if (n > 0) off += (size_t)n;
        }
        if (fd < 0 || off < len || fchown(fd, who.uid, who.gid) < 0 || fchmod(fd, 0400) < 0) {
            fail("secret file %s: %s", path, strerror(errno));
            if (fd >= 0) close(fd);
            return -1;
        }
        close(fd);
        memset(eq + 1, 0, len); /* the value stays in the file only */
    }
    return 0;
}

/* ---------- workload ---------- */

static const char *env_get(const char *name) {
    size_t l = strlen(name);
    for (int i = 0; i < cfg.envc; i++)
        if (!strncmp(cfg.env[i], name, l) && cfg.env[i][l] == '=') return cfg.env[i] + l + 1;
    return NULL;
}

static void complete_env(void) {
    static char home[PATH_MAX + 8];
    if (!env_get("PATH")) cfg.env[cfg.envc++] = "PATH=" DEFAULT_PATH;
    if (!env_get("HOME")) {
        snprintf(home, sizeof home, "HOME=%s", who.home);
        cfg.env[cfg.envc++] = home;
    }
    cfg.env[cfg.envc] = NULL;
}

/* execvpe with the PATH of the workload's environment; returns the errno to report. */
static int exec_path(char **argv, char **envp, const char *path) {
    const char *file = argv[0];
    if (strchr(file, '/')) {
        execve(file, argv, envp);
        return errno;
    }
    int err = ENOENT;
    char buf[PATH_MAX];
    for (const char *p = path; p && *p;) {
        const char *end = strchrnul(p, ':');
        size_t n = (size_t)(end - p);
        if (n == 0) snprintf(buf, sizeof buf, "%s", file);
        else snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, file);
        execve(buf, argv, envp);
        if (errno == EACCES) err = EACCES;
        else if (errno != ENOENT && errno != ENOTDIR) return errno;
        p = *end ? end + 1 : end;
    }
    return err;
}

/* In the child: reports "stage: error" on the error pipe and exits. */
static void child_fail(int errfd, const char *what, const char *obj, int err) {
    char msg[512];
    int n = snprintf(msg, sizeof msg, "%s %s: %s", what, obj, strerror(err));
    if (write(errfd, msg, (size_t)n) < 0) {}
    _exit(127);
}

static pid_t workload = -1;
static int out_pipe = -1, err_pipe = -1;
static int pty_open(const struct winsize *ws, uid_t uid, int *master, int *input, int *slave, char *msg, size_t len);
static void workload_input(int fd, int tty);

/* Forks and execs the workload: stdout and stderr on pipes (out_pipe, err_pipe), stdin /dev/null; with CONFIG stdin
 * a pipe fed by INPUT; with CONFIG tty all three on a new pseudo-terminal, its controlling terminal, whose master is
 * out_pipe (there is no err_pipe) and takes INPUT. */
static pid_t spawn(void) {
    int o[2] = {-1, -1}, e[2] = {-1, -1}, x[2], in[2] = {-1, -1};
    char msg[512];
    if (pipe2(x, O_CLOEXEC) < 0 || (!cfg.tty && (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0)) ||
        (!cfg.tty && cfg.stdin_open && pipe2(in, O_CLOEXEC) < 0)) {
        fail("pipe: %s", strerror(errno));
        return -1;
    }
    if (cfg.tty && pty_open(&cfg.ws, who.uid, &o[0], &in[1], &o[1], msg, sizeof msg) < 0) { /* o[1]: the slave */
        fail("%s", msg);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fail("fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
        setsid();
        if (cfg.tty && ioctl(o[1], TIOCSCTTY, 0) < 0) child_fail(x[1], "set", "controlling terminal", errno);
        int null = in[0] >= 0 || cfg.tty ? -1 : open("/dev/null", O_RDWR);
        if (null < 0 && in[0] < 0 && !cfg.tty) child_fail(x[1], "open", "/dev/null", errno);
        dup2(cfg.tty ? o[1] : null >= 0 ? null : in[0], 0);
        dup2(o[1], 1);
        dup2(cfg.tty ? o[1] : e[1], 2);
        if (null > 2) close(null);
        if (chdir(cfg.workdir) < 0) child_fail(x[1], "chdir", cfg.workdir, errno);
        if (setgroups((size_t)who.ngroups, who.groups) < 0) child_fail(x[1], "setgroups", cfg.user, errno);
        if (setgid(who.gid) < 0) child_fail(x[1], "setgid", cfg.user, errno);
        if (setuid(who.uid) < 0) child_fail(x[1], "setuid", cfg.user, errno);
        int err = exec_path(cfg.argv, cfg.env, env_get("PATH"));
        child_fail(x[1], "exec", cfg.argv[0], err);
    }
    close(o[1]);
    if (e[1] >= 0) close(e[1]);
    if (in[0] >= 0) close(in[0]);
    close(x[1]);
    ssize_t n;
    while ((n = read(x[0], msg, sizeof msg - 1)) < 0 && errno == EINTR) {}
    close(x[0]);
    if (n > 0) {
        msg[n] = 0;
        fail("%s", msg);
        int rest[] = {o[0], e[0], in[1]};
        for (size_t i = 0; i < sizeof rest / sizeof *rest; i++)
            if (rest[i] >= 0) close(rest[i]);
        waitpid(pid, NULL, 0);
        return -1;
    }
    out_pipe = o[0];
    err_pipe = e[0];
    fcntl(out_pipe, F_SETFL, O_NONBLOCK);
    if (err_pipe >= 0) fcntl(err_pipe, F_SETFL, O_NONBLOCK);
    if (in[1] >= 0) workload_input(in[1], cfg.tty);
    return pid;
}

/* Forwards what a pipe has; closes it at EOF. */
static void pump(int *fd, int type) {
    static unsigned char buf[32768 - HEADER]; /* one virtio-serial buffer per frame */
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            close(*fd);
            *fd = -1;
            return;
        }
        send_frame(type, buf, (uint32_t)n);
    }
}

/* ---------- exec ---------- */

/* A command the host asked to run beside the workload (EXEC), until its EXEC_EXITED is sent. */
static struct exec {
    int used;
    uint32_t id;
    pid_t pid;
    int out, err, in;      /* pipes; -1 once closed */
    int status;            /* -1 while it runs */
    unsigned char *input;  /* stdin not yet written */
    size_t input_len;
    int input_eof;         /* the host sent the empty EXEC_INPUT: close stdin once input is written */
    int tty;               /* out is a pty master, in a second descriptor of it; there is no err */
    uint64_t credit;       /* output bytes the host still takes (EXEC_CREDIT); its pipes are not read at 0 */
} execs[MAX_EXECS];

/* Exec output may fill the kept frames only up to half, so the workload's own output always has room. */
#define EXEC_PENDING_MAX (PENDING_MAX / 2)

/* Whether an exec's pipes may be read now: the host granted credit and the kept frames have room for a chunk. */
static int exec_readable(const struct exec *x) {
    return x->credit > 0 && pending_len + 32768 <= EXEC_PENDING_MAX;
}

/* The host that asked for the running execs is gone (or a new one asks for everything again): nobody will grant
 * them credit, so their output flows unthrottled as before flow control, into the kept frames while there is room. */
static void execs_unthrottle(void) {
    for (int i = 0; i < MAX_EXECS; i++)
        if (execs[i].used) execs[i].credit = UINT64_MAX;
}

static void put32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* Sends a frame whose payload is the exec id followed by data. */
static void send_exec(int type, uint32_t id, const void *data, uint32_t len) {
    static unsigned char buf[32768 - HEADER];
    if (len > sizeof buf - 4) len = sizeof buf - 4;
    put32(buf, id);
    if (len) memcpy(buf + 4, data, len);
    send_frame(type, buf, len + 4);
}

static struct exec *exec_find(uint32_t id) {
    for (int i = 0; i < MAX_EXECS; i++)
        if (execs[i].used && execs[i].id == id) return &execs[i];
    return NULL;
}

/* Writes what stdin input is pending without blocking; closes stdin once it is written and the host said EOF. */
static void exec_feed(struct exec *x) {
    while (x->in >= 0 && x->input_len > 0) {
        ssize_t n = write(x->in, x->input, x->input_len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n < 0) { /* EPIPE: the command closed its stdin */
            x->input_len = 0;
            break;
        }
        memmove(x->input, x->input + n, x->input_len - (size_t)n);
        x->input_len -= (size_t)n;
    }
    if (x->in >= 0 && x->input_len == 0 && x->input_eof) {
        close(x->in);
        x->in = -1;
    }
}

/*
 * A pseudo-terminal of size ws for an exec: *master (its output), *input (a second descriptor of the master, its
 * input) and *slave (the command's terminal), all close-on-exec. The slave is owned by uid.
 */
static int pty_open(const struct winsize *ws, uid_t uid, int *master, int *input, int *slave, char *msg, size_t len) {
    char name[64];
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), s = -1, i = -1, err = 0;
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ioctl(m, TIOCSWINSZ, ws) < 0) err = errno;
    else if ((err = ptsname_r(m, name, sizeof name)) == 0 && ((s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
                                                             fchown(s, uid, (gid_t)-1) < 0 ||
                                                             (i = fcntl(m, F_DUPFD_CLOEXEC, 0)) < 0))
        err = errno;
    if (i >= 0) {
        *master = m, *input = i, *slave = s;
        return 0;
    }
    snprintf(msg, len, "exec: pty: %s", strerror(err));
    int fds[] = {m, s};
    for (size_t k = 0; k < sizeof fds / sizeof *fds; k++)
        if (fds[k] >= 0) close(fds[k]);
    return -1;
}

/* Delivers sig to every process of session sid: a shell on a terminal puts its jobs in process groups of their own. */
static void kill_session(pid_t sid, int sig) {
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        pid_t p = (pid_t)atoi(e->d_name);
        if (p > 1 && getsid(p) == sid && kill(p, sig) < 0 && errno != ESRCH)
            say("exec signal %d: %s", sig, strerror(errno));
    }
    if (d) closedir(d);
}

/*
 * Runs an EXEC: payload is the 4-byte id, then key\0value\0 pairs (arg 1+, env 0+, workdir, user, tty). With tty
 * the command's stdin, stdout and stderr are the slave of a new pseudo-terminal, its controlling terminal.
 */
/* An EXEC's key/value pairs, parsed: argv and extra (the env pairs) point into the payload, argv[0] non-empty. */
struct exec_request {
    char **argv, **extra; /* each with room for a NULL after its entries; freed by the caller */
    int argc, extrac;
    const char *workdir, *user; /* user NULL: the workload's */
    struct winsize ws;
    int tty;
};

/* Parses kv (n bytes of key/value pairs, kv[n] == 0) into *r; the first error goes to msg (left empty when none).
 * Part of the host-facing parser (guest/fuzz/ calls it without a VM). */
static void parse_exec(char *kv, uint32_t n, struct exec_request *r, char *msg, size_t msglen) {
    int strings = 0;
    for (uint32_t i = 0; i < n; i++) strings += kv[i] == 0;
    *r = (struct exec_request){.argv = calloc((size_t)strings + 1, sizeof(char *)),
                               .extra = calloc((size_t)strings + 1, sizeof(char *)), .workdir = cfg.workdir};
    if (!r->argv || !r->extra) snprintf(msg, msglen, "exec: out of memory");
    else if (strings % 2 || (n > 0 && kv[n - 1] != 0)) snprintf(msg, msglen, "exec: malformed payload");
    for (char *k = kv; !msg[0] && k < kv + n;) {
        char *v = k + strlen(k) + 1;
        if (!strcmp(k, "arg")) r->argv[r->argc++] = v;
        else if (!strcmp(k, "env")) r->extra[r->extrac++] = v;
        else if (!strcmp(k, "workdir")) r->workdir = v;
        else if (!strcmp(k, "user")) r->user = v;
        else if (!strcmp(k, "tty")) {
            if (parse_size(v, &r->ws) < 0) snprintf(msg, msglen, "exec: tty %s is not ROWSxCOLS", v);
            r->tty = 1;
        } else snprintf(msg, msglen, "exec: unknown key %s", k);
        k = v + strlen(v) + 1;
    }
    if (!msg[0] && (r->argc == 0 || !r->argv[0][0])) snprintf(msg, msglen, "exec: no arg");
}

static void exec_start(const unsigned char *p, uint32_t len) {
    if (len < 4) return;
    uint32_t id = be32(p);
    char msg[512] = {0};
    struct exec *x = NULL;
    for (int i = 0; i < MAX_EXECS && !x; i++)
        if (!execs[i].used) x = &execs[i];
    char *kv = malloc(len - 4 + 1);
    if (!x || !kv || exec_find(id)) {
        snprintf(msg, sizeof msg, !kv ? "exec: out of memory" : !x ? "exec: more than %d commands at once"
                                                              : "exec: id in use", MAX_EXECS);
        free(kv);
        send_exec(EXEC_FAILED, id, msg, (uint32_t)strlen(msg));
        return;
    }
    memcpy(kv, p + 4, len - 4);
    kv[len - 4] = 0;
    struct exec_request rq;
    parse_exec(kv, len - 4, &rq, msg, sizeof msg);
    char **argv = rq.argv, **extra = rq.extra;
    int argc = rq.argc, extrac = rq.extrac;
    const char *workdir = rq.workdir, *user = rq.user;
    struct winsize ws = rq.ws;
    int tty = rq.tty;
    struct ident as = who;
    if (!msg[0] && user) resolve_ident(user, &as, msg, sizeof msg);
    /* the environment: the workload's, each name given in the request replaced; HOME follows a given user */
    char **envp = calloc((size_t)(cfg.envc + extrac + 2), sizeof(char *));
    static char home[PATH_MAX + 8];
    int envc = 0;
    const char *path = NULL;
    for (int i = 0; envp && i < cfg.envc; i++) {
        size_t l = strcspn(cfg.env[i], "=");
        int replaced = user && !strncmp(cfg.env[i], "HOME=", 5);
        for (int j = 0; j < extrac && !replaced; j++) replaced = !strncmp(extra[j], cfg.env[i], l + 1);
        if (!replaced) envp[envc++] = cfg.env[i];
    }
    for (int j = 0; envp && j < extrac; j++) envp[envc++] = extra[j];
    if (envp && user) {
        int given = 0;
        for (int j = 0; j < extrac; j++) given |= !strncmp(extra[j], "HOME=", 5);
        snprintf(home, sizeof home, "HOME=%s", as.home);
        if (!given) envp[envc++] = home;
    }
    for (int i = 0; envp && i < envc; i++)
        if (!strncmp(envp[i], "PATH=", 5)) path = envp[i] + 5;
    int o[2] = {-1, -1}, e[2] = {-1, -1}, in[2] = {-1, -1}, xp[2] = {-1, -1};
    if (!msg[0] && (!argv || !extra || !envp)) snprintf(msg, sizeof msg, "exec: out of memory");
    if (!msg[0] && (pipe2(xp, O_CLOEXEC) < 0 || (!tty && (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0 ||
                                                        pipe2(in, O_CLOEXEC) < 0))))
        snprintf(msg, sizeof msg, "exec: pipe: %s", strerror(errno));
    if (!msg[0] && tty) pty_open(&ws, as.uid, &o[0], &in[1], &o[1], msg, sizeof msg); /* o[1]: the slave */
    pid_t pid = -1;
    if (!msg[0] && (pid = fork()) < 0) snprintf(msg, sizeof msg, "exec: fork: %s", strerror(errno));
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sg = 1; sg < NSIG; sg++) signal(sg, SIG_DFL);
        setsid();
        if (tty && ioctl(o[1], TIOCSCTTY, 0) < 0) child_fail(xp[1], "set", "controlling terminal", errno);
        dup2(tty ? o[1] : in[0], 0);
        dup2(o[1], 1);
        dup2(tty ? o[1] : e[1], 2);
        if (chdir(workdir) < 0) child_fail(xp[1], "chdir", workdir, errno);
        if (setgroups((size_t)as.ngroups, as.groups) < 0) child_fail(xp[1], "setgroups", user ? user : cfg.user, errno);
        if (setgid(as.gid) < 0) child_fail(xp[1], "setgid", user ? user : cfg.user, errno);
        if (setuid(as.uid) < 0) child_fail(xp[1], "setuid", user ? user : cfg.user, errno);
        envp[envc] = NULL;
        argv[argc] = NULL;
        child_fail(xp[1], "exec", argv[0], exec_path(argv, envp, path));
    }
    int fds[] = {o[1], e[1], in[0], xp[1]};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (fds[i] >= 0) close(fds[i]);
    if (pid > 0) {
        ssize_t n;
        while ((n = read(xp[0], msg, sizeof msg - 1)) < 0 && errno == EINTR) {}
        if (n > 0) {
            msg[n] = 0;
            waitpid(pid, NULL, 0);
        } else {
            msg[0] = 0;
        }
    }
    if (xp[0] >= 0) close(xp[0]);
    free(kv);
    free(argv);
    free(extra);
    free(envp);
    if (msg[0]) {
        int rest[] = {o[0], e[0], in[1]};
        for (size_t i = 0; i < sizeof rest / sizeof *rest; i++)
            if (rest[i] >= 0) close(rest[i]);
        send_exec(EXEC_FAILED, id, msg, (uint32_t)strlen(msg));
        return;
    }
    *x = (struct exec){.used = 1, .id = id, .pid = pid, .out = o[0], .err = e[0], .in = in[1], .status = -1,
                       .tty = tty};
    fcntl(x->out, F_SETFL, O_NONBLOCK);
    if (x->err >= 0) fcntl(x->err, F_SETFL, O_NONBLOCK);
    fcntl(x->in, F_SETFL, O_NONBLOCK);
    unsigned char pidb[4];
    put32(pidb, (uint32_t)pid);
    send_exec(EXEC_STARTED, id, pidb, 4);
}

/* Forwards what one of an exec's pipes has, within its credit; closes it at EOF. Returns 1 when the pipe is drained
 * (nothing more to read now, or closed), 0 when the credit or the room for kept frames ran out first. */
static int exec_pump(struct exec *x, int *fd, int type) {
    static unsigned char buf[32768 - HEADER - 4];
    while (*fd >= 0) {
        if (!exec_readable(x)) return 0;
        size_t want = x->credit < sizeof buf ? (size_t)x->credit : sizeof buf;
        ssize_t n = read(*fd, buf, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 1;
        if (n <= 0) {
            close(*fd);
            *fd = -1;
            return 1;
        }
        if (x->credit != UINT64_MAX) x->credit -= (uint64_t)n;
        send_exec(type, x->id, buf, (uint32_t)n);
    }
    return 1;
}

/* Ends the execs whose process exited: the rest of their output, then EXEC_EXITED. */
static void exec_reaped(void) {
    for (int i = 0; i < MAX_EXECS; i++) {
        struct exec *x = &execs[i];
        if (!x->used || x->status < 0) continue;
        int drained = exec_pump(x, &x->out, EXEC_STDOUT);
        drained &= exec_pump(x, &x->err, EXEC_STDERR);
        if (!drained) continue; /* the rest of its output waits for credit */
        int fds[] = {x->out, x->err, x->in};
        for (size_t j = 0; j < sizeof fds / sizeof *fds; j++)
            if (fds[j] >= 0) close(fds[j]);
        free(x->input);
        unsigned char st[4];
        put32(st, (uint32_t)x->status);
        send_exec(EXEC_EXITED, x->id, st, 4);
        memset(x, 0, sizeof *x);
    }
}

/* INPUT for x: data (n bytes) queued for its stdin; none: close it once the input before is written (a terminal has
 * no end of input: the host sends ^D, or exit, as input when it means one). */
static void exec_input(struct exec *x, const unsigned char *data, uint32_t n) {
    if (n == 0 && x->tty) return;
    if (n == 0) {
        x->input_eof = 1;
    } else {
        unsigned char *grown = realloc(x->input, x->input_len + n);
        if (!grown) return;
        x->input = grown;
        memcpy(x->input + x->input_len, data, n);
        x->input_len += n;
    }
    exec_feed(x);
}

/* RESIZE for x's terminal: rc holds 2-byte rows, 2-byte cols; ignored without a terminal. */
static void exec_resize(struct exec *x, const unsigned char *rc) {
    if (!x->tty) return;
    struct winsize ws = {.ws_row = (unsigned short)(rc[0] << 8 | rc[1]), .ws_col = (unsigned short)(rc[2] << 8 | rc[3])};
    if (ioctl(x->in, TIOCSWINSZ, &ws) < 0) say("resize: %s", strerror(errno));
}

/* The workload's stdin (CONFIG stdin or tty), fed by INPUT and RESIZE as an exec's by EXEC_INPUT and EXEC_RESIZE. */
static struct exec workload_in = {.out = -1, .err = -1, .in = -1};

static void workload_input(int fd, int tty) {
    fcntl(fd, F_SETFL, O_NONBLOCK);
    workload_in = (struct exec){.used = 1, .out = -1, .err = -1, .in = fd, .tty = tty};
}

static void on_exec_frame(int type, const unsigned char *p, uint32_t len) {
    if (type == EXEC) {
        exec_start(p, len);
        return;
    }
    if (len < 4) return;
    struct exec *x = exec_find(be32(p));
    if (!x || (x->status >= 0 && type != EXEC_CREDIT)) return; /* an ended command's output may wait for credit */
    if (type == EXEC_SIGNAL && len == 8 && x->tty) {
        kill_session(x->pid, (int)be32(p + 4));
    } else if (type == EXEC_SIGNAL && len == 8) {
        int sig = (int)be32(p + 4);
        if (kill(-x->pid, sig) < 0 && errno != ESRCH) say("exec signal %d: %s", sig, strerror(errno));
    } else if (type == EXEC_RESIZE && len == 8) {
        exec_resize(x, p + 4);
    } else if (type == EXEC_CREDIT && len == 8) {
        if (x->credit != UINT64_MAX) x->credit += be32(p + 4); /* grants are 32-bit: no overflow short of years */
    } else if (type == EXEC_INPUT) {
        exec_input(x, p + 4, len - 4);
    }
}

static int exit_status = -1;
static int acked;

static void reap(void) {
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (p == workload) exit_status = status;
        for (int i = 0; i < MAX_EXECS; i++)
            if (execs[i].used && execs[i].pid == p) execs[i].status = status;
    }
}

/* INPUT and RESIZE: for the workload's stdin, while it runs with one open (CONFIG stdin or tty). */
static void on_workload_frame(int type, const unsigned char *p, uint32_t len) {
    if (!workload_in.used || exit_status >= 0) return;
    if (type == INPUT) exec_input(&workload_in, p, len);
    else if (type == RESIZE && len == 4) exec_resize(&workload_in, p);
}

static void on_run_frame(int type, const unsigned char *p, uint32_t len) {
    if (type == EXEC || type == EXEC_INPUT || type == EXEC_SIGNAL || type == EXEC_RESIZE || type == EXEC_CREDIT) {
        on_exec_frame(type, p, len);
    } else if (type == INPUT || type == RESIZE) {
        on_workload_frame(type, p, len);
    } else if (type == SIGNAL && len == 4 && workload > 0 && exit_status < 0) {
        int sig = (int)be32(p);
        if (kill(-workload, sig) < 0 && errno != ESRCH) say("signal %d: %s", sig, strerror(errno));
    } else if (type == ACK) {
        acked = 1;
    } else if (type == RECEIVED) {
        on_received(p, len);
    } else if (type == CLOCK) {
        on_clock(p, len);
    } else if (type == IDENTITY) {
        on_identity(p, len);
    } else if (type == VOLUME_GROWN) {
        on_volume_grown(p, len);
    } else if (type == FREEZE) {
        on_freeze(p, len);
    }
}

/* One turn of the event loop: channel, output pipes, SIGCHLD. */
static void turn(int sfd, int timeout) {
    struct pollfd p[5 + 3 * MAX_EXECS];
    int xi[3 * MAX_EXECS];
    int n = 0;
    p[n++] = (struct pollfd){sfd, POLLIN, 0};
    int chan = ctl_fd >= 0 ? ctl_fd : ctl_listen;
    int ci = -1, oi = -1, ei = -1;
    if (chan >= 0) {
        ci = n;
        p[n++] = (struct pollfd){chan, POLLIN, 0};
    }
    if (out_pipe >= 0) {
        oi = n;
        p[n++] = (struct pollfd){out_pipe, POLLIN, 0};
    }
    if (err_pipe >= 0) {
        ei = n;
        p[n++] = (struct pollfd){err_pipe, POLLIN, 0};
    }
    int ii = -1;
    if (workload_in.in >= 0 && workload_in.input_len > 0) {
        ii = n;
        p[n++] = (struct pollfd){workload_in.in, POLLOUT, 0};
    }
    int base = n;
    for (int i = 0; i < MAX_EXECS; i++) {
        struct exec *x = &execs[i];
        if (!x->used) continue;
        int readable = exec_readable(x); /* else the kernel's pipe buffer throttles the command */
        if (readable && x->out >= 0) xi[n - base] = i, p[n++] = (struct pollfd){x->out, POLLIN, 0};
        if (readable && x->err >= 0) xi[n - base] = i, p[n++] = (struct pollfd){x->err, POLLIN, 0};
        if (x->in >= 0 && x->input_len > 0) xi[n - base] = i, p[n++] = (struct pollfd){x->in, POLLOUT, 0};
    }
    int unsent = pending_sent < pending_len;
    if (unsent && (timeout < 0 || timeout > TICK_MS)) timeout = TICK_MS; /* retry the kept frames */
    int ready = poll(p, (nfds_t)n, timeout);
    if (unsent) flush_pending();
    if (ready <= 0) return;
    if (p[0].revents) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) > 0) {}
        reap();
    }
    for (int k = base; k < n; k++) {
        if (!p[k].revents) continue;
        struct exec *x = &execs[xi[k - base]];
        if (p[k].fd == x->out) exec_pump(x, &x->out, EXEC_STDOUT);
        else if (p[k].fd == x->err) exec_pump(x, &x->err, EXEC_STDERR);
        else if (p[k].fd == x->in) exec_feed(x);
    }
    exec_reaped();
    if (oi >= 0 && p[oi].revents) pump(&out_pipe, STDOUT_FRAME);
    if (ei >= 0 && p[ei].revents) pump(&err_pipe, STDERR_FRAME);
    if (ii >= 0 && p[ii].revents) exec_feed(&workload_in);
    if (ci >= 0 && p[ci].revents) {
        if (ctl_fd >= 0) ctl_read(on_run_frame);
        else ctl_open();
    }
}

/* Sends EXITED or FAILED after the kept output (to every host that connects until one has them all), waits for the
 * ACK at most ack_wait_s, powers off. */
static void finish(int sfd, int type, const void *payload, uint32_t len) __attribute__((noreturn));
static void finish(int sfd, int type, const void *payload, uint32_t len) {
    long deadline = now_ms() + cfg.ack_wait_s * 1000;
    ctl_open();
    send_frame(type, payload, len);
    while (!acked && now_ms() < deadline) {
        turn(sfd, TICK_MS);
        if (ctl_fd < 0) ctl_open();
    }
    if (!acked) say("no ACK within %ld s; powering off", cfg.ack_wait_s);
    kill(-1, SIGKILL);
    power_off();
}

int main(void) {
    if (getpid() != 1) {
        fprintf(stderr, "bolero-init: must run as PID 1\n");
        return 2;
    }
    long init_at = uptime_ms();
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    int con = open("/dev/console", O_RDWR | O_NOCTTY);
    if (con >= 0) {
        dup2(con, 0);
        dup2(con, 1);
        dup2(con, 2);
        if (con > 2) close(con);
    }
    signal(SIGPIPE, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);

    load_modules();
    if (ctl_setup() < 0) {
        say("no control channel: no virtio port named " PORT_NAME " and no vsock; powering off");
        power_off();
    }
    long channel_at = uptime_ms();
    await_config();

    if (!failure[0] && switch_root() == 0 && mount_volumes() == 0 && setup_network() == 0 && resolve_user() == 0
            && write_secrets() == 0) {
        complete_env();
        workload = spawn();
    }
    if (workload < 0) {
        say("%s", failure);
        finish(sfd, FAILED, failure, (uint32_t)strlen(failure));
    }
    say("started %s as pid %d (uptime: init at %ld ms, workload at %ld ms; channel at %ld ms, config at %ld ms after "
        "%d HELLOs)", cfg.argv[0], (int)workload, init_at, uptime_ms(), channel_at, config_at, hellos);
    send_u32(STARTED, (uint32_t)workload);
    while (exit_status < 0) {
        int closed = ctl_fd < 0 && ctl_listen < 0;
        int frozen = thaw_expired();
        /* a closed port is reopened after reopen_pause, the pipes pumped meanwhile; a frozen file system is watched */
        turn(sfd, closed ? reopen_pause : frozen ? TICK_MS : -1);
        if (closed) {
            ctl_open();
            reopen_pause = reopen_pause + reopen_pause / 8 + 1 < TICK_MS ? reopen_pause + reopen_pause / 8 + 1 : TICK_MS;
        }
    }
    /* the workload is gone: forward what its pipes hold, not what surviving descendants write later */
    for (int *fd = &out_pipe, type = STDOUT_FRAME; type <= STDERR_FRAME; fd = &err_pipe, type++) {
        if (*fd < 0) continue;
        pump(fd, type);
        if (*fd >= 0) close(*fd);
        *fd = -1;
    }
    unsigned char st[4] = {(unsigned char)(exit_status >> 24), (unsigned char)(exit_status >> 16),
                           (unsigned char)(exit_status >> 8), (unsigned char)exit_status};
    finish(sfd, EXITED, st, 4);
}
