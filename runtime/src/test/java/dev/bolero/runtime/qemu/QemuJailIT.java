package dev.bolero.runtime.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.KernelFlavour;
import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.VmHandle;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves the jail from outside, on real QEMU: what {@code /proc/PID} says about the VMM (uid, gid, capabilities,
 * no_new_privs, seccomp, namespaces, root, rlimits, cgroup), what its root can reach, the cgroup limits the kernel
 * holds, that the jail survives the death of the JVM that made it, and that nothing is left once the VMM is gone.
 */
class QemuJailIT {
    @TempDir static Path shared;
    @TempDir Path dir;

    static BootAssets boot;
    static Path rootDrive;
    static final JailConfig CONFIG = JailConfig.defaults();
    private final List<VmProcess> started = new ArrayList<>();

    @BeforeAll
    static void prepare() throws Exception {
        assumeTrue(JailConfig.runningAsRoot(), "jailing needs root");
        for (String tool : List.of("qemu-system-x86_64", "qemu-img", "mkfs.ext4")) {
            assumeTrue(QemuDriverIT.onPath(tool), tool + " is not installed");
        }
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static is not installed (/bin/busybox)");
        boot = new BootAssetsBuilder(shared.resolve("data")).build();
        rootDrive = RootDrives.busybox(shared.resolve("rootfs"), shared.resolve("root.ext4"));
    }

    @AfterEach
    void killWhatIsLeft() {
        started.forEach(VmProcess::kill);
        assertThat(QemuDriverIT.qemuProcessesUnder(dir)).isEmpty();
    }

    static VmSpec spec(Path work, BootAssets boot, Path rootDrive) {
        return new VmSpec("jail-" + work.getParent().getFileName(), work, 1, 256, boot, rootDrive, List.of(),
                Duration.ofSeconds(2));
    }

