/*
 * bolero-jailer: starts one VMM process confined to a per-machine jail, then waits for it.
 *
 *   bolero-jailer --root DIR --uid N --gid N --pidfile FILE
 *                 [--cgroup DIR]... [--bind-ro SRC=DST]... [--dev PATH]... [--tap NAME]...
 *                 [--nofile N] [--nproc N] -- PROGRAM [ARG]...
 *
 * Run as root by the agent. In order:
 *   1. becomes a session leader (the VMM survives the agent), sets each --tap's owner to uid/gid (TUNSETOWNER)
 *      so the unprivileged VMM can attach to it, and enters a new PID namespace for its child;
 *   2. forks: the child is PID 1 of that namespace. It joins each --cgroup (writes 0 to cgroup.procs), enters new
 *      mount and IPC namespaces, makes every mount private, bind-mounts each SRC read-only at DIR/DST, mounts a
 *      tmpfs on DIR/dev holding null, zero, random, urandom and each --dev (a node with the host's device number,
 *      owned by uid/gid, mode 0600), chroots to DIR, drops the capability bounding set, sets rlimits (files,
 *      processes, no core dumps), sets gid, no supplementary groups, uid (which clears every capability),
 *      no_new_privs, closes every descriptor above 2 and execs PROGRAM with an empty environment;
 *   3. the parent writes the child's pid (as the host sees it) to FILE, waits for it and exits with its status
 *      (128+signal when killed). The mounts live only in the child's namespace and vanish with it.
 * Errors before the exec are reported on stderr as "bolero-jailer: ACTION: REASON" with exit status 125.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ITEMS 32
#define TUNSETIFF _IOW('T', 202, int)
#define TUNSETOWNER _IOW('T', 204, int)
#define TUNSETGROUP _IOW('T', 206, int)
#define IFF_TAP_ 0x0002
#define IFF_NO_PI_ 0x1000
#define CAP_LAST_POSSIBLE 63

struct list {
    int n;
    const char *items[MAX_ITEMS];
};

static struct {
    const char *root, *pidfile;
    long uid, gid, nofile, nproc;
    struct list cgroups, binds, devs, taps;
    char **argv;
} cfg = {.uid = -1, .gid = -1, .nofile = 4096, .nproc = 512};

static void die(const char *fmt, ...) {
    int err = errno;
    va_list ap;
    fputs("bolero-jailer: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", strerror(err));
    exit(125);
}

static void usage(const char *why) {
    fprintf(stderr, "bolero-jailer: %s\nusage: bolero-jailer --root DIR --uid N --gid N --pidfile FILE"
            " [--cgroup DIR]... [--bind-ro SRC=DST]... [--dev PATH]... [--tap NAME]... [--nofile N] [--nproc N]"
            " -- PROGRAM [ARG]...\n", why);
    exit(125);
}

static long number(const char *opt, const char *s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 0) {
        fprintf(stderr, "bolero-jailer: %s needs a non-negative number, got '%s'\n", opt, s);
        exit(125);
    }
    return v;
}

static void add(struct list *l, const char *opt, const char *v) {
    if (l->n == MAX_ITEMS) usage("too many values for an option");
    if (v[0] == '\0') {
        fprintf(stderr, "bolero-jailer: %s needs a value\n", opt);
        exit(125);
    }
    l->items[l->n++] = v;
}

static void parse(int argc, char **argv) {
    int i = 1;
    for (; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--") == 0) break;
        if (i + 1 >= argc) usage("an option misses its value");
        const char *v = argv[++i];
        if (strcmp(o, "--root") == 0) cfg.root = v;
        else if (strcmp(o, "--pidfile") == 0) cfg.pidfile = v;
        else if (strcmp(o, "--uid") == 0) cfg.uid = number(o, v);
        else if (strcmp(o, "--gid") == 0) cfg.gid = number(o, v);
        else if (strcmp(o, "--nofile") == 0) cfg.nofile = number(o, v);
        else if (strcmp(o, "--nproc") == 0) cfg.nproc = number(o, v);
        else if (strcmp(o, "--cgroup") == 0) add(&cfg.cgroups, o, v);
        else if (strcmp(o, "--bind-ro") == 0) add(&cfg.binds, o, v);
        else if (strcmp(o, "--dev") == 0) add(&cfg.devs, o, v);
        else if (strcmp(o, "--tap") == 0) add(&cfg.taps, o, v);
        else usage("unknown option");
    }
    if (i >= argc - 1) usage("no program after --");
    if (!cfg.root || !cfg.pidfile || cfg.uid < 0 || cfg.gid < 0) usage("--root, --uid, --gid and --pidfile are required");
    if (cfg.uid == 0 || cfg.gid == 0) usage("--uid and --gid must not be 0");
    if (cfg.root[0] != '/') usage("--root must be absolute");
    cfg.argv = argv + i + 1;
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) die("open %s", path);
    if (write(fd, text, strlen(text)) < 0) die("write '%s' to %s", text, path);
    close(fd);
}

/* The jail's name for a path inside it: ROOT + DST (DST starts with '/'). */
static void in_jail(char *out, size_t size, const char *dst) {
    if (dst[0] != '/' || strstr(dst, "..")) {
        errno = EINVAL;
        die("path in jail %s", dst);
    }
    if ((size_t)snprintf(out, size, "%s%s", cfg.root, dst) >= size) {
        errno = ENAMETOOLONG;
        die("path in jail %s", dst);
    }
}

/* Creates the parent directories of path (mode 0755), like mkdir -p of its dirname. */
static void make_parents(char *path) {
    for (char *p = path + strlen(cfg.root) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST) die("mkdir %s", path);
        *p = '/';
    }
}

