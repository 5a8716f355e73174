package dev.bolero.runtime.drivers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.VmHandle;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.cloudhypervisor.CloudHypervisorDriver;
import dev.bolero.runtime.firecracker.FirecrackerDriver;
import dev.bolero.runtime.internal.vmm.Jail;
import dev.bolero.runtime.internal.vmm.JailedStandIn;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The jailed launch path of the Firecracker and Cloud Hypervisor drivers, proved from outside with a stand-in VMM.
 * <strong>These are not Firecracker or Cloud Hypervisor runs</strong>: neither binary is on this host (and its KVM
 * cannot run a guest), so the driver is given {@code standin-vmm.c} (compiled static here) as its VMM binary; it
 * serves the driver's API calls with 204 and reports what it may do in its jail. Everything around it is real: the
 * driver's spawn through {@code bolero-jailer}, the uid claimed from the range, the chroot, the mount/PID/IPC
 * namespaces, the dropped capabilities, {@code no_new_privs}, the rlimits and the cgroups on this host's real
 * cgroup hierarchy, and their release. The real binaries run jailed in the end-to-end tests where they exist.
 */
class JailedApiDriversIT {
    @TempDir Path dir;

    private JailConfig config;
    private final List<VmProcess> started = new ArrayList<>();
    private final List<Long> spawned = new ArrayList<>();

    /** A driver under test: its name, its VMM binary's name, and how to make it with a binary and a jail. */
    record Kind(String name, BiFunction<Path, JailConfig, VmmDriver> make) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Kind> kinds() {
        return Stream.of(
                new Kind("firecracker", (bin, jail) -> new FirecrackerDriver(Optional.of(bin), Optional.of(jail))),
                new Kind("cloud-hypervisor",
                        (bin, jail) -> new CloudHypervisorDriver(Optional.of(bin), Optional.of(jail))));
    }

    @BeforeEach
    void setUp() {
        JailedStandIn.assumeHost();
        config = JailedStandIn.config(dir);
    }

