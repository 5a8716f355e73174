package dev.bolero.runtime.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.Snapshot;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.boot.BootAssetsBuilder;
import dev.bolero.runtime.guest.GuestConfig;
import dev.bolero.runtime.guest.GuestEvent;
import dev.bolero.runtime.guest.GuestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fork whose clones share their source's memory pages, with a real unjailed QEMU (TCG here): the source's RAM is a
 * memfd QEMU maps shared, the seed holds a copy of it beside a migration stream of the devices' state alone, and
 * each clone maps that copy privately: the pages both clones only read are one page cache's, counted half to each.
 * The source then still suspends (its RAM in the stream) and resumes. One cold boot in all.
 */
class QemuForkIT {
    private static final long MIB = 1 << 20;

    @TempDir static Path shared;
    @TempDir Path dir;

    static BootAssets boot;
    static Path rootDrive;
    private final List<VmProcess> started = new ArrayList<>();
    private final QemuDriver driver = new QemuDriver();

    @BeforeAll
    static void prepare() throws Exception {
        for (String tool : List.of("qemu-system-x86_64", "qemu-img", "mkfs.ext4")) {
            assumeTrue(QemuDriverIT.onPath(tool), tool + " is not installed");
        }
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static is not installed (/bin/busybox)");
        boot = new BootAssetsBuilder(shared.resolve("data")).build();
        rootDrive = RootDrives.busybox(shared.resolve("rootfs"), shared.resolve("root.ext4"));
    }

    @AfterEach
    void noQemuOfThisTestRemains() {
        started.forEach(VmProcess::kill);
        assertThat(QemuDriverIT.qemuProcessesUnder(dir)).isEmpty();
    }

    private VmSpec spec(String name) {
        return new VmSpec("m-" + name, dir.resolve(name), 1, 256, boot, rootDrive, List.of(), Duration.ofSeconds(2));
    }

    @Test
    void clonesMapTheSeedsRamPrivatelyAndShareThePagesTheyOnlyRead() throws Exception {
        VmProcess source = driver.start(spec("source"));
        started.add(source);
        try (var session = new GuestSession(source.openControl())) {
            assertThat(session.next()).isInstanceOf(GuestEvent.Hello.class);
            session.sendConfig(GuestConfig.of(List.of("sh", "-c", "while true; do echo tick; sleep 0.2; done"), "src"));
            assertThat(session.next()).isInstanceOf(GuestEvent.Started.class);
            assertThat(session.next()).isInstanceOf(GuestEvent.Output.class);
        }
        Mapping ram = ram(source, GuestRam.Shared.MEMFD).orElseThrow();
        assertThat(ram.perms()).as("the source's RAM is a memfd mapped shared").isEqualTo("rw-s");

        Path seed = dir.resolve("seed");
        source.seed(seed);
        assertThat(Files.size(seed.resolve("qemu-memory"))).as("the paused RAM, whole").isEqualTo(256 * MIB);
        assertThat(Files.size(seed.resolve("qemu-state"))).as("the stream holds the devices' state alone")
                .isLessThan(4 * MIB);
        assertThat(Files.getPosixFilePermissions(seed.resolve("qemu-memory"))).hasToString("[OWNER_READ, OWNER_WRITE]");

        List<VmProcess> clones = new ArrayList<>();
        for (String name : List.of("c1", "c2")) {
            driver.plant(seed, dir.resolve(name), Map.of());
        }
        try (Stream<Path> files = Files.walk(seed)) { // as a fork does once every clone is planted
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        for (String name : List.of("c1", "c2")) {
            assertThat(driver.snapshotUnusable(spec(name), Map.of())).isEmpty();
            VmProcess clone = driver.resume(spec(name));
            started.add(clone);
            clones.add(clone);
            assertThat(Snapshot.exists(dir.resolve(name))).isFalse();
        }
        for (VmProcess clone : clones) {
            String file = clone.handle().data().get("workDir") + "/snapshot/qemu-memory";
            Mapping m = ram(clone, file).orElseThrow();
            for (long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    (m.privateDirtyKb() == 0 || m.sharedCleanKb() == 0) && System.nanoTime() < deadline; ) {
                Thread.sleep(100); // until the guest ran on: it wrote pages of its own and read the shared ones
                m = ram(clone, file).orElseThrow();
            }
            assertThat(m.privateDirtyKb()).as("the clone runs: it wrote pages of its own: %s", m).isPositive();
            assertThat(m.sharedCleanKb()).as("pages both clones read are shared: %s", m).isPositive();
            assertThat(m.perms()).as("a private (copy-on-write) mapping of the seed's RAM").isEqualTo("rw-p");
            assertThat(m.pssKb()).as("the pages both clones read count half: %s", m).isLessThan(m.rssKb());
        }

        // The source still suspends, its RAM now in the stream, and resumes with that RAM in a new shared file.
        source.suspend(Map.of());
        assertThat(Files.size(Snapshot.dir(dir.resolve("source")).resolve("qemu-state"))).isGreaterThan(8 * MIB);
        assertThat(Snapshot.dir(dir.resolve("source")).resolve("qemu-memory")).doesNotExist();
        VmProcess resumed = driver.resume(spec("source"));
        started.add(resumed);
        Mapping back = ram(resumed, GuestRam.Shared.MEMFD).orElseThrow();
        assertThat(back.perms()).isEqualTo("rw-s");
        assertThat(back.rssKb() * 1024).as("the saved RAM was loaded into it").isGreaterThan(8 * MIB);
        assertThat(resumed.isAlive()).isTrue();
    }

    /** One mapping of {@code /proc/<pid>/smaps}: its permissions and sizes (kB). */
    private record Mapping(String perms, long rssKb, long pssKb, long sharedCleanKb, long privateDirtyKb) {}

    /** The VMM's mapping of a file whose path starts with {@code prefix}. */
    private static Optional<Mapping> ram(VmProcess vm, String prefix) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(vm.handle().pid()), "smaps"));
        for (int i = 0; i < lines.size(); i++) {
            String[] head = lines.get(i).split("\\s+", 6);
            if (head.length < 6 || !head[5].startsWith(prefix)) continue;
            Map<String, Long> kb = new HashMap<>();
            for (int j = i + 1; j < lines.size() && lines.get(j).matches("[A-Z][A-Za-z_]*:.*"); j++) {
                String[] f = lines.get(j).split(":\\s+");
                if (f[1].endsWith(" kB")) kb.put(f[0], Long.parseLong(f[1].replace(" kB", "").strip()));
            }
            return Optional.of(new Mapping(head[1], kb.get("Rss"), kb.get("Pss"), kb.get("Shared_Clean"),
                    kb.get("Private_Dirty")));
        }
        return Optional.empty();
    }
}
