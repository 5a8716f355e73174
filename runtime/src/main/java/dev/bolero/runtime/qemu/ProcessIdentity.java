package dev.bolero.runtime.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A process's identity across JVMs: its pid and its start time in clock ticks since boot ({@code /proc/PID/stat}
 * field 22), which a reused pid does not share.
 */
final class ProcessIdentity {
    /** USER_HZ: fixed at 100 on Linux for every architecture this runs on. */
    private static final long CLK_TCK = 100;

    private ProcessIdentity() {}

    /** The start time in ticks of process {@code pid}, empty when it does not exist. */
    static OptionalLong startTicks(long pid) {
        try {
            return OptionalLong.of(parseStartTicks(Files.readString(Path.of("/proc/" + pid + "/stat"))));
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    /** Field 22 of a {@code /proc/PID/stat} line; the command (field 2) may contain spaces and parentheses. */
    static long parseStartTicks(String stat) {
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return Long.parseLong(rest[22 - 3]);
    }

    /** Wall-clock time of a start-ticks value, from the boot time in {@code /proc/stat}. */
    static Instant toInstant(long ticks) throws IOException {
        {
            Optional<String> btime = Files.readAllLines(Path.of("/proc/stat")).stream()
                    .filter(l -> l.startsWith("btime "))
                    .findFirst();
            long boot = Long.parseLong(btime.orElseThrow(() -> new IOException("no btime in /proc/stat"))
                    .substring(6).trim());
            return Instant.ofEpochSecond(boot).plusMillis(ticks * 1000 / CLK_TCK);
        }
    }
}
