/*
 * libFuzzer harness for bolero-init's host-facing parser: the bytes a host (or anything on the host side of the
 * control channel) sends, split into frames by ctl_frames() as init does, each frame handed to what parses its
 * payload: parse_config() for CONFIG, parse_exec() for EXEC, on_received() (over a few kept frames) for RECEIVED,
 * parse_volume_grown() and parse_freeze() (over the mounts of the last CONFIG) for VOLUME_GROWN and FREEZE,
 * on_exec_frame() for the other exec frames (to a command slot whose descriptors are closed and whose process group
 * does not exist), on_workload_frame() for INPUT and RESIZE (to a workload stdin whose descriptor is closed, on a
 * terminal or not as the input's length says). What would act on this machine is left out: SIGNAL (kill), ACK, CLOCK
 * (clock_settime) and IDENTITY (hostname, address, MAC) frames are split and checked by ctl_frames but not handed on,
 * EXEC is parsed but does not fork, and VOLUME_GROWN and FREEZE are parsed but grow or freeze nothing.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by guest/fuzz/Makefile; scripts/fuzz.sh runs it. The init
 * is included whole with its main renamed, so the harness runs the very code the guest runs.
 */
#define main bolero_init_main
#include "../src/bolero-init.c"
#undef main

/* A process group no process has: kill(-NO_GROUP, sig) fails with ESRCH. */
#define NO_GROUP 0x3ffffff0

static void reset_config(void) {
    free(cfg.argv);
    free(cfg.env);
    free(cfg.secret_files);
    memset(&cfg, 0, sizeof cfg);
    cfg.ack_wait_s = ACK_WAIT_S;
    failure[0] = 0;
}

static void on_frame(int type, const unsigned char *p, uint32_t len) {
    if (type == CONFIG) {
        reset_config();
        parse_config(p, len);
    } else if (type == EXEC && len >= 4) {
        char *kv = malloc(len - 4 + 1);
        if (!kv) return;
        memcpy(kv, p + 4, len - 4);
        kv[len - 4] = 0;
        char msg[512] = {0};
        struct exec_request rq;
        parse_exec(kv, len - 4, &rq, msg, sizeof msg);
        free(rq.argv);
        free(rq.extra);
        free(kv);
    } else if (type == RECEIVED) {
        on_received(p, len);
    } else if (type == VOLUME_GROWN) {
        uint64_t size;
        char serial[64];
        int mount = -1;
        if (parse_volume_grown(p, len, &size, serial, &mount) == 0 && (mount < 0 || mount >= cfg.mountc)) abort();
    } else if (type == FREEZE) {
        uint32_t id;
        int op = -1, mount = -1;
        if (parse_freeze(p, len, &id, &op, &mount) == 0 && (op < 0 || op > 1 || mount < 0 || mount >= cfg.mountc))
            abort();
    } else if (type == EXEC_INPUT || type == EXEC_SIGNAL || type == EXEC_RESIZE || type == EXEC_CREDIT) {
        on_exec_frame(type, p, len);
    } else if (type == INPUT || type == RESIZE) {
        on_workload_frame(type, p, len);
    }
}

/* Three kept frames, numbered 5-7, the first two sent on this connection. */
static void keep_frames(void) {
    static const unsigned char kept[] = {STDOUT_FRAME, 0, 0, 0, 2, 'a', '\n', STDERR_FRAME, 0, 0, 0, 0,
                                         EXITED, 0, 0, 0, 4, 0, 0, 0, 0};
    memcpy(pending, kept, sizeof kept);
    pending_len = sizeof kept;
    pending_sent = 12;
    sent_frames = 2;
    pending_seq = 5;
    need_sequence = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int quiet = -1;
    if (quiet < 0) { /* init's diagnostics go to stderr: keep libFuzzer's output readable */
        quiet = open("/dev/null", O_WRONLY | O_CLOEXEC);
    }
    keep_frames();
    execs[0] = (struct exec){.used = 1, .id = 1, .pid = NO_GROUP, .out = -1, .err = -1, .in = -1, .status = -1};
    workload_in = (struct exec){.used = 1, .out = -1, .err = -1, .in = -1, .tty = (int)(size & 1)};
    ctl_fd = open("/dev/null", O_RDWR | O_CLOEXEC); /* "connected": ctl_frames goes on after each frame */
    int saved = dup(2);
    dup2(quiet, 2);
    /* as ctl_read delivers them: in chunks of at most the buffer's size */
    while (size > 0) {
        size_t n = size < sizeof rx - rx_len ? size : sizeof rx - rx_len;
        memcpy(rx + rx_len, data, n);
        rx_len += n;
        data += n;
        size -= n;
        ctl_frames(on_frame);
        if (ctl_fd < 0) break;
    }
    dup2(saved, 2);
    close(saved);
    if (ctl_fd >= 0) close(ctl_fd);
    ctl_fd = -1;
    rx_len = 0;
    free(execs[0].input);
    memset(execs, 0, sizeof execs);
    free(workload_in.input);
    workload_in = (struct exec){.out = -1, .err = -1, .in = -1};
    reset_config();
    return 0;
}
