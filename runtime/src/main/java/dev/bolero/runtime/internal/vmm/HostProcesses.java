package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.VmmException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** Spawning VMMs in their own session, and identifying a process by pid and kernel start time. */
public final class HostProcesses {

    /** USER_HZ: the unit of {@code /proc/PID/stat} start times; 100 on every Linux ABI the project targets. */
    private static final long TICKS_PER_SECOND = 100;

    private HostProcesses() {}

    /**
     * Starts {@code command} (the program looked up on {@code PATH}) through {@code posix_spawn} as the leader of its
     * own session, so it survives this JVM, with stdin from {@code /dev/null}, stdout and stderr appended to
     * {@code log}, no other descriptor of this JVM and this JVM's environment. The JDK knows nothing of the child:
     * no reaper thread; the shared exit watcher reaps it.
     *
     * @throws VmmException naming {@code action} when the process cannot be spawned
     */
    public static HostProcess spawn(String action, List<String> command, Path log) throws VmmException {
        try {
            return HostProcess.ofChild(Libc.spawn(command, System.getenv(), log));
        } catch (IOException e) {
            throw new VmmException(action + ": spawn " + command.getFirst() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The start time of process {@code pid} in clock ticks since boot (field 22 of {@code /proc/PID/stat}), or
     * empty when there is no such process.
     */
    public static OptionalLong startTicks(long pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (IOException gone) {
            return OptionalLong.empty();
        }
        // comm (field 2) may hold spaces and parentheses: fields after it start after the last ')'.
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return OptionalLong.of(Long.parseLong(rest[22 - 3]));
    }

    /** The wall-clock instant of a start time in ticks since boot (using {@code btime} of {@code /proc/stat}). */
    public static Instant startInstant(long ticks) {
        return Instant.ofEpochSecond(bootTime()).plusMillis(ticks * 1000 / TICKS_PER_SECOND);
    }

    /** The process {@code pid} if it is alive and started at {@code ticks}; empty if gone or the pid was reused. */
    public static Optional<HostProcess> find(long pid, long ticks) {
        return HostProcess.attach(pid, p -> startTicks(p).equals(OptionalLong.of(ticks)));
    }

    /** The process {@code pid} if it is alive, whichever process that is now. */
    public static Optional<HostProcess> find(long pid) {
        return HostProcess.attach(pid, p -> true);
    }

    /** An executable named {@code name} on {@code PATH}. */
    public static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) return Optional.empty();
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) return Optional.of(candidate);
        }
        return Optional.empty();
    }

    private static long bootTime() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                if (line.startsWith("btime ")) return Long.parseLong(line.substring(6).strip());
            }
        } catch (IOException e) {
            throw new IllegalStateException("read /proc/stat: " + e.getMessage(), e);
        }
        throw new IllegalStateException("read /proc/stat: no btime line");
    }
}
