package dev.bolero.runtime.internal.vmm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shared exit watcher with real short-lived processes. */
class ExitWatcherTest {

    @TempDir Path dir;
    private final List<HostProcess> started = new ArrayList<>();
    private final List<Process> others = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(HostProcess::kill);
        started.forEach(p -> p.onExit().join());
        others.forEach(Process::destroyForcibly);
    }

    @Test
    void aChildsExitStatusIsReportedAndTheChildReaped() throws Exception {
        HostProcess p = spawn("sh", "-c", "exit 7");
        assertThat(p.onExit().get(1, TimeUnit.MINUTES)).isEqualTo(OptionalInt.of(7));
        assertThat(p.isAlive()).isFalse();
        assertThat(Files.exists(Path.of("/proc", Long.toString(p.pid())))).as("no zombie left").isFalse();
        p.kill(); // a no-op once gone, never a signal to whoever reuses the pid
    }

    @Test
    void aSignalledChildReportsTheSignal() throws Exception {
        HostProcess p = spawn("sleep", "600");
        assertThat(p.isAlive()).isTrue();
        p.terminate();
        assertThat(p.onExit().get(1, TimeUnit.MINUTES)).isEqualTo(OptionalInt.of(128 + 15));
        assertThat(p.isAlive()).isFalse();
    }

    @Test
    void anotherProcessesExitIsSeenWithoutAStatusAndWithoutReapingIt() throws Exception {
        Process other = new ProcessBuilder("sleep", "600").start(); // the JDK's child, not the watcher's
        others.add(other);
        long ticks = HostProcesses.startTicks(other.pid()).orElseThrow();
        HostProcess adopted = HostProcesses.find(other.pid(), ticks).orElseThrow();
        assertThat(adopted.isAlive()).isTrue();
        adopted.kill();
        assertThat(adopted.onExit().get(1, TimeUnit.MINUTES)).isEqualTo(OptionalInt.empty());
        assertThat(other.waitFor()).as("reaped by its own parent").isEqualTo(128 + 9);
    }

    @Test
    void manyProcessesNeedNoThreadEachAndLeaveNoZombie() throws Exception {
        spawn("true").onExit().join(); // the watcher thread exists from here on
        int threadsBefore = platformThreads();
        List<HostProcess> batch = new ArrayList<>();
        Path gate = dir.resolve("gate");
        for (int i = 0; i < 100; i++) {
            batch.add(spawn("sh", "-c", "while [ ! -e " + gate + " ]; do sleep 0.05; done; exit " + (i % 50)));
        }
        assertThat(batch).allMatch(HostProcess::isAlive);
        // the JDK would add a reaper thread per child; JIT and carrier threads may come and go
        assertThat(platformThreads()).as("platform threads with 100 processes running").isLessThan(threadsBefore + 8);
        Files.createFile(gate);
        CompletableFuture.allOf(batch.stream().map(HostProcess::onExit).toArray(CompletableFuture[]::new))
                .get(2, TimeUnit.MINUTES);
        for (int i = 0; i < batch.size(); i++) {
            assertThat(batch.get(i).onExit().join()).isEqualTo(OptionalInt.of(i % 50));
            assertThat(state(batch.get(i).pid())).as("pid %d", batch.get(i).pid()).isNotEqualTo("Z");
        }
        assertThat(zombieChildren()).isEmpty();
    }

    private HostProcess spawn(String... command) throws Exception {
        HostProcess p = HostProcesses.spawn("test", List.of(command), dir.resolve("log"));
        started.add(p);
        return p;
    }

    /** The platform threads of this JVM, as the kernel counts them. */
    private static int platformThreads() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Threads:")).mapToInt(l -> Integer.parseInt(l.substring(8).strip()))
                .findFirst().orElseThrow();
    }

    /** The state letter of {@code pid}, or "gone". */
    private static String state(long pid) {
        try {
            return HostProcessesTest.statFields(pid)[0];
        } catch (IOException gone) {
            return "gone";
        }
    }

    private static List<Long> zombieChildren() {
        return ProcessHandle.current().children().map(ProcessHandle::pid).filter(p -> state(p).equals("Z")).toList();
    }
}
