package dev.bolero.runtime.guest;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Optional;

/**
 * A command for {@code bolero-init} to run beside the workload: the EXEC message of the guest protocol.
 *
 * @param argv at least one element; {@code argv[0]} without a {@code /} is looked up in the {@code PATH} of the
 *     resulting environment
 * @param env {@code NAME=value} entries replacing the workload's variables of the same name
 * @param workdir the working directory; empty: the workload's
 * @param user {@code name}, {@code uid}, {@code name:group} or {@code uid:gid}; empty: the workload's user
 * @param tty present: the command runs on a new pseudo-terminal of this size (its controlling terminal; stdin,
 *     stdout and stderr), its output all arrives as stdout, and {@link GuestSession#execResize} applies; empty: pipes
 * @throws IllegalArgumentException when a value is malformed or contains a NUL, or the message exceeds 1 MiB
 */
public record GuestExec(
        List<String> argv,
        List<String> env,
        Optional<String> workdir,
        Optional<String> user,
        Optional<TerminalSize> tty) {
    public GuestExec {
        argv = List.copyOf(argv);
        env = List.copyOf(env);
        if (argv.isEmpty() || argv.getFirst().isEmpty()) throw new IllegalArgumentException("argv must name a program");
        for (String e : env) {
            if (e.indexOf('=') < 1) throw new IllegalArgumentException("env entry is not NAME=value: " + e);
        }
        workdir.filter(w -> !w.startsWith("/")).ifPresent(w -> {
            throw new IllegalArgumentException("workdir must be absolute: " + w);
        });
        if (encode(argv, env, workdir, user, tty).length > FrameCodec.MAX_PAYLOAD - 4) {
            throw new IllegalArgumentException("exec request exceeds the protocol's 1 MiB limit");
        }
    }

    /** A command on pipes (no terminal). */
    public GuestExec(List<String> argv, List<String> env, Optional<String> workdir, Optional<String> user) {
        this(argv, env, workdir, user, Optional.empty());
    }

    /** The payload after the exec id: {@code key\0value\0} pairs. */
    byte[] encode() {
        return encode(argv, env, workdir, user, tty);
    }

    private static byte[] encode(List<String> argv, List<String> env, Optional<String> workdir, Optional<String> user,
            Optional<TerminalSize> tty) {
        var out = new ByteArrayOutputStream();
        argv.forEach(a -> FrameCodec.pair(out, "arg", a));
        env.forEach(e -> FrameCodec.pair(out, "env", e));
        workdir.ifPresent(w -> FrameCodec.pair(out, "workdir", w));
        user.ifPresent(u -> FrameCodec.pair(out, "user", u));
        tty.ifPresent(t -> FrameCodec.pair(out, "tty", t.rows() + "x" + t.cols()));
        return out.toByteArray();
    }
}
