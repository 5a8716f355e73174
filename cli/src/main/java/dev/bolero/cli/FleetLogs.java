package dev.bolero.cli;

import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.client.BoleroClient;
import dev.bolero.client.LogOptions;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code bolero logs --fleet F}: the logs of every machine of a fleet, each line prefixed with its machine's name
 * ({@code web-1 | …}), as {@code docker compose logs} does. Without {@code -f} the machines' logs follow one another;
 * with it they are read side by side, lines interleaved whole as they come.
 */
final class FleetLogs {
    private FleetLogs() {}

    /** @return 0, or 1 when a machine's log could not be read (said on standard error, the others carry on) */
    static int print(BoleroClient client, String namespace, String fleet, LogOptions options, PrintStream out)
            throws InterruptedException {
        List<ClusterMachine> machines = client.machines(namespace, fleet, Set.of());
        int width = machines.stream().mapToInt(m -> m.name().length()).max().orElse(0);
        var failed = new java.util.concurrent.atomic.AtomicBoolean();
        var readers = new ArrayList<Thread>();
        for (ClusterMachine m : machines) {
            Runnable read = () -> {
                try (var lines = new Prefixed(String.format("%-" + width + "s | ", m.name()), out)) {
                    client.logs(namespace, m.id(), options, lines);
                } catch (RuntimeException e) {
                    failed.set(true);
                    System.err.println("bolero: logs of " + m.name() + ": " + e.getMessage());
                }
            };
            if (options.follow()) {
                readers.add(Thread.ofVirtual().name("logs-" + m.name()).start(read));
            } else {
                read.run();
            }
        }
        for (Thread t : readers) t.join();
        return failed.get() ? 1 : 0;
    }

    /** Writes whole lines to {@code out}, each after {@code prefix}; a last line without its newline at close. */
    static final class Prefixed extends OutputStream {
        private final byte[] prefix;
        private final PrintStream out;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        Prefixed(String prefix, PrintStream out) {
            this.prefix = prefix.getBytes(StandardCharsets.UTF_8);
            this.out = out;
        }

        @Override
        public void write(int b) {
            line.write(b);
            if (b == '\n') emit();
        }

        @Override
        public void write(byte[] b, int off, int len) {
            for (int i = off; i < off + len; i++) write(b[i]);
        }

        private void emit() {
            synchronized (out) {
                out.write(prefix, 0, prefix.length);
                out.write(line.toByteArray(), 0, line.size());
                out.flush();
            }
            line.reset();
        }

        @Override
        public void close() {
            if (line.size() > 0) {
                line.write('\n');
                emit();
            }
        }
    }
}
