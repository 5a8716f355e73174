package dev.bolero.runtime.internal.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.KernelFlavour;
import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.VmSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * The pieces of tests that run the jailed launch path of the REST-API drivers with a stand-in VMM
 * ({@code standin-vmm.c}: a static program that is <em>not</em> Firecracker or Cloud Hypervisor; it serves 204 on
 * the API socket and reports what it may do in its jail). The jailer, chroot, namespaces, uid, rlimits and cgroups
 * around it are real. Each test gets its own run directory, uid range and cgroup parent, so suites on one host
 * never see each other's claims or cgroups.
 */
public final class JailedStandIn {
    private JailedStandIn() {}

    /** Skips unless root, musl-gcc and /dev/kvm (the jailer makes a node of it) are here. */
    public static void assumeHost() {
        assumeTrue(JailConfig.runningAsRoot(), "jailing needs root");
        assumeTrue(HostProcesses.onPath("musl-gcc").isPresent(), "musl-gcc (musl-tools) is not installed");
        assumeTrue(Files.exists(Path.of("/dev/kvm")), "no /dev/kvm to make a node of in the jail");
    }

    /** Compiles the stand-in to {@code dir/name} (static). */
    public static Path build(Path dir, String name) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path source = dir.resolve("standin-vmm.c");
        try (InputStream in = JailedStandIn.class.getResourceAsStream("/dev/bolero/runtime/standin/standin-vmm.c")) {
            Files.write(source, in.readAllBytes());
        }
        Path binary = dir.resolve(name);
        Process cc = new ProcessBuilder("musl-gcc", "-static", "-O2", "-o", binary.toString(), source.toString())
                .redirectErrorStream(true).start();
        String out = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (cc.waitFor() != 0) throw new IOException("musl-gcc standin-vmm.c: " + out);
        return binary;
    }

    /** A jail config of its own: run dir under {@code dir}, a random 1000-uid range, a unique cgroup parent. */
    public static JailConfig config(Path dir) {
        int first = 400_000 + ThreadLocalRandom.current().nextInt(500) * 1000;
        String parent = "bolero-test-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
        return new JailConfig(first, 1000, Path.of("/sys/fs/cgroup"), parent, 64, 1024, 128, dir.resolve("run"));
    }

    /** A machine whose kernel is an ELF file (the stand-in boots nothing), with a small initramfs and root drive. */
    public static VmSpec machine(Path dir, String id, Path elfKernel) throws IOException {
        Path kernel = Files.copy(elfKernel, dir.resolve(id + "-vmlinux"));
        Path initramfs = Files.write(dir.resolve(id + "-initramfs"), new byte[512]);
        Path drive = Files.write(dir.resolve(id + "-base.raw"), new byte[64 * 1024]);
        return new VmSpec(id, dir.resolve(id), 1, 128, new BootAssets(kernel, initramfs, List.of(), KernelFlavour.LEAN), drive,
                List.of(), Duration.ofSeconds(1));
    }

    /** {@code /proc/PID/status} as name → value. */
    public static Map<String, String> status(long pid) throws IOException {
        Map<String, String> status = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            int colon = line.indexOf(':');
            status.put(line.substring(0, colon), line.substring(colon + 1).strip());
        }
        return status;
    }

    /** The cgroup directories a handle's jail records. */
    public static List<Path> cgroups(Map<String, String> handleData) {
        return List.of(handleData.get("jail_cgroups").split(":")).stream().map(Path::of).toList();
    }

    /** Kills (SIGKILL) every process whose command line or root names a path under {@code dir}. */
    public static void killProcessesUnder(Path dir) {
        String prefix = dir.toAbsolutePath() + "/";
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                try {
                    String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                    String root = Files.readSymbolicLink(p.resolve("root")) + "/";
                    if (!cmd.contains(prefix) && !root.startsWith(prefix)) continue;
                    ProcessHandle.of(Long.parseLong(p.getFileName().toString())).ifPresent(h -> {
                        h.destroyForcibly();
                        h.onExit().join();
                    });
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("list /proc: " + e.getMessage(), e);
        }
    }

    /** Removes the test's cgroup parents (empty by then) from every hierarchy. */
    public static void removeCgroupParent(JailConfig config) {
        for (String c : List.of("memory", "cpu", "pids")) {
            try {
                Files.deleteIfExists(config.cgroupRoot().resolve(c).resolve(config.cgroupParent()));
            } catch (IOException e) {
                // still busy: reported by the test's own assertions
            }
        }
    }

    /** Asserts the process runs as {@code uid} with nothing more: no groups, no capabilities, no_new_privs. */
    public static void assertUnprivileged(long pid, int uid) throws IOException {
        Map<String, String> status = status(pid);
        String ids = String.join("\t", List.of("" + uid, "" + uid, "" + uid, "" + uid));
        assertThat(status.get("Uid")).isEqualTo(ids);
        assertThat(status.get("Gid")).isEqualTo(ids);
        assertThat(status.get("Groups")).isEmpty();
        for (String caps : List.of("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")) {
            assertThat(status.get(caps)).as(caps).isEqualTo("0000000000000000");
        }
        assertThat(status.get("NoNewPrivs")).isEqualTo("1");
        assertThat(status.get("NSpid")).as("PID 1 of its own PID namespace").endsWith("\t1");
        for (String ns : List.of("mnt", "pid", "ipc")) {
            assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + ns)))
                    .as(ns + " namespace").isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)));
        }
    }
}
