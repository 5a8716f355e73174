package dev.bolero.agent.logs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The logs of the machines under one directory ({@code DIR/<id>/workload.log}, {@code DIR/<id>/console.log}).
 *
 * <p>Reading copies whole lines to a sink; following keeps copying as lines arrive until the writer is done (the
 * {@code live} supplier turns false) and the file is drained. Following polls the file: it costs one sleeping
 * virtual thread per follower.
 */
public final class LogStore {
    /** The file name the VMM's serial console is written to, in each machine's directory. */
    public static final String CONSOLE_FILE = "console.log";

    static final String WORKLOAD_FILE = "workload.log";
    private static final Duration POLL = Duration.ofMillis(100);

    private final Path machinesDir;
    private final Clock clock;

    public LogStore(Path machinesDir, Clock clock) {
        this.machinesDir = machinesDir;
        this.clock = clock;
    }

    /** Opens the workload log of {@code machineId} for appending (the machine's directory must exist). */
    public WorkloadLog openWorkloadLog(String machineId) {
        return new WorkloadLog(machinesDir.resolve(machineId).resolve(WORKLOAD_FILE), clock);
    }

    /** Which log to read. */
    public enum Source {
        /** The workload's stdout and stderr. */
        WORKLOAD,
        /** The kernel's and bolero-init's diagnostics, as the serial console printed them. */
        CONSOLE
    }

    /**
     * Copies the log's lines to {@code sink}: for the workload log, the text of each line; for the console, the
     * raw lines. With {@code live} returning true, waits for more lines until it returns false.
     *
     * @throws IOException when the sink fails (e.g. the client went away) or the file cannot be read
     */
    public void copy(String machineId, Source source, OutputStream sink, BooleanSupplier live)
            throws IOException, InterruptedException {
        Path file = machinesDir.resolve(machineId)
                .resolve(source == Source.WORKLOAD ? WORKLOAD_FILE : CONSOLE_FILE);
        long offset = 0;
        byte[] pending = new byte[0];
        while (true) {
            boolean wasLive = live.getAsBoolean();
            byte[] fresh = readFrom(file, offset);
            offset += fresh.length;
            byte[] data = concat(pending, fresh);
            int consumed = emitLines(data, source, sink);
            pending = java.util.Arrays.copyOfRange(data, consumed, data.length);
            if (fresh.length > 0) {
                sink.flush();
                continue;
            }
            if (!wasLive) {
                if (pending.length > 0) {
                    emit(pending, 0, pending.length, source, sink);
                    sink.flush();
                }
                return;
            }
            Thread.sleep(POLL);
        }
    }

    private static byte[] readFrom(Path file, long offset) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            in.skipNBytes(Math.min(offset, Files.size(file)));
            return in.readAllBytes();
        } catch (NoSuchFileException e) {
            return new byte[0];
        }
    }

    private static int emitLines(byte[] data, Source source, OutputStream sink) throws IOException {
        int start = 0;
        for (int i = 0; i < data.length; i++) {
            if (data[i] == '\n') {
                emit(data, start, i, source, sink);
                start = i + 1;
            }
        }
        return start;
    }

    /** Writes one line (without its newline) from {@code data[from, to)}. */
    private static void emit(byte[] data, int from, int to, Source source, OutputStream sink) throws IOException {
        int textStart = from;
        if (source == Source.WORKLOAD) {
            // "<millis> <tag> <text>": skip two spaces.
            int spaces = 0;
            while (textStart < to && spaces < 2) {
                if (data[textStart++] == ' ') spaces++;
            }
        }
        sink.write(data, textStart, to - textStart);
        sink.write('\n');
    }

    private static byte[] concat(byte[] a, byte[] b) {
        if (a.length == 0) return b;
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
