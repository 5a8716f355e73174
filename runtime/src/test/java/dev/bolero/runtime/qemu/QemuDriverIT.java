package dev.bolero.runtime.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.Snapshot;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.boot.BootAssetsBuilder;
import dev.bolero.runtime.guest.GuestConfig;
import dev.bolero.runtime.guest.GuestEvent;
import dev.bolero.runtime.guest.GuestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Boots real microVMs: the host kernel, the built initramfs, a busybox root drive, QEMU (TCG here). */
class QemuDriverIT {
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
            assumeTrue(onPath(tool), tool + " is not installed");
        }
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static is not installed (/bin/busybox)");
        boot = new BootAssetsBuilder(shared.resolve("data")).build();
        rootDrive = RootDrives.busybox(shared.resolve("rootfs"), shared.resolve("root.ext4"));
    }

    @AfterEach
    void noQemuOfThisTestRemains() {
        started.forEach(VmProcess::kill);
        assertThat(qemuProcessesUnder(dir)).isEmpty();
    }

    private VmSpec spec(Path workDir) {
        return new VmSpec("m-" + workDir.getFileName(), workDir, 1, 256, boot, rootDrive, List.of(),
                Duration.ofSeconds(2));
    }

    private VmProcess start(Path workDir) throws VmmException {
        VmProcess p = driver.start(spec(workDir));
        started.add(p);
        return p;
    }

    /** Runs {@code config} to its end: the events after HELLO, the streams, the final event. */
    record Run(long msToStarted, List<GuestEvent> events, String stdout, String stderr, GuestEvent last) {}

    private Run run(VmProcess vm, GuestConfig config, long spawnNanos) throws IOException {
        try (var session = new GuestSession(vm.openControl())) {
            assertThat(session.next()).isInstanceOf(GuestEvent.Hello.class);
            session.sendConfig(config);
            return collect(session, spawnNanos);
        }
    }

    private Run collect(GuestSession session, long spawnNanos) throws IOException {
        List<GuestEvent> events = new ArrayList<>();
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        long started = -1;
        while (true) {
            GuestEvent e = session.next();
            events.add(e);
            switch (e) {
                case GuestEvent.Hello h -> throw new AssertionError("HELLO after CONFIG: " + h);
                case GuestEvent.ExecEvent x -> throw new AssertionError("exec event without an exec: " + x);
                case GuestEvent.VolumeFrozen v -> throw new AssertionError("FROZEN without a FREEZE: " + v);
                case GuestEvent.Started s -> started = (System.nanoTime() - spawnNanos) / 1_000_000;
                case GuestEvent.Output o -> (o.stream() == GuestEvent.Stream.STDOUT ? out : err).writeBytes(o.data());
                case GuestEvent.Exited x -> {
                    session.ack();
                    return new Run(started, events, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), x);
                }
                case GuestEvent.Failed f -> {
                    session.ack();
                    return new Run(started, events, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), f);
                }
            }
        }
    }

    @Test
    void runsAWorkloadAndReportsItsStreamsAndExitStatus() throws Exception {
        long t0 = System.nanoTime();
        VmProcess vm = start(dir.resolve("m"));
        Run run = run(vm, GuestConfig.of(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), "m1"), t0);
        System.out.println("boot: spawn to STARTED " + run.msToStarted() + " ms");

        assertThat(run.events().getFirst()).isInstanceOf(GuestEvent.Started.class);
        assertThat(run.stdout()).isEqualTo("out\n");
        assertThat(run.stderr()).isEqualTo("err\n");
        assertThat(run.last()).isEqualTo(new GuestEvent.Exited(3));
        // after the ACK the guest reboots, and QEMU (-no-reboot) exits
        assertThat(vm.exit().get(30, TimeUnit.SECONDS).status()).hasValue(0);
        assertThat(vm.isAlive()).isFalse();
    }

    @Test
    void runsAsTheImageUserWithTheEnvironmentAndWorkdir() throws Exception {
        long t0 = System.nanoTime();
        VmProcess vm = start(dir.resolve("m"));
        var config = new GuestConfig(List.of("sh", "-c", "id -u; id -G; pwd; echo $GREETING; hostname; cat /etc/hosts"),
                List.of("GREETING=hello world"), "/srv", "app", "box-7", "/dev/vda", Optional.empty(), Optional.empty(),
                List.of());
        Run run = run(vm, config, t0);
        System.out.println("boot: spawn to STARTED " + run.msToStarted() + " ms");

        assertThat(run.last()).isEqualTo(new GuestEvent.Exited(0));
        assertThat(run.stdout()).startsWith("1000\n1000 2000\n/srv\nhello world\nbox-7\n");
        assertThat(run.stdout()).contains("localhost box-7");
        assertThat(run.stderr()).isEmpty();
        vm.exit().get(30, TimeUnit.SECONDS);
    }

    @Test
    void forwardsASignalToTheWorkload() throws Exception {
        VmProcess vm = start(dir.resolve("m"));
        try (var session = new GuestSession(vm.openControl())) {
            assertThat(session.next()).isInstanceOf(GuestEvent.Hello.class);
            session.sendConfig(GuestConfig.of(List.of("sleep", "600"), "m"));
            assertThat(session.next()).isInstanceOf(GuestEvent.Started.class);
            session.signal(15);
            assertThat(session.next()).isEqualTo(new GuestEvent.Exited(143));
            session.ack();
        }
        vm.exit().get(30, TimeUnit.SECONDS);
    }

    @Test
    void reportsAMissingBinaryAsFailedAndStopsTheVm() throws Exception {
        VmProcess vm = start(dir.resolve("m"));
        try (var session = new GuestSession(vm.openControl())) {
            assertThat(session.next()).isInstanceOf(GuestEvent.Hello.class);
            session.sendConfig(GuestConfig.of(List.of("/bin/nosuch", "x"), "m"));
            assertThat(session.next()).isEqualTo(new GuestEvent.Failed("exec /bin/nosuch: No such file or directory"));
        }
        vm.stop(Duration.ofSeconds(5)); // no ACK: the host stops the VMM itself
        assertThat(vm.isAlive()).isFalse();
        assertThat(vm.diagnostics(4096)).doesNotContain("Error");
    }

    @Test
    void aNewDriverRecoversTheVmByPidAndStartTimeAndKillLeavesNothing() throws Exception {
        // deeper than a Unix socket path allows: the sockets move to a short directory
        assumeTrue(Files.isWritable(Path.of("/run")), "needs a writable /run for the short socket directory");
        Path work = dir;
        while (work.toString().length() < 120) work = work.resolve("a-rather-long-directory-name");
        VmProcess vm = start(work);
        assertThat(vm.handle().data().get("ctlSocket")).startsWith("/run/bolero/");

        Optional<VmProcess> recovered = new QemuDriver().recover(vm.handle());
        assertThat(recovered).isPresent();
        VmProcess again = recovered.get();
        assertThat(again.handle().pid()).isEqualTo(vm.handle().pid());
        try (var session = new GuestSession(again.openControl())) {
            assertThat(session.next()).isInstanceOf(GuestEvent.Hello.class);
        }
        again.kill();
        assertThat(again.exit().get(5, TimeUnit.SECONDS).status()).isEmpty();
        // still this JVM's child: a zombie until the watcher reaped it through the first handle
        assertThat(vm.exit().get(5, TimeUnit.SECONDS).status()).isPresent();
        assertThat(ProcessHandle.of(vm.handle().pid()).map(ProcessHandle::isAlive)).isNotEqualTo(Optional.of(true));
        assertThat(new QemuDriver().recover(vm.handle())).isEmpty();
        assertThat(Path.of(vm.handle().data().get("socketDir"))).doesNotExist();
    }

    @Test
    void aQemuThatExitsAtOnceFailsTheStartWithItsMessage() throws Exception {
        var bad = new BootAssets(dir.resolve("no-such-kernel"), boot.initramfs(), boot.kernelArgs(), boot.flavour());
        var spec = new VmSpec("bad", dir.resolve("m"), 1, 256, bad, rootDrive, List.of(), Duration.ofSeconds(1));
        assertThatThrownBy(() -> driver.start(spec))
                .isInstanceOf(VmmException.class)
                .hasMessageContaining("start machine bad: qemu exited")
                .hasMessageContaining("no-such-kernel");
    }

    @Test
    void recoverRejectsAForeignHandle() {
        var h = new dev.bolero.runtime.VmHandle("firecracker", 1, 1, java.time.Instant.EPOCH, java.util.Map.of());
        assertThatThrownBy(() -> driver.recover(h)).isInstanceOf(VmmException.class).hasMessageContaining("firecracker");
    }

    /**
     * A fork whose clones share their source's memory pages (unjailed): the source's RAM is a memfd QEMU maps shared,
     * the seed holds a copy of it beside a migration stream of the devices' state alone, and each clone maps that copy
     * privately: the pages both clones only read are one page cache's, counted half to each. A clone then suspends (all
     * its RAM in the stream) and resumes into anonymous memory; the source suspends (its RAM beside the stream) and
     * resumes with it written back into a memfd. One cold boot in all.
     */
    @Test
    void clonesMapTheSeedsRamPrivatelyAndShareThePagesTheyOnlyRead() throws Exception {
        VmProcess source = driver.start(spec(dir.resolve("source")));
        started.add(source);
        Path seed = dir.resolve("seed");
        try (var session = new GuestSession(source.openControl())) { // connected while the seed is saved, as a runner
            assertThat(session.next()).isInstanceOf(GuestEvent.Hello.class);
            session.sendConfig(GuestConfig.of(List.of("sh", "-c", "while true; do echo tick; sleep 0.2; done"), "src"));
            assertThat(session.next()).isInstanceOf(GuestEvent.Started.class);
            assertThat(session.next()).isInstanceOf(GuestEvent.Output.class);
            Mapping ram = ram(source, GuestRam.Shared.MEMFD).orElseThrow();
            assertThat(ram.perms()).as("the source's RAM is a memfd mapped shared").isEqualTo("rw-s");
            source.seed(seed);
        }
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
            assertThat(driver.snapshotUnusable(spec(dir.resolve(name)), Map.of())).isEmpty();
            VmProcess clone = driver.resume(spec(dir.resolve(name)));
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
            System.out.println("clone RAM mapping: " + m);
        }

        // A clone, whose RAM maps the seed's file, suspends with all its RAM in the stream and resumes it into
        // anonymous memory (a memfd would allocate every page the load reads).
        VmProcess c1 = clones.getFirst();
        c1.suspend(Map.of());
        Path c1Snapshot = Snapshot.dir(dir.resolve("c1"));
        assertThat(Files.size(c1Snapshot.resolve("qemu-state"))).isGreaterThan(8 * MIB);
        assertThat(c1Snapshot.resolve("qemu-memory")).doesNotExist();
        VmProcess c1Again = driver.resume(spec(dir.resolve("c1")));
        started.add(c1Again);
        assertThat(ram(c1Again, GuestRam.Shared.MEMFD)).as("no memfd: anonymous RAM").isEmpty();
        assertThat(c1Again.isAlive()).isTrue();

        // The source still suspends, its RAM beside the devices' state, and resumes with that RAM written back into a
        // new memfd.
        source.suspend(Map.of());
        Path sourceSnapshot = Snapshot.dir(dir.resolve("source"));
        assertThat(Files.size(sourceSnapshot.resolve("qemu-state"))).isLessThan(4 * MIB);
        assertThat(Files.size(sourceSnapshot.resolve("qemu-memory"))).isEqualTo(256 * MIB);
        assertThat(Files.readString(sourceSnapshot.resolve("qemu-memory.extents"))).isNotBlank();
        VmProcess resumed = driver.resume(spec(dir.resolve("source")));
        started.add(resumed);
        Mapping back = ram(resumed, GuestRam.Shared.MEMFD).orElseThrow();
        assertThat(back.perms()).isEqualTo("rw-s");
        // The driver writes the saved RAM into the memfd through its file descriptor, so those pages are the memfd's
        // whether or not the resumed guest has touched them yet (its mapping's RSS counts only those it has).
        assertThat(allocatedBytes(resumed, GuestRam.Shared.MEMFD)).as("the saved RAM was written into it")
                .isGreaterThan(8 * MIB);
        assertThat(resumed.isAlive()).isTrue();
    }

    /** The bytes of memory allocated to the VMM's open file whose path starts with {@code prefix} ({@code stat -L}). */
    private static long allocatedBytes(VmProcess vm, String prefix) throws IOException, InterruptedException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(vm.handle().pid()), "fd"))) {
            for (Path fd : fds.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue; // closed since the listing
                }
                if (!target.startsWith(prefix)) continue;
                Process stat = new ProcessBuilder("stat", "-L", "-c", "%b %B", fd.toString()).start();
                String out = new String(stat.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                assertThat(stat.waitFor()).as("stat %s: %s", fd, out).isZero();
                String[] blocks = out.split(" ");
                return Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
            }
        }
        throw new AssertionError("pid " + vm.handle().pid() + " has no open file " + prefix + "*");
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

    static boolean onPath(String tool) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }

    /** Live qemu processes whose command line mentions {@code dir}. */
    static List<Long> qemuProcessesUnder(Path dir) {
        return ProcessHandle.allProcesses()
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().commandLine().map(c -> c.contains("qemu") && c.contains(dir.toString())).orElse(false))
                .map(ProcessHandle::pid)
                .toList();
    }
}
