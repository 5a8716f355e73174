package dev.bolero.agent.logs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * The logs of the machines under one directory ({@code DIR/<id>/workload.log}, {@code DIR/<id>/console.log}).
 *
 * <p>The workload log is capped: past {@link #maxFileBytes()} it is rotated to {@code workload.log.1} (the previous
 * rotation is dropped), so a machine keeps at most twice the cap. Reading copies whole lines to a sink, the rotated
 * file first; following keeps copying as lines arrive, across rotations, until the writer is done (the {@code live}
 * supplier turns false) and the file is drained. A follower wakes as soon as the machine's writer writes lines
 * ({@link Appends}), and polls the file as a fallback: it costs one waiting virtual thread per follower.
 */
public final class LogStore {
    /** The file name the VMM's serial console is written to, in each machine's directory. */
    public static final String CONSOLE_FILE = "console.log";
    /** The default cap of one workload log file. */
    public static final long DEFAULT_MAX_FILE_BYTES = 10L * 1024 * 1024;

    static final String WORKLOAD_FILE = "workload.log";
    static final String ROTATED_SUFFIX = ".1";
    private static final Duration POLL = Duration.ofMillis(100);

    private final Path machinesDir;
    private final Clock clock;
    private final long maxFileBytes;
    private final Appends appends = new Appends();

    public LogStore(Path machinesDir, Clock clock) {
        this(machinesDir, clock, DEFAULT_MAX_FILE_BYTES);
    }

    /** A store whose workload logs rotate past {@code maxFileBytes} (at least 64 KiB). */
    public LogStore(Path machinesDir, Clock clock, long maxFileBytes) {
        if (maxFileBytes < 64 * 1024) throw new IllegalArgumentException("maxFileBytes must be at least 64 KiB");
        this.machinesDir = machinesDir;
        this.clock = clock;
        this.maxFileBytes = maxFileBytes;
    }

    /** The size past which a workload log file is rotated. */
    public long maxFileBytes() {
        return maxFileBytes;
    }

    /** Opens the workload log of {@code machineId} for appending (the machine's directory must exist). */
    public WorkloadLog openWorkloadLog(String machineId) {
        return new WorkloadLog(machinesDir.resolve(machineId).resolve(WORKLOAD_FILE), clock, maxFileBytes, appends);
    }

    /** Which log to read. */
    public enum Source {
        /** The workload's stdout and stderr. */
        WORKLOAD,
        /** The kernel's and bolero-init's diagnostics, as the serial console printed them. */
        CONSOLE
    }

    /** Copies every line's text; see {@link #copy(String, Source, LogQuery, OutputStream, BooleanSupplier)}. */
    public void copy(String machineId, Source source, OutputStream sink, BooleanSupplier live)
            throws IOException, InterruptedException {
        copy(machineId, source, LogQuery.all(), sink, live);
    }

    /**
     * Copies the log's lines selected by {@code query} to {@code sink}: for the workload log, the text of each line
     * (with time and stream when asked); for the console, the raw lines. With {@code live} returning true, waits
     * for more lines until it returns false.
     *
     * @throws IOException when the sink fails (e.g. the client went away) or the file cannot be read
     */
    public void copy(String machineId, Source source, LogQuery query, OutputStream sink, BooleanSupplier live)
            throws IOException, InterruptedException {
        Path file = machinesDir.resolve(machineId).resolve(source == Source.WORKLOAD ? WORKLOAD_FILE : CONSOLE_FILE);
        Path rotated = file.resolveSibling(file.getFileName() + ROTATED_SUFFIX);
        Printer printer = new Printer(source, query, sink);

        // The backlog: the rotated file, then the current one, the last `tail` lines of it.
        boolean wasLive = live.getAsBoolean();
        byte[] old = readFrom(rotated, 0);
        byte[] current = readFrom(file, 0);
        long offset = current.length;
        ArrayDeque<byte[]> backlog = new ArrayDeque<>();
        int tail = query.tail().orElse(Integer.MAX_VALUE);
        byte[] pending = splitLines(concat(completeLines(old), current), line -> {
            if (!printer.selected(line)) return;
            backlog.addLast(line);
            if (backlog.size() > tail) backlog.removeFirst();
        });
        for (byte[] line : backlog) printer.print(line);
        sink.flush();

        long seen = 0;
        while (true) {
            if (!wasLive) {
                if (pending.length > 0 && printer.selected(pending) && tail > 0) printer.print(pending);
                sink.flush();
                return;
            }
            seen = appends.await(file, seen, POLL);
            wasLive = live.getAsBoolean();
            long size = sizeOf(file);
            byte[] fresh;
            if (size < offset) { // rotated: the rest of the file we were reading is now the rotated one
                byte[] now = readFrom(file, 0);
                fresh = concat(readFrom(rotated, offset), now);
                offset = now.length;
            } else {
                fresh = readFrom(file, offset);
                offset += fresh.length;
            }
            if (fresh.length == 0) continue;
            pending = splitLines(concat(pending, fresh), line -> {
                if (printer.selected(line)) printer.print(line);
            });
            sink.flush();
        }
    }