static void bind_read_only(const char *spec) {
    char src[4096], target[4096];
    const char *eq = strchr(spec, '=');
    if (!eq || (size_t)(eq - spec) >= sizeof src) usage("--bind-ro needs SRC=DST");
    memcpy(src, spec, eq - spec);
    src[eq - spec] = '\0';
    in_jail(target, sizeof target, eq + 1);
    struct stat st;
    if (stat(src, &st) < 0) die("bind %s: stat", src);
    make_parents(target);
    if (S_ISDIR(st.st_mode)) {
        if (mkdir(target, 0755) < 0 && errno != EEXIST) die("mkdir %s", target);
    } else {
        int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) die("create mount point %s", target);
        close(fd);
    }
    if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind %s on %s", src, target);
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
        die("remount %s read-only", target);
    }
}

static void make_node(const char *host, mode_t mode, int owned) {
    char target[4096];
    struct stat st;
    if (stat(host, &st) < 0) die("stat device %s", host);
    if (!S_ISCHR(st.st_mode)) {
        errno = ENODEV;
        die("device %s", host);
    }
    in_jail(target, sizeof target, host);
    make_parents(target);
    if (mknod(target, S_IFCHR | mode, st.st_rdev) < 0) die("mknod %s", target);
    if (chmod(target, mode) < 0) die("chmod %s", target);
    if (owned && chown(target, cfg.uid, cfg.gid) < 0) die("chown %s", target);
}

static void own_tap(const char *name) {
    struct ifreq ifr;
    if (strlen(name) >= IFNAMSIZ) {
        errno = ENAMETOOLONG;
        die("tap %s", name);
    }
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) die("open /dev/net/tun for tap %s", name);
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, name);
    ifr.ifr_flags = IFF_TAP_ | IFF_NO_PI_;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("attach to tap %s", name);
    if (ioctl(fd, TUNSETOWNER, cfg.uid) < 0) die("set owner of tap %s", name);
    if (ioctl(fd, TUNSETGROUP, cfg.gid) < 0) die("set group of tap %s", name);
    close(fd);
}

static void close_inherited(void) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max > 0 ? max : 65536); fd++) close((int)fd);
}

static void confine_and_exec(void) {
    for (int i = 0; i < cfg.cgroups.n; i++) {
        char procs[4096];
        snprintf(procs, sizeof procs, "%s/cgroup.procs", cfg.cgroups.items[i]);
        write_file(procs, "0");
    }
    if (unshare(CLONE_NEWNS | CLONE_NEWIPC) < 0) die("unshare mount and ipc namespaces");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make mounts private");
    for (int i = 0; i < cfg.binds.n; i++) bind_read_only(cfg.binds.items[i]);

    char dev[4096];
    in_jail(dev, sizeof dev, "/dev");
    if (mkdir(dev, 0755) < 0 && errno != EEXIST) die("mkdir %s", dev);
    if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0) die("mount tmpfs on %s", dev);
    static const char *const common[] = {"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"};
    for (size_t i = 0; i < sizeof common / sizeof *common; i++) make_node(common[i], 0666, 0);
    for (int i = 0; i < cfg.devs.n; i++) make_node(cfg.devs.items[i], 0600, 1);

    if (chroot(cfg.root) < 0) die("chroot %s", cfg.root);
    if (chdir("/") < 0) die("chdir / in %s", cfg.root);
    for (int cap = 0; cap <= CAP_LAST_POSSIBLE; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) die("drop capability %d", cap);
    }
    struct rlimit files = {(rlim_t)cfg.nofile, (rlim_t)cfg.nofile};
    struct rlimit procs = {(rlim_t)cfg.nproc, (rlim_t)cfg.nproc};
    struct rlimit core = {0, 0};
    if (setrlimit(RLIMIT_NOFILE, &files) < 0) die("setrlimit nofile %ld", cfg.nofile);
    if (setrlimit(RLIMIT_NPROC, &procs) < 0) die("setrlimit nproc %ld", cfg.nproc);
    if (setrlimit(RLIMIT_CORE, &core) < 0) die("setrlimit core 0");
    if (setgroups(0, NULL) < 0) die("setgroups");
    if (setresgid(cfg.gid, cfg.gid, cfg.gid) < 0) die("setgid %ld", cfg.gid);
    if (setresuid(cfg.uid, cfg.uid, cfg.uid) < 0) die("setuid %ld", cfg.uid);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("set no_new_privs");
    close_inherited();
    char *empty_env[] = {NULL};
    execve(cfg.argv[0], cfg.argv, empty_env);
    die("exec %s in %s", cfg.argv[0], cfg.root);
}

static void write_pidfile(pid_t pid) {
    char tmp[4096], text[32];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", cfg.pidfile) >= sizeof tmp) usage("--pidfile is too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("create %s", tmp);
    int len = snprintf(text, sizeof text, "%d\n", (int)pid);
    if (write(fd, text, len) != len) die("write %s", tmp);
    close(fd);
    if (rename(tmp, cfg.pidfile) < 0) die("rename %s to %s", tmp, cfg.pidfile);
}

int main(int argc, char **argv) {
    parse(argc, argv);
    if (setsid() < 0 && getpgrp() != getpid()) die("setsid");
    for (int i = 0; i < cfg.taps.n; i++) own_tap(cfg.taps.items[i]);
    if (unshare(CLONE_NEWPID) < 0) die("unshare pid namespace");
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) confine_and_exec();
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    write_pidfile(child);
    int status;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) die("wait for pid %d", (int)child);
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
