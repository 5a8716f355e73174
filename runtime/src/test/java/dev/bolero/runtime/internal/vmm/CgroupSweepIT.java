package dev.bolero.runtime.internal.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.runtime.JailConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Cgroups#sweep} on this host's real hierarchies: the v1 controllers under {@code /sys/fs/cgroup}, and the
 * cgroup v2 hierarchy a hybrid host mounts at {@code /sys/fs/cgroup/unified} (no memory, cpu or pids controller
 * there, which are bound to v1, so only the v2 directory semantics are exercised: {@code cgroup.procs}, rmdir of an
 * empty cgroup, the kernel refusing a populated one). A live process is put in one cgroup; only the empty cgroups the
 * predicate names are removed.
 */
class CgroupSweepIT {
    private static final Path ROOT = Path.of("/sys/fs/cgroup");

    private final String parent = "bolero-test-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL);
    private final List<Path> made = new ArrayList<>();
    private Process sleeper;

    @AfterEach
    void cleanUp() throws Exception {
        if (sleeper != null) {
            sleeper.destroyForcibly();
            sleeper.waitFor();
        }
        for (Path d : made.reversed()) {
            for (int i = 0; i < 100 && Files.exists(d); i++) {
                try {
                    Files.deleteIfExists(d);
                } catch (java.io.IOException busy) {
                    Thread.sleep(10); // the killed sleeper leaves its cgroup a moment later
                }
            }
        }
    }

    @Test
    void onV1OnlyTheEmptyCgroupsTheCallerNamesAreRemovedInEveryController() throws Exception {
        assumeTrue(JailConfig.runningAsRoot(), "cgroups need root");
        assumeTrue(Files.isDirectory(ROOT.resolve("memory")) && Files.isDirectory(ROOT.resolve("pids")),
                "no cgroup v1 memory and pids hierarchies at " + ROOT);
        List<Path> stale = new ArrayList<>();
        List<Path> busy = new ArrayList<>();
        List<Path> foreign = new ArrayList<>();
        for (String c : List.of("memory", "cpu", "pids")) {
            Path p = mkdir(ROOT.resolve(c).resolve(parent));
            stale.add(mkdir(p.resolve("stale-1")));
            busy.add(mkdir(p.resolve("busy-2")));
            foreign.add(mkdir(p.resolve("foreign")));
        }
        sleeper = new ProcessBuilder("sleep", "600").start();
        for (Path b : busy) Files.writeString(b.resolve("cgroup.procs"), Long.toString(sleeper.pid()));

        List<Path> removed = Cgroups.at(ROOT).sweep(parent, name -> !name.equals("foreign"));

        assertThat(removed).containsExactlyInAnyOrderElementsOf(stale);
        stale.forEach(d -> assertThat(d).doesNotExist());
        busy.forEach(d -> assertThat(d).as("it holds a live process").exists());
        foreign.forEach(d -> assertThat(d).as("not the caller's").exists());
    }

    @Test
    void onTheRealV2HierarchyAnEmptyCgroupIsRemovedAndAPopulatedOneKept() throws Exception {
        Path unified = ROOT.resolve("unified");
        assumeTrue(JailConfig.runningAsRoot(), "cgroups need root");
        assumeTrue(Files.exists(unified.resolve("cgroup.controllers")), "no cgroup v2 hierarchy at " + unified);
        Cgroups v2 = Cgroups.at(unified);
        assertThat(v2.unified()).isTrue();
        Path p = mkdir(unified.resolve(parent));
        Path stale = mkdir(p.resolve("stale-1"));
        Path busy = mkdir(p.resolve("busy-2"));
        sleeper = new ProcessBuilder("sleep", "600").start();
        Files.writeString(busy.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
        assertThat(Files.readString(busy.resolve("cgroup.procs")).strip()).isEqualTo("" + sleeper.pid());

        List<Path> removed = v2.sweep(parent, name -> true);

        assertThat(removed).containsExactly(stale);
        assertThat(stale).doesNotExist();
        assertThat(busy).exists();
    }

    private Path mkdir(Path dir) throws Exception {
        Files.createDirectory(dir);
        made.add(dir);
        return dir;
    }
}
