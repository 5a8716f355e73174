package dev.bolero.cli;

import dev.bolero.client.ClientException;
import dev.bolero.client.ExecClient;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

/**
 * This process's stdio joined to an {@link ExecClient}: {@code exec [-i] [-t]} and {@code run -i/-t}. With a
 * terminal ({@code -t}) the local terminal is in raw mode for the session (so ^C goes to the remote side as input, not
 * to this process), its size is sent first and on each change; with {@code -i} stdin is copied to the remote side
 * until its end, which closes the remote stdin.
 */
final class TerminalSession {
    /** Output to this process's stdout and stderr. */
    static final ExecClient.Output STDIO = new ExecClient.Output() {
        @Override
        public void stdout(byte[] data) {
            write(System.out, data);
        }

        @Override
        public void stderr(byte[] data) {
            write(System.err, data);
        }
    };

    private TerminalSession() {}

    /** A terminal's size in character cells. */
    record Size(int rows, int cols) {
        static final Size DEFAULT = new Size(24, 80);
    }

    /**
     * Runs one session of command {@code verb} ({@code exec}): {@code connect} opens it, given the local terminal's
     * size (24×80 without {@code tty}).
     *
     * @return the remote side's exit code
     * @throws IllegalArgumentException with {@code tty} when stdin is not a terminal
     */
    static int run(String verb, boolean interactive, boolean tty, Function<Size, ExecClient> connect)
            throws InterruptedException {
        Terminal terminal = tty ? Terminal.raw(verb) : null;
        try {
            try (ExecClient session = connect.apply(terminal == null ? Size.DEFAULT : terminal.size())) {
                if (terminal != null) terminal.onResize(() -> {
                    Size s = terminal.size();
                    session.resize(s.rows(), s.cols());
                });
                if (interactive) {
                    pump(System.in, session);
                } else if (!tty) { // a terminal has no end of input
                    try {
                        session.closeInput();
                    } catch (ClientException e) {
                        // the remote side ended and closed the connection first: await reports its end
                    }
                }
                return session.await();
            }
        } finally {
            if (terminal != null) terminal.restore();
        }
    }

    /** Copies stdin to the command on a daemon thread; at its end closes the command's stdin (not a terminal's). */
    private static void pump(InputStream in, ExecClient exec) {
        Thread.ofPlatform().daemon().name("exec-stdin").start(() -> {
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) exec.input(java.util.Arrays.copyOf(buf, n));
                exec.closeInput();
            } catch (IOException | RuntimeException e) {
                // the command ended and the connection closed, or stdin failed: the end is reported by await
            }
        });
    }

    private static void write(PrintStream out, byte[] data) {
        out.write(data, 0, data.length);
        out.flush();
    }

    /** The WebSocket URL of {@code path} under {@code base} (an http(s) URL). */
    static URI websocket(URI base, String path) {
        String scheme = switch (base.getScheme()) {
            case "http", "ws" -> "ws";
            case "https", "wss" -> "wss";
            case null, default -> throw new IllegalArgumentException(base + " is not an http(s) URL");
        };
        String prefix = base.getRawPath() == null ? "" : base.getRawPath().replaceAll("/+$", "");
        return URI.create(scheme + "://" + base.getRawAuthority() + prefix + path);
    }

    /** {@code s} as one path segment. */
    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The local terminal in raw mode (through {@code stty} on {@code /dev/tty}), restored once, also at exit. */
    private static final class Terminal {
        private final String saved;
        private final Thread restoreAtExit = new Thread(this::restore);
        private volatile boolean restored;

        private Terminal(String saved) {
            this.saved = saved;
        }

        static Terminal raw(String verb) {
            if (System.console() == null || !System.console().isTerminal()) {
                throw new IllegalArgumentException(verb + " -t: the input is not a terminal");
            }
            var t = new Terminal(stty("-g").strip());
            Runtime.getRuntime().addShutdownHook(t.restoreAtExit);
            stty("raw", "-echo");
            return t;
        }

        /** Rows and columns; 24×80 for a terminal that does not know its size. */
        Size size() {
            String[] rc = stty("size").strip().split("\\s+");
            int rows = Integer.parseInt(rc[0]);
            int cols = Integer.parseInt(rc[1]);
            return rows > 0 && cols > 0 ? new Size(rows, cols) : Size.DEFAULT;
        }

        /** Runs {@code action} on each SIGWINCH; without signal support the size stays the initial one. */
        void onResize(Runnable action) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), s -> {
                    try {
                        action.run();
                    } catch (RuntimeException e) {
                        // the connection is closing
                    }
                });
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // no SIGWINCH on this JVM or platform
            }
        }

        void restore() {
            if (restored) return;
            restored = true;
            stty(saved);
            try {
                Runtime.getRuntime().removeShutdownHook(restoreAtExit);
            } catch (IllegalStateException e) {
                // already shutting down: this is the hook
            }
        }

        private static String stty(String... args) {
            var command = new java.util.ArrayList<String>(List.of("stty"));
            command.addAll(List.of(args));
            try {
                Process p = new ProcessBuilder(command).redirectInput(new File("/dev/tty"))
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() != 0) throw new IllegalStateException("stty " + String.join(" ", args) + " failed");
                return out;
            } catch (IOException e) {
                throw new IllegalStateException("stty " + String.join(" ", args) + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("stty " + String.join(" ", args) + ": interrupted", e);
            }
        }
    }
}
