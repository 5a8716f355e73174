package dev.bolero.runtime.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.KernelFlavour;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.boot.BootAssetsBuilder;
import dev.bolero.runtime.guest.GuestConfig;
import dev.bolero.runtime.guest.GuestEvent;
import dev.bolero.runtime.guest.GuestExec;
import dev.bolero.runtime.guest.GuestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real microVMs on each guest kernel flavour: Bolero's lean kernel (skipped, saying why, until
 * {@code scripts/build-kernel.sh} has built it) and Debian's kernel with its modules (the fallback, and what KVM hosts
 * may choose). Each boots a busybox root drive, runs a workload, runs a command beside it, and exchanges pings with a
 * network namespace of the test over its tap.
 */
class GuestKernelIT {
    @TempDir static Path shared;
    @TempDir Path dir;

    static Path rootDrive;
    private VmProcess vm;
    private String netns;

    @BeforeAll
    static void prepare() throws Exception {
        for (String tool : List.of("qemu-system-x86_64", "qemu-img", "mkfs.ext4", "ip")) {
            assumeTrue(QemuDriverIT.onPath(tool), tool + " is not installed");
        }
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static is not installed (/bin/busybox)");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "no /dev/net/tun for the machine's tap");
        rootDrive = RootDrives.busybox(shared.resolve("rootfs"), shared.resolve("root.ext4"));
    }

    @AfterEach
    void leaveNothing() throws Exception {
        if (vm != null) vm.kill();
        if (netns != null) run("ip", "netns", "delete", netns);
        assertThat(QemuDriverIT.qemuProcessesUnder(dir)).isEmpty();
    }

    @Test
    void theLeanKernelBootsAWorkloadRunsACommandBesideItAndReachesTheNetwork() throws Exception {
        assumeAvailable(KernelFlavour.LEAN);
        BootAssets boot = new BootAssetsBuilder(shared.resolve("data")).flavour(KernelFlavour.LEAN).build();
        assertThat(boot.flavour()).isEqualTo(KernelFlavour.LEAN);

        String modules = bootRunExecAndPing(boot, "lean");
        assertThat(modules).as("everything is built in: no module support at all").isEqualTo("no modules\n");
    }

    @Test
    void debiansKernelWithItsModulesStillBootsTheSameWay() throws Exception {
        assumeAvailable(KernelFlavour.DISTRO);
        BootAssets boot = new BootAssetsBuilder(shared.resolve("data")).flavour(KernelFlavour.DISTRO).build();
        assertThat(boot.flavour()).isEqualTo(KernelFlavour.DISTRO);

        String modules = bootRunExecAndPing(boot, "distro");
        assertThat(modules).as("bolero-init loaded the drivers from the initramfs").contains("virtio_net", "ext4");
    }

    /**
     * Boots {@code boot} with one tap, starts a workload, runs a command beside it and pings both ways between the
     * guest and a network namespace holding the tap; stops the workload with SIGTERM. Returns what the guest says
     * about its loaded modules ({@code /proc/modules}, or "no modules").
     */
    private String bootRunExecAndPing(BootAssets boot, String name) throws Exception {
        String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL);
        String tap = "bgk" + suffix;
        int net = 1 + ThreadLocalRandom.current().nextInt(250);
        String hostIp = "10.213." + net + ".1";
        String guestIp = "10.213." + net + ".2";
        netns = "bolero-gk-" + suffix;
        run("ip", "netns", "add", netns);

        var spec = new VmSpec("gk-" + name, dir.resolve(name), 1, 256, boot, rootDrive,
                List.of(new VmSpec.Tap(tap, "02:42:0a:d5:00:02")), Duration.ofSeconds(2));
        vm = new QemuDriver().start(spec);
        // QEMU holds the tap open; in the test's namespace it is the guest's only peer
        run("ip", "link", "set", tap, "netns", netns);
        run("ip", "-n", netns, "addr", "add", hostIp + "/24", "dev", tap);
        run("ip", "-n", netns, "link", "set", tap, "up");

        try (var session = new GuestSession(vm.openControl())) {
            assertThat(session.next()).isInstanceOf(GuestEvent.Hello.class);
            session.sendConfig(new GuestConfig(List.of("sh", "-c", "echo up; exec sleep 600"), List.of(), "/", "0:0",
                    "gk", "/dev/vda", Optional.of(guestIp + "/24"), Optional.of(hostIp), List.of()));
            assertThat(session.next()).isInstanceOf(GuestEvent.Started.class);
            assertThat(next(session, GuestEvent.Output.class).data()).asString(StandardCharsets.UTF_8).isEqualTo("up\n");

            String pinged = exec(session, 1, "busybox ping -c 1 -W 10 " + hostIp + " >/dev/null && echo reached");
            assertThat(pinged).as("the guest reaches the namespace through its tap").isEqualTo("reached\n");
            assertThat(run("ip", "netns", "exec", netns, "/bin/busybox", "ping", "-c", "1", "-W", "10", guestIp))
                    .as("the namespace reaches the guest").contains("1 packets received");
            String modules = exec(session, 2, "cat /proc/modules 2>/dev/null || echo no modules");

            session.signal(15);
            assertThat(next(session, GuestEvent.Exited.class)).isEqualTo(new GuestEvent.Exited(143));
            session.ack();
            assertThat(vm.exit().get(60, TimeUnit.SECONDS).status()).hasValue(0);
            return modules;
        }
    }

    /** Runs {@code script} beside the workload and returns its stdout, asserting it exits 0. */
    private static String exec(GuestSession session, int id, String script) throws IOException {
        session.exec(id, new GuestExec(List.of("sh", "-c", script), List.of(), Optional.empty(), Optional.empty()));
        session.execInput(id, new byte[0]);
        session.execCredit(id, 1 << 20);
        var out = new ByteArrayOutputStream();
        while (true) {
            GuestEvent e = session.next();
            switch (e) {
                case GuestEvent.ExecOutput o when o.execId() == id -> out.writeBytes(o.data());
                case GuestEvent.ExecExited x when x.execId() == id -> {
                    assertThat(x.status()).as("exit status of %s; output %s", script, out).isZero();
                    return out.toString(StandardCharsets.UTF_8);
                }
                case GuestEvent.ExecFailed f -> throw new AssertionError("exec " + script + " failed: " + f.message());
                default -> { } // ExecStarted, workload output
            }
        }
    }

    private static <T extends GuestEvent> T next(GuestSession session, Class<T> type) throws IOException {
        while (true) {
            GuestEvent e = session.next();
            if (type.isInstance(e)) return type.cast(e);
            if (e instanceof GuestEvent.Failed f) throw new AssertionError("guest failed: " + f.message());
        }
    }

    /** Skips the test, saying why, when this host has no kernel of {@code flavour}. */
    private static void assumeAvailable(KernelFlavour flavour) {
        try {
            new BootAssetsBuilder(shared.resolve("probe")).flavour(flavour).choose();
        } catch (IOException e) {
            assumeTrue(false, e.getMessage());
        }
    }

    /** Runs a host command, failing the test with its output when it fails. */
    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        return out;
    }
}