    private interface LineSink {
        void accept(byte[] line) throws IOException;
    }

    /** Hands each complete line of {@code data} (without its newline) to {@code sink}; returns the partial rest. */
    private static byte[] splitLines(byte[] data, LineSink sink) throws IOException {
        int start = 0;
        for (int i = 0; i < data.length; i++) {
            if (data[i] == '\n') {
                sink.accept(Arrays.copyOfRange(data, start, i));
                start = i + 1;
            }
        }
        return Arrays.copyOfRange(data, start, data.length);
    }

    /** {@code data} up to and including its last newline (a rotated file ends on a whole line). */
    private static byte[] completeLines(byte[] data) {
        int end = data.length;
        while (end > 0 && data[end - 1] != '\n') end--;
        return end == data.length ? data : Arrays.copyOf(data, end);
    }

    /** Selects and formats lines. A workload line is {@code <epoch-ms> <o|e> <text>}. */
    private static final class Printer {
        private final Source source;
        private final LogQuery query;
        private final OutputStream sink;

        Printer(Source source, LogQuery query, OutputStream sink) {
            this.source = source;
            this.query = query;
            this.sink = sink;
        }

        boolean selected(byte[] line) {
            if (source == Source.CONSOLE || query.since().isEmpty()) return true;
            long millis = stamp(line);
            return millis < 0 || millis >= query.since().get().toEpochMilli();
        }

        void print(byte[] line) throws IOException {
            if (source == Source.CONSOLE) {
                sink.write(line);
                sink.write('\n');
                return;
            }
            int firstSpace = indexOf(line, ' ', 0);
            int secondSpace = firstSpace < 0 ? -1 : indexOf(line, ' ', firstSpace + 1);
            if (secondSpace < 0) { // not a stamped line: print as is
                sink.write(line);
                sink.write('\n');
                return;
            }
            if (query.timestamps()) {
                String stream = line[firstSpace + 1] == 'e' ? "stderr" : "stdout";
                long millis = stamp(line);
                String time = millis < 0 ? "-" : Instant.ofEpochMilli(millis).toString();
                sink.write((time + " " + stream + " ").getBytes(StandardCharsets.US_ASCII));
            }
            sink.write(line, secondSpace + 1, line.length - secondSpace - 1);
            sink.write('\n');
        }

        private static long stamp(byte[] line) {
            long v = 0;
            int i = 0;
            for (; i < line.length && line[i] != ' '; i++) {
                if (line[i] < '0' || line[i] > '9' || i > 18) return -1;
                v = v * 10 + (line[i] - '0');
            }
            return i == 0 ? -1 : v;
        }

        private static int indexOf(byte[] b, char c, int from) {
            for (int i = from; i < b.length; i++) {
                if (b[i] == c) return i;
            }
            return -1;
        }
    }

    private static long sizeOf(Path file) throws IOException {
        try {
            return Files.size(file);
        } catch (NoSuchFileException e) {
            return 0;
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

    private static byte[] concat(byte[] a, byte[] b) {
        if (a.length == 0) return b;
        if (b.length == 0) return a;
        ByteArrayOutputStream out = new ByteArrayOutputStream(a.length + b.length);
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }
}
