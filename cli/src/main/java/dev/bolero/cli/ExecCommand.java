package dev.bolero.cli;

import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecStream;
import dev.bolero.client.ExecClient;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bolero exec [-i] [-t] MACHINE -- CMD...}: runs a command in a running machine over the exec WebSocket, at a
 * node agent ({@code --agent}) or through the control plane. Exits with the command's exit code.
 */
@Command(name = "exec", mixinStandardHelpOptions = true, description = "Run a command in a running machine.")
final class ExecCommand implements Callable<Integer> {
    @Mixin ClientOptions o;
    @Mixin AgentOption agent;
    @Option(names = {"-i", "--interactive"}, description = "pass this terminal's stdin to the command")
    boolean interactive;
    @Option(names = {"-t", "--tty"}, description = "run the command on a pseudo-terminal (this terminal in raw mode)")
    boolean tty;
    @Option(names = {"-e", "--env"}, paramLabel = "K=V") Map<String, String> env = new LinkedHashMap<>();
    @Option(names = {"-w", "--workdir"}) String workdir;
    @Option(names = {"-u", "--user"}, description = "name[:group] or uid[:gid] (default: the workload's)") String user;
    @Parameters(index = "0", paramLabel = "MACHINE",
            description = "id, unique id prefix or name (on a node with --node: its id)") String machine;
    @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD") List<String> cmd;

    @Override
    public Integer call() throws InterruptedException {
        var request = new ExecRequest(cmd, env, workdir, user, null, null);
        Terminal terminal = tty ? Terminal.raw() : null;
        try {
            int[] size = terminal == null ? new int[] {24, 80} : terminal.size();
            var start = tty ? new ExecStream.Start(request, true, size[0], size[1]) : ExecStream.Start.pipes(request);
            try (ExecClient exec = connect(start)) {
                if (terminal != null) terminal.onResize(() -> {
                    int[] s = terminal.size();
                    exec.resize(s[0], s[1]);
                });
                if (interactive) pump(System.in, exec);
                else exec.closeInput();
                return exec.await();
            }
        } finally {
            if (terminal != null) terminal.restore();
        }
    }

    private ExecClient connect(ExecStream.Start start) {
        Optional<URI> node = agent.node();
        URI uri;
        Optional<String> auth;
        if (node.isPresent()) {
            uri = websocket(node.get(), "/api/v1/machines/" + enc(machine) + "/exec");
            auth = Optional.empty();
        } else {
            ClientOptions.Endpoint e = o.endpoint();
            String id = MachineRefs.of(o.client(), o.namespace()).id(machine);
            uri = websocket(e.server(), "/v1/namespaces/" + enc(o.namespace()) + "/machines/" + enc(id) + "/exec");
            auth = Optional.of("Bearer " + e.token());
        }
        return ExecClient.connect(uri, auth, start, new ExecClient.Output() {
            @Override
            public void stdout(byte[] data) {
                write(System.out, data);
            }

            @Override
            public void stderr(byte[] data) {
                write(System.err, data);
            }
        });
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

    private static URI websocket(URI base, String path) {
        String scheme = switch (base.getScheme()) {
            case "http", "ws" -> "ws";
            case "https", "wss" -> "wss";
            case null, default -> throw new IllegalArgumentException("exec: " + base + " is not an http(s) URL");
        };
        String prefix = base.getRawPath() == null ? "" : base.getRawPath().replaceAll("/+$", "");
        return URI.create(scheme + "://" + base.getRawAuthority() + prefix + path);
    }

    private static String enc(String s) {
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

        static Terminal raw() {
            if (System.console() == null || !System.console().isTerminal()) {
                throw new IllegalArgumentException("exec -t: the input is not a terminal");
            }
            var t = new Terminal(stty("-g").strip());
            Runtime.getRuntime().addShutdownHook(t.restoreAtExit);
            stty("raw", "-echo");
            return t;
        }

        /** Rows and columns; 24×80 for a terminal that does not know its size. */
        int[] size() {
            String[] rc = stty("size").strip().split("\\s+");
            int rows = Integer.parseInt(rc[0]);
            int cols = Integer.parseInt(rc[1]);
            return rows > 0 && cols > 0 ? new int[] {rows, cols} : new int[] {24, 80};
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
