package dev.bolero.agent.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogStoreTest {
    @TempDir
    Path dir;

    private final Clock clock = Clock.fixed(Instant.ofEpochMilli(1_700_000_000_000L), ZoneOffset.UTC);

    @Test
    void chunks_that_split_lines_are_stored_as_whole_lines_per_stream() throws Exception {
        Files.createDirectories(dir.resolve("m1"));
        LogStore store = new LogStore(dir, clock);
        try (WorkloadLog log = store.openWorkloadLog("m1")) {
            log.append(LogStream.STDOUT, bytes("hel"));
            log.append(LogStream.STDERR, bytes("oops\n"));
            log.append(LogStream.STDOUT, bytes("lo\nworld\npart"));
        }
        assertThat(Files.readString(dir.resolve("m1/workload.log"))).isEqualTo("""
                1700000000000 e oops
                1700000000000 o hello
                1700000000000 o world
                1700000000000 o part
                """);
        assertThat(read(store, "m1", LogStore.Source.WORKLOAD)).isEqualTo("oops\nhello\nworld\npart\n");
    }

    @Test
    void a_line_longer_than_the_limit_is_split() throws Exception {
        Files.createDirectories(dir.resolve("m1"));
        LogStore store = new LogStore(dir, clock);
        try (WorkloadLog log = store.openWorkloadLog("m1")) {
            log.append(LogStream.STDOUT, new byte[WorkloadLog.MAX_LINE + 10]);
        }
        assertThat(read(store, "m1", LogStore.Source.WORKLOAD).split("\n")).hasSize(2);
    }

    @Test
    void the_console_is_copied_raw_and_a_missing_file_is_empty() throws Exception {
        Files.createDirectories(dir.resolve("m1"));
        LogStore store = new LogStore(dir, clock);
        assertThat(read(store, "m1", LogStore.Source.CONSOLE)).isEmpty();
        Files.writeString(dir.resolve("m1/console.log"), "[    0.1] Linux 1 2\nno newline");
        assertThat(read(store, "m1", LogStore.Source.CONSOLE)).isEqualTo("[    0.1] Linux 1 2\nno newline\n");
    }

    @Test
    void following_copies_lines_written_later_and_ends_when_the_writer_is_done() throws Exception {
        Files.createDirectories(dir.resolve("m1"));
        LogStore store = new LogStore(dir, clock);
        AtomicBoolean live = new AtomicBoolean(true);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        Thread follower = follow(store, sink, live);
        try (WorkloadLog log = store.openWorkloadLog("m1")) {
            log.append(LogStream.STDOUT, bytes("first\n"));
            Thread.sleep(300);
            log.append(LogStream.STDOUT, bytes("second\n"));
        }
        live.set(false);
        follower.join();
        assertThat(sink.toString(StandardCharsets.UTF_8)).isEqualTo("first\nsecond\n");
    }

    @Test
    void tail_since_and_timestamps_select_and_format_lines() throws Exception {
        Files.createDirectories(dir.resolve("m1"));
        Files.writeString(dir.resolve("m1/workload.log"), """
                1700000000000 o one
                1700000001000 e two
                1700000002000 o three
                """);
        LogStore store = new LogStore(dir, clock);
        assertThat(read(store, "m1", new LogQuery(OptionalInt.of(2), Optional.empty(), false)))
                .isEqualTo("two\nthree\n");
        assertThat(read(store, "m1", new LogQuery(OptionalInt.of(0), Optional.empty(), false))).isEmpty();
        assertThat(read(store, "m1", new LogQuery(OptionalInt.empty(),
                Optional.of(Instant.ofEpochMilli(1700000001000L)), false))).isEqualTo("two\nthree\n");
        assertThat(read(store, "m1", new LogQuery(OptionalInt.of(1), Optional.empty(), true)))
                .isEqualTo("2023-11-14T22:13:22Z stdout three\n");
        assertThat(read(store, "m1", new LogQuery(OptionalInt.of(2), Optional.empty(), true)))
                .startsWith("2023-11-14T22:13:21Z stderr two\n");
    }

    @Test
    void the_log_rotates_past_its_cap_keeping_two_files_and_reads_span_both() throws Exception {
        Files.createDirectories(dir.resolve("m1"));
        long cap = 64 * 1024;
        LogStore store = new LogStore(dir, clock, cap);
        String line = "x".repeat(1000);
        try (WorkloadLog log = store.openWorkloadLog("m1")) {
            for (int i = 0; i < 200; i++) log.append(LogStream.STDOUT, bytes(i + " " + line + "\n"));
        }
        assertThat(Files.size(dir.resolve("m1/workload.log"))).isLessThanOrEqualTo(cap);
        assertThat(Files.size(dir.resolve("m1/workload.log.1"))).isLessThanOrEqualTo(cap);
        try (var files = Files.list(dir.resolve("m1"))) {
            assertThat(files).hasSize(2);
        }
        String[] lines = read(store, "m1", LogStore.Source.WORKLOAD).split("\n");
        assertThat(lines.length).as("at least a full rotated file").isGreaterThanOrEqualTo((int) (cap / 1030));
        assertThat(lines[lines.length - 1]).startsWith("199 ");
        int first = Integer.parseInt(lines[0].substring(0, lines[0].indexOf(' ')));
        for (int i = 0; i < lines.length; i++) assertThat(lines[i]).startsWith((first + i) + " ");
    }

    @Test
    void following_continues_across_a_rotation_without_losing_lines() throws Exception {
        Files.createDirectories(dir.resolve("m1"));
        LogStore store = new LogStore(dir, clock, 64 * 1024);
        AtomicBoolean live = new AtomicBoolean(true);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        Thread follower = follow(store, sink, live);
        String pad = "y".repeat(500);
        try (WorkloadLog log = store.openWorkloadLog("m1")) {
            for (int i = 0; i < 200; i++) {
                log.append(LogStream.STDOUT, bytes(i + " " + pad + "\n"));
                if (i % 50 == 0) Thread.sleep(150); // let the follower catch up before each rotation
            }
        }
        Thread.sleep(150);
        live.set(false);
        follower.join();
        String[] lines = sink.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines).hasSize(200);
        for (int i = 0; i < 200; i++) assertThat(lines[i]).startsWith(i + " ");
    }

    private static String read(LogStore store, String id, LogQuery query) throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        store.copy(id, LogStore.Source.WORKLOAD, query, sink, () -> false);
        return sink.toString(StandardCharsets.UTF_8);
    }

    private static String read(LogStore store, String id, LogStore.Source source) throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        store.copy(id, source, sink, () -> false);
        return sink.toString(StandardCharsets.UTF_8);
    }

    /** Copies machine m1's workload log into {@code sink} on a virtual thread, following it while {@code live}. */
    private static Thread follow(LogStore store, ByteArrayOutputStream sink, AtomicBoolean live) {
        return Thread.ofVirtual().start(() -> {
            try {
                store.copy("m1", LogStore.Source.WORKLOAD, sink, live::get);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