    @Test
    void theVmmRunsUnprivilegedInItsJailNamespacesAndCgroupAndTheGuestWorks() throws Exception {
        Path secret = Files.writeString(dir.resolve("secret.txt"), "not for the VMM");
        Path work = dir.resolve("m");
        VmProcess vm = new QemuDriver(QemuDriver.Accel.AUTO, Optional.of(CONFIG)).start(spec(work, boot, rootDrive));
        started.add(vm);
        long pid = vm.handle().pid();
        Map<String, String> status = procStatus(pid);
        int uid = Integer.parseInt(vm.handle().data().get("jail_uid"));

        assertThat(uid).isBetween(CONFIG.firstUid(), CONFIG.firstUid() + CONFIG.uidCount() - 1);
        assertThat(status.get("Uid")).isEqualTo(String.join("\t", List.of("" + uid, "" + uid, "" + uid, "" + uid)));
        assertThat(status.get("Gid")).isEqualTo(String.join("\t", List.of("" + uid, "" + uid, "" + uid, "" + uid)));
        assertThat(status.get("Groups")).isEmpty();
        for (String caps : List.of("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")) {
            assertThat(status.get(caps)).as(caps).isEqualTo("0000000000000000");
        }
        assertThat(status.get("NoNewPrivs")).isEqualTo("1");
        assertThat(status.get("Seccomp")).as("QEMU's -sandbox filter").isEqualTo("2");
        assertThat(status.get("NSpid")).as("PID 1 of its own PID namespace").endsWith("\t1");
        for (String ns : List.of("mnt", "pid", "ipc")) {
            assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + ns)))
                    .as(ns + " namespace").isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)));
        }
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/root"))).isEqualTo(work.resolve("jail"));
        Path vmmRoot = Path.of("/proc/" + pid + "/root");
        assertThat(vmmRoot.resolve(secret.toString().substring(1))).as("a file outside the jail").doesNotExist();
        assertThat(vmmRoot.resolve("etc/shadow")).doesNotExist();
        assertThat(vmmRoot.resolve("vmlinux")).as("the kernel is bound in").isRegularFile();
        try (var files = Files.list(vmmRoot)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("run", "root.qcow2", "console.log", "dev", "usr", "lib", "lib64",
                            "vmlinux", "initramfs", "base.raw");
        }
        assertThat(Files.getAttribute(vmmRoot.resolve("base.raw"), "unix:uid")).as("the shared drive stays root's")
                .isEqualTo(0);
        assertThat(Files.isWritable(vmmRoot.resolve("base.raw"))).as("bound read-only").isFalse();
        String limits = Files.readString(Path.of("/proc/" + pid + "/limits"));
        assertThat(limits).containsPattern("Max open files +4096 +4096")
                .containsPattern("Max processes +512 +512").containsPattern("Max core file size +0 +0");

        List<Path> cgroups = cgroups(vm.handle());
        assertCgroupLimits(pid, cgroups, (256 + CONFIG.memoryOverheadMb()) << 20, 1);

        try (var session = new GuestSession(vm.openControl())) {
            assertThat(session.next()).isInstanceOf(GuestEvent.Hello.class);
            session.sendConfig(GuestConfig.of(List.of("sh", "-c", "echo hello from the jail"), "m"));
            var out = new ByteArrayOutputStream();
            GuestEvent e;
            while (!((e = session.next()) instanceof GuestEvent.Exited) && !(e instanceof GuestEvent.Failed)) {
                if (e instanceof GuestEvent.Output o) out.writeBytes(o.data());
            }
            assertThat(e).isEqualTo(new GuestEvent.Exited(0));
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hello from the jail\n");
            session.ack();
        }
        assertThat(vm.exit().get(30, TimeUnit.SECONDS).status()).as("the jailer passes QEMU's status on").hasValue(0);
        assertThat(Files.readString(work.resolve("console.log"))).as("the console log is the machine's").isNotEmpty();
        assertReleased(vm.handle(), cgroups);
    }

    @Test
    void aJailedVmmGetsItsVolumeAsAHardLinkOfItsOwnAndTheGuestMountsItBySerialAndWritesToIt() throws Exception {
        Path volume = dir.resolve("vol_jailtest.ext4");
        try (var raf = new java.io.RandomAccessFile(volume.toFile(), "rw")) {
            raf.setLength(64L << 20);
        }
        run("mkfs.ext4", "-q", "-F", volume.toString());
        Path work = dir.resolve("m");
        VmSpec plain = spec(work, boot, rootDrive);
        VmSpec spec = new VmSpec(plain.machineId(), work, 1, 256, boot, rootDrive, List.of(), plain.stopGrace(), 0,
                List.of(new VmSpec.Drive(volume, "vol_jailtest")));
        VmProcess vm = new QemuDriver(QemuDriver.Accel.AUTO, Optional.of(CONFIG)).start(spec);
        started.add(vm);
        int uid = Integer.parseInt(vm.handle().data().get("jail_uid"));
        Path inJail = Path.of("/proc/" + vm.handle().pid() + "/root/drive-vol_jailtest.raw");
        assertThat(Files.isSameFile(inJail, volume)).as("a hard link of the volume's file").isTrue();
        assertThat(Files.getAttribute(volume, "unix:uid")).as("given to the VMM's uid").isEqualTo(uid);
        try (var session = new GuestSession(vm.openControl())) {
            assertThat(session.next()).isInstanceOf(GuestEvent.Hello.class);
            session.sendConfig(new GuestConfig(List.of("sh", "-c", "echo kept > /data/marker && sync"), List.of(),
                    "/", "0:0", "m", "/dev/vda", Optional.empty(), Optional.empty(), List.of(), List.of(),
                    List.of(), List.of(new GuestConfig.Mount("vol_jailtest", "/data"))));
            GuestEvent e;
            while (!((e = session.next()) instanceof GuestEvent.Exited) && !(e instanceof GuestEvent.Failed)) {
                // output: none expected
            }
            assertThat(e).isEqualTo(new GuestEvent.Exited(0));
            session.ack();
        }
        assertThat(vm.exit().get(30, TimeUnit.SECONDS).status()).hasValue(0);
        assertThat(run("debugfs", "-R", "cat /marker", volume.toString())).contains("kept");
        assertThat(volume).as("the volume's file outlives the jail").exists();
    }

    /** Runs a host tool; its output. */
    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", command), out).isZero();
        return out;
    }

    @Test
    void theJailOutlivesTheJvmThatMadeItAndANewDriverRecoversAndReleasesIt() throws Exception {
        Path work = dir.resolve("m");
        Process starter = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), JailedStarter.class.getName(),
                work.toString(), boot.kernel().toString(), boot.initramfs().toString(),
                String.join(" ", boot.kernelArgs()), rootDrive.toString(), boot.flavour().name())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        VmHandle handle;
        try {
            handle = JailedStarter.read(new String(starter.getInputStream().readNBytes(1 << 16),
                    StandardCharsets.UTF_8));
        } finally {
            starter.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
            starter.waitFor();
        }
        long pid = handle.pid();
        List<Path> cgroups = cgroups(handle);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("VMM alive after its JVM died").hasValue(true);
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/root"))).isEqualTo(work.resolve("jail"));
        assertThat(work.resolve("jail/run/ctl.sock")).exists();
        assertCgroupLimits(pid, cgroups, (256 + CONFIG.memoryOverheadMb()) << 20, 1);

        VmProcess recovered = new QemuDriver(QemuDriver.Accel.AUTO, Optional.of(CONFIG)).recover(handle).orElseThrow();
        started.add(recovered);
        try (var session = new GuestSession(recovered.openControl())) {
            assertThat(session.next()).isInstanceOf(GuestEvent.Hello.class);
        }
        recovered.kill();
        assertThat(recovered.exit().get(10, TimeUnit.SECONDS).status()).isEmpty();
        assertReleased(handle, cgroups);
        assertThat(new QemuDriver(QemuDriver.Accel.AUTO, Optional.of(CONFIG)).recover(handle)).isEmpty();
    }

    @Test
    void aJailedStartThatFailsLeavesNothing() throws Exception {
        Path work = dir.resolve("m");
        var bad = new BootAssets(dir.resolve("no-such-kernel"), boot.initramfs(), boot.kernelArgs(), boot.flavour());
        try {
            new QemuDriver(QemuDriver.Accel.AUTO, Optional.of(CONFIG)).start(spec(work, bad, rootDrive));
            throw new AssertionError("started without a kernel");
        } catch (VmmException e) {
            assertThat(e.getMessage()).contains("start machine jail-").contains("no-such-kernel");
        }
        assertThat(work.resolve("jail")).doesNotExist();
    }

    /** The child JVM of the survival test: starts a jailed VM, prints its handle, then waits to be killed. */
    static final class JailedStarter {
        public static void main(String[] args) throws Exception {
            var assets = new BootAssets(Path.of(args[1]), Path.of(args[2]), List.of(args[3].split(" ")),
                    KernelFlavour.valueOf(args[5]));
            VmProcess vm = new QemuDriver(QemuDriver.Accel.AUTO, Optional.of(CONFIG))
                    .start(spec(Path.of(args[0]), assets, Path.of(args[4])));
            VmHandle h = vm.handle();
            StringBuilder out = new StringBuilder("driver=" + h.driver() + "\nversion=" + h.version() + "\npid="
                    + h.pid() + "\nstartedAt=" + h.startedAt() + "\n");
            h.data().forEach((k, v) -> out.append("data.").append(k).append('=').append(v).append('\n'));
            System.out.print(out.append("end\n"));
            System.out.flush();
            System.out.close();
            Thread.sleep(Long.MAX_VALUE);
        }

        static VmHandle read(String text) {
            assertThat(text).as("the starter printed a handle").contains("end\n");
            Map<String, String> kv = new HashMap<>();
            Map<String, String> data = new HashMap<>();
            for (String line : text.lines().toList()) {
                int eq = line.indexOf('=');
                if (eq < 0) continue;
                String k = line.substring(0, eq);
                if (k.startsWith("data.")) data.put(k.substring(5), line.substring(eq + 1));
                else kv.put(k, line.substring(eq + 1));
            }
            return new VmHandle(kv.get("driver"), Integer.parseInt(kv.get("version")), Long.parseLong(kv.get("pid")),
                    Instant.parse(kv.get("startedAt")), data);
        }
    }

    private static List<Path> cgroups(VmHandle handle) {
        return List.of(handle.data().get("jail_cgroups").split(":")).stream().map(Path::of).toList();
    }

    /** The kernel's view: the VMM is in each cgroup, and each holds the limits. */
    private static void assertCgroupLimits(long pid, List<Path> cgroups, long memoryBytes, int cpus) throws IOException {
        String procCgroup = Files.readString(Path.of("/proc/" + pid + "/cgroup"));
        for (Path dir : cgroups) {
            assertThat(Files.readAllLines(dir.resolve("cgroup.procs"))).as("members of " + dir).contains("" + pid);
            String rel = "/" + CONFIG.cgroupParent() + "/" + dir.getFileName();
            assertThat(procCgroup).contains(rel);
            if (Files.exists(dir.resolve("memory.max"))) { // v2
                assertThat(Files.readString(dir.resolve("memory.max")).strip()).isEqualTo("" + memoryBytes);
                assertThat(Files.readString(dir.resolve("cpu.max")).strip()).isEqualTo(cpus * 100000 + " 100000");
                assertThat(Files.readString(dir.resolve("pids.max")).strip()).isEqualTo("512");
            }
            if (Files.exists(dir.resolve("memory.limit_in_bytes"))) {
                assertThat(Files.readString(dir.resolve("memory.limit_in_bytes")).strip()).isEqualTo("" + memoryBytes);
            }
            if (Files.exists(dir.resolve("cpu.cfs_quota_us"))) {
                assertThat(Files.readString(dir.resolve("cpu.cfs_quota_us")).strip()).isEqualTo("" + cpus * 100000);
                assertThat(Files.readString(dir.resolve("cpu.cfs_period_us")).strip()).isEqualTo("100000");
            }
            if (dir.startsWith(CONFIG.cgroupRoot().resolve("pids"))) {
                assertThat(Files.readString(dir.resolve("pids.max")).strip()).isEqualTo("512");
            }
        }
    }

    private static void assertReleased(VmHandle handle, List<Path> cgroups) {
        assertThat(Path.of(handle.data().get("jail_root"))).as("jail directory").doesNotExist();
        for (Path dir : cgroups) assertThat(dir).as("cgroup").doesNotExist();
        assertThat(Path.of(handle.data().get("jail_uid_claim"))).as("uid claim").doesNotExist();
    }

    private static Map<String, String> procStatus(long pid) throws IOException {
        Map<String, String> status = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            int colon = line.indexOf(':');
            status.put(line.substring(0, colon), line.substring(colon + 1).strip());
        }
        return status;
    }
}