    @AfterEach
    void cleanUp() {
        started.forEach(VmProcess::kill);
        for (long pid : spawned) ProcessHandle.of(pid).ifPresent(p -> {
            p.destroyForcibly();
            p.onExit().join();
        });
        JailedStandIn.killProcessesUnder(dir); // a dying agent's VMM, even when the test failed before its pid was read
        if (config != null) {
            new Jail(config).sweep();
            JailedStandIn.removeCgroupParent(config);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void theVmmRunsUnprivilegedInItsJailWithItsSocketsReachableFromOutside(Kind kind) throws Exception {
        Path binary = JailedStandIn.build(dir.resolve("bin"), kind.name());
        Path secret = Files.writeString(dir.resolve("secret.txt"), "not for the VMM");
        VmSpec spec = JailedStandIn.machine(dir, "m1", binary);

        VmProcess vm = kind.make().apply(binary, config).start(spec);
        started.add(vm);
        long pid = vm.handle().pid();
        int uid = Integer.parseInt(vm.handle().data().get("jail_uid"));
        Path jail = spec.workDir().resolve("jail");

        assertThat(uid).isBetween(config.firstUid(), config.firstUid() + config.uidCount() - 1);
        JailedStandIn.assertUnprivileged(pid, uid);
        String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ').strip();
        if (kind.name().equals("firecracker")) {
            assertThat(cmdline).as("Firecracker's seccomp stays on").isEqualTo(binary + " --api-sock /run/api.sock");
        } else {
            assertThat(cmdline).isEqualTo(binary + " --api-socket path=/run/api.sock --seccomp true");
        }
        Path root = Path.of("/proc/" + pid + "/root");
        assertThat(Files.readSymbolicLink(root)).isEqualTo(jail);
        assertThat(root.resolve(secret.toString().substring(1))).as("a file outside the jail").doesNotExist();
        List<String> expected = new ArrayList<>(List.of("run", "dev", "rootfs.raw", "vmlinux", "initramfs",
                binary.getName(0).toString()));
        if (kind.name().equals("cloud-hypervisor")) expected.add("console.log");
        try (var files = Files.list(root)) {
            assertThat(files.map(p -> p.getFileName().toString())).as("only its files; no libraries for a static VMM")
                    .containsExactlyInAnyOrderElementsOf(expected);
        }
        try (var devices = Files.list(root.resolve("dev"))) {
            assertThat(devices.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("null", "zero", "random", "urandom", "kvm");
        }
        Map<String, String> report = report(jail.resolve("run/standin.report"));
        assertThat(report).containsEntry("open_dev_kvm", "ok").containsEntry("write_root_drive", "ok");
        assertThat(report.get("write_kernel")).as("the kernel is not the VMM's to write").isNotEqualTo("ok");
        assertThat(Files.readAllLines(Path.of("/proc/" + pid + "/mountinfo")))
                .as("the kernel, initramfs and executable are bound read-only")
                .anySatisfy(l -> assertThat(l.split(" ")[4] + " " + l.split(" ")[5]).isEqualTo("/vmlinux ro,nosuid,nodev,relatime"))
                .anySatisfy(l -> assertThat(l.split(" ")[4]).isEqualTo("/initramfs"))
                .anySatisfy(l -> assertThat(l.split(" ")[4] + " " + l.split(" ")[5].substring(0, 3)).isEqualTo(binary + " ro,"));
        assertThat(report.get("setuid_0")).isEqualTo("Operation not permitted");
        assertThat(report.get("mount_proc")).isEqualTo("Operation not permitted");
        assertThat(report.get("chroot")).isEqualTo("Operation not permitted");

        Path apiSocket = Path.of(vm.handle().data().get("api_socket"));
        assertThat(apiSocket).as("the agent reaches the API through the jail").isEqualTo(jail.resolve("run/api.sock"));
        assertThat(Path.of(vm.handle().data().get("vsock_socket"))).isEqualTo(jail.resolve("run/vsock.sock"));
        assertThat(Files.getAttribute(apiSocket, "unix:uid")).as("made by the VMM").isEqualTo(uid);
        String requests = Files.readString(jail.resolve("run/requests.log"));
        if (kind.name().equals("firecracker")) {
            assertThat(requests).contains("PUT /boot-source {\"kernel_image_path\":\"/vmlinux\",\"initrd_path\":\"/initramfs\"")
                    .contains("\"path_on_host\":\"/rootfs.raw\"").contains("\"uds_path\":\"/run/vsock.sock\"")
                    .contains("\"log_path\":\"/run/logger.fifo\"").endsWith("PUT /actions {\"action_type\":\"InstanceStart\"}\n");
        } else {
            assertThat(requests).contains("\"kernel\":\"/vmlinux\"").contains("\"path\":\"/rootfs.raw\"")
                    .contains("\"socket\":\"/run/vsock.sock\"").contains("\"file\":\"/console.log\"")
                    .endsWith("PUT /api/v1/vm.boot \n");
        }

        String limits = Files.readString(Path.of("/proc/" + pid + "/limits"));
        assertThat(limits).containsPattern("Max open files +1024 +1024").containsPattern("Max processes +128 +128");
        List<Path> cgroups = JailedStandIn.cgroups(vm.handle().data());
        assertThat(cgroups).hasSize(3);
        for (Path cgroup : cgroups) {
            assertThat(Files.readAllLines(cgroup.resolve("cgroup.procs"))).as("members of " + cgroup).contains("" + pid);
        }
        assertThat(Files.readString(cgroups.get(0).resolve("memory.limit_in_bytes")).strip())
                .isEqualTo("" + ((128L + 64) << 20));
        assertThat(Files.readString(cgroups.get(1).resolve("cpu.cfs_quota_us")).strip()).isEqualTo("100000");
        assertThat(Files.readString(cgroups.get(2).resolve("pids.max")).strip()).isEqualTo("128");

        VmProcess adopted = kind.make().apply(binary, config).recover(vm.handle()).orElseThrow();
        assertThat(adopted.isAlive()).isTrue();
        vm.kill();
        assertThat(vm.exit().get(10, TimeUnit.SECONDS).status()).as("the jailer passes on the kill").hasValue(137);
        assertThat(jail).as("jail directory released").doesNotExist();
        for (Path cgroup : cgroups) assertThat(cgroup).as("cgroup released").doesNotExist();
        assertThat(Path.of(vm.handle().data().get("jail_uid_claim"))).as("uid claim released").doesNotExist();
        assertThat(kind.make().apply(binary, config).recover(vm.handle())).isEmpty();
    }

    /**
     * An agent dies (SIGKILL) after claiming a uid for one machine but before starting its VMM, and while another
     * machine's jailed VMM runs. The VMM and its jail outlive it; a sweep frees the abandoned claim and cgroups but
     * keeps the live VMM's; once the VMM is killed (as the reconciler does with an orphan), the next sweep frees its
     * claim and cgroups too. Cgroups that are not Bolero's are never touched.
     */
    @Test
    void aSweepFreesWhatADeadAgentLeftAndNothingALiveVmmHolds() throws Exception {
        Path binary = JailedStandIn.build(dir.resolve("bin"), "firecracker");
        Path foreign = config.cgroupRoot().resolve("memory").resolve(config.cgroupParent()).resolve("not-bolero");
        Path foreignInRange = config.cgroupRoot().resolve("pids").resolve(config.cgroupParent())
                .resolve("other-" + (config.firstUid() + config.uidCount()));
        Process agent = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), DyingAgent.class.getName(), dir.toString(),
                binary.toString(), Integer.toString(config.firstUid()), config.cgroupParent())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Map<String, String> out;
        try {
            out = read(new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8)));
        } finally {
            agent.destroyForcibly(); // SIGKILL: no cleanup runs
            agent.waitFor();
        }
        long vmm = Long.parseLong(out.get("vmm_pid"));
        long jailer = Long.parseLong(out.get("jailer_pid"));
        spawned.add(vmm);
        spawned.add(jailer);
        Path leakedClaim = Path.of(out.get("leaked_claim"));
        List<Path> leakedCgroups = Stream.of(out.get("leaked_cgroups").split(":")).map(Path::of).toList();
        Path vmmClaim = Path.of(out.get("vmm_claim"));
        List<Path> vmmCgroups = Stream.of(out.get("vmm_cgroups").split(":")).map(Path::of).toList();
        Files.createDirectories(foreign);
        Files.createDirectories(foreignInRange);
        try {
            assertThat(ProcessHandle.of(vmm).map(ProcessHandle::isAlive)).as("the VMM outlives its agent").hasValue(true);
            assertThat(leakedClaim).exists();
            leakedCgroups.forEach(c -> assertThat(c).exists());

            Jail.Swept first = new Jail(config).sweep();

            assertThat(first.uids()).containsExactly(Integer.parseInt(leakedClaim.getFileName().toString()));
            assertThat(first.cgroups()).containsExactlyInAnyOrderElementsOf(leakedCgroups);
            assertThat(leakedClaim).doesNotExist();
            assertThat(vmmClaim).as("a live VMM's uid stays claimed").exists();
            vmmCgroups.forEach(c -> assertThat(c).as("a live VMM's cgroup").exists());

            ProcessHandle.of(jailer).ifPresent(ProcessHandle::destroyForcibly); // the reconciler kills the orphan
            ProcessHandle.of(vmm).ifPresent(p -> {
                p.destroyForcibly();
                p.onExit().join();
            });
            awaitGone(jailer);
            Jail.Swept second = new Jail(config).sweep();

            assertThat(second.uids()).containsExactly(Integer.parseInt(vmmClaim.getFileName().toString()));
            assertThat(second.cgroups()).containsExactlyInAnyOrderElementsOf(vmmCgroups);
            assertThat(foreign).as("not a Bolero name").exists();
            assertThat(foreignInRange).as("a uid outside the range").exists();
            assertThat(new Jail(config).sweep()).isEqualTo(new Jail.Swept(List.of(), List.of()));
        } finally {
            Files.deleteIfExists(foreign);
            Files.deleteIfExists(foreignInRange);
        }
    }

    /** The child JVM: claims a jail it never uses, starts one jailed stand-in, prints both, waits to be killed. */
    static final class DyingAgent {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            JailConfig config = new JailConfig(Integer.parseInt(args[2]), 1000, Path.of("/sys/fs/cgroup"), args[3], 64,
                    1024, 128, dir.resolve("run"));
            Jail.Lease leaked = new Jail(config).prepare("leaked", dir.resolve("leaked/jail"), 1, 128);
            VmProcess vm = new FirecrackerDriver(Optional.of(Path.of(args[1])), Optional.of(config))
                    .start(JailedStandIn.machine(dir, "orphan", Path.of(args[1])));
            long jailer = ProcessHandle.of(vm.handle().pid()).flatMap(ProcessHandle::parent).orElseThrow().pid();
            System.out.print("leaked_claim=" + leaked.claim() + "\nleaked_cgroups="
                    + String.join(":", leaked.cgroups().stream().map(Path::toString).toList())
                    + "\nvmm_pid=" + vm.handle().pid() + "\njailer_pid=" + jailer
                    + "\nvmm_claim=" + vm.handle().data().get("jail_uid_claim")
                    + "\nvmm_cgroups=" + vm.handle().data().get("jail_cgroups") + "\nend\n");
            System.out.flush();
            System.out.close();
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    /** The dying agent's lines up to {@code end} (its log lines, also on stdout, are skipped). */
    private static Map<String, String> read(BufferedReader out) throws IOException {
        Map<String, String> kv = new HashMap<>();
        for (String line; (line = out.readLine()) != null && !line.equals("end"); ) {
            int eq = line.indexOf('=');
            if (eq > 0 && line.substring(0, eq).matches("[a-z_]+")) kv.put(line.substring(0, eq), line.substring(eq + 1));
        }
        assertThat(kv).as("the dying agent printed its jails").containsKeys("vmm_pid", "leaked_claim");
        return kv;
    }

    private static Map<String, String> report(Path file) throws IOException {
        Map<String, String> kv = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            int eq = line.indexOf('=');
            kv.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return kv;
    }

    private static void awaitGone(long pid) throws InterruptedException {
        Instant until = Instant.now().plusSeconds(10);
        while (ProcessHandle.of(pid).isPresent() && Instant.now().isBefore(until)) Thread.sleep(10);
    }
}
