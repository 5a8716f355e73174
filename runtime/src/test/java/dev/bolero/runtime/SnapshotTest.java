package dev.bolero.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A snapshot is usable only while nothing it depends on changed, and never when it is incomplete. */
class SnapshotTest {
    @TempDir
    Path dir;

    private Path work;
    private VmSpec spec;
    private Map<String, String> launch;

    @BeforeEach
    void setUp() throws Exception {
        work = Files.createDirectories(dir.resolve("m1"));
        Path kernel = Files.writeString(dir.resolve("vmlinux"), "kernel");
        Path initramfs = Files.writeString(dir.resolve("initramfs"), "init");
        Path base = Files.writeString(dir.resolve("base.raw"), "drive");
        Files.writeString(work.resolve("root.qcow2"), "overlay");
        spec = new VmSpec("m1", work, 1, 128, new BootAssets(kernel, initramfs, List.of("quiet"), KernelFlavour.LEAN),
                base, List.of(), Duration.ofSeconds(1));
        launch = Snapshot.launch(spec, Path.of("/bin/true"), "vmm 1.0", work.resolve("root.qcow2"));
        Snapshot.recordLaunch(work, launch);
    }

    private void suspend(Map<String, String> dependencies) throws Exception {
        Path snapshot = Snapshot.begin(work);
        Files.writeString(Snapshot.stateFile(snapshot, "memory"), "state");
        Snapshot.seal(work, dependencies);
    }

    @Test
    void a_sealed_snapshot_is_private_and_usable_while_nothing_changed() throws Exception {
        suspend(Map.of("machine config", "a"));

        assertThat(Snapshot.exists(work)).isTrue();
        assertThat(Snapshot.unusableReason(work, launch, Map.of("machine config", "a"))).isEmpty();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(Snapshot.dir(work))))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(Snapshot.dir(work).resolve("memory"))))
                .isEqualTo("rw-------");
    }

    @Test
    void each_change_is_named() throws Exception {
        suspend(Map.of("machine config", "a"));

        assertThat(Snapshot.unusableReason(work, launch, Map.of("machine config", "b")))
                .hasValue("machine config changed (was a, now b)");
        var otherVmm = Snapshot.launch(spec, Path.of("/bin/true"), "vmm 2.0", work.resolve("root.qcow2"));
        assertThat(Snapshot.unusableReason(work, otherVmm, Map.of("machine config", "a")))
                .hasValue("vmm.version changed (was vmm 1.0, now vmm 2.0)");
        Files.setLastModifiedTime(spec.boot().kernel(), FileTime.from(Instant.now().plusSeconds(60)));
        var newKernel = Snapshot.launch(spec, Path.of("/bin/true"), "vmm 1.0", work.resolve("root.qcow2"));
        assertThat(Snapshot.unusableReason(work, newKernel, Map.of("machine config", "a")).orElseThrow())
                .startsWith("kernel changed (was ");
    }

    @Test
    void a_root_drive_written_or_a_state_file_cut_short_since_the_suspend_makes_it_unusable() throws Exception {
        suspend(Map.of());
        Files.writeString(work.resolve("root.qcow2"), "overlay, written after the suspend");
        assertThat(Snapshot.unusableReason(work, launch, Map.of()).orElseThrow())
                .startsWith("root drive changed since the suspend (was ");

        Files.writeString(work.resolve("root.qcow2"), "overlay");
        suspend(Map.of());
        Files.writeString(Snapshot.dir(work).resolve("memory"), "sta");
        assertThat(Snapshot.unusableReason(work, launch, Map.of()))
                .hasValue("state file memory has 3 bytes, the suspend wrote 5");
    }

    @Test
    void an_unsealed_or_discarded_snapshot_does_not_exist() throws Exception {
        Path snapshot = Snapshot.begin(work);
        Files.writeString(Snapshot.stateFile(snapshot, "memory"), "half");
        assertThat(Snapshot.exists(work)).as("a suspend that never finished").isFalse();
        assertThat(Snapshot.unusableReason(work, launch, Map.of())).hasValue("no complete snapshot");

        Snapshot.seal(work, Map.of());
        Snapshot.discard(work);
        assertThat(Files.exists(Snapshot.dir(work))).isFalse();
    }

    @Test
    void sealing_without_any_state_leaves_nothing() throws Exception {
        Snapshot.begin(work);
        assertThatThrownBy(() -> Snapshot.seal(work, Map.of())).isInstanceOf(VmmException.class)
                .hasMessage("seal snapshot in " + work + ": the VMM saved no state");
        assertThat(Files.exists(Snapshot.dir(work))).isFalse();
    }

    @Test
    void a_snapshot_planted_from_a_seed_links_its_state_and_may_differ_only_in_its_taps_names_and_macs()
            throws Exception {
        var sourceSpec = new VmSpec("m1", work, 1, 128, spec.boot(), spec.rootDrive(),
                List.of(new VmSpec.Tap("tap-m1", "52:54:00:00:00:01")), Duration.ofSeconds(1));
        Snapshot.recordLaunch(work, Snapshot.launch(sourceSpec, Path.of("/bin/true"), "vmm 1.0",
                work.resolve("root.qcow2")));
        Path seed = Snapshot.beginSeed(dir.resolve("seed"));
        Files.writeString(Snapshot.stateFile(seed, "memory"), "state");
        Files.writeString(seed.resolve("drive"), "frozen drive");
        Snapshot.sealSeed(work, seed, List.of("memory"));

        Path clone = Files.createDirectories(dir.resolve("m2"));
        Files.writeString(clone.resolve("root.qcow2"), "overlay over the frozen drive");
        Snapshot.plant(seed, clone, clone.resolve("root.qcow2"), Map.of("machine config", "a"));

        assertThat(Snapshot.planted(clone)).isTrue();
        assertThat(Snapshot.planted(work)).isFalse();
        Path state = Snapshot.dir(clone).resolve("memory");
        assertThat(Files.isSameFile(state, seed.resolve("memory"))).as("a hard link").isTrue();
        assertThat(Files.exists(Snapshot.dir(clone).resolve("drive"))).as("only state files").isFalse();
        var cloneSpec = new VmSpec("m2", clone, 1, 128, spec.boot(), spec.rootDrive(),
                List.of(new VmSpec.Tap("tap-m2", "52:54:00:00:00:02")), Duration.ofSeconds(1));
        var cloneLaunch = Snapshot.launch(cloneSpec, Path.of("/bin/true"), "vmm 1.0", clone.resolve("root.qcow2"));
        assertThat(Snapshot.unusableReason(clone, cloneLaunch, Map.of("machine config", "a"))).isEmpty();

        var noTap = Snapshot.launch(new VmSpec("m2", clone, 1, 128, spec.boot(), spec.rootDrive(), List.of(),
                Duration.ofSeconds(1)), Path.of("/bin/true"), "vmm 1.0", clone.resolve("root.qcow2"));
        assertThat(Snapshot.unusableReason(clone, noTap, Map.of("machine config", "a")))
                .hasValue("taps changed (the seed had 1, now 0)");
        var bigger = Snapshot.launch(new VmSpec("m2", clone, 1, 256, spec.boot(), spec.rootDrive(), cloneSpec.taps(),
                Duration.ofSeconds(1)), Path.of("/bin/true"), "vmm 1.0", clone.resolve("root.qcow2"));
        assertThat(Snapshot.unusableReason(clone, bigger, Map.of("machine config", "a")))
                .hasValue("memory mb changed (was 128, now 256)");
        // A resumed source's own snapshot is no clone's: its taps must match exactly.
        suspend(Map.of());
        var otherTap = Snapshot.launch(new VmSpec("m1", work, 1, 128, spec.boot(), spec.rootDrive(), cloneSpec.taps(),
                Duration.ofSeconds(1)), Path.of("/bin/true"), "vmm 1.0", work.resolve("root.qcow2"));
        assertThat(Snapshot.unusableReason(work, otherTap, Map.of()).orElseThrow()).startsWith("taps changed (was ");
    }

    @Test
    void a_seed_without_a_manifest_plants_nothing() throws Exception {
        Path seed = Snapshot.beginSeed(dir.resolve("seed"));
        Path clone = Files.createDirectories(dir.resolve("m2"));
        Files.writeString(clone.resolve("root.qcow2"), "overlay");

        assertThatThrownBy(() -> Snapshot.plant(seed, clone, clone.resolve("root.qcow2"), Map.of()))
                .isInstanceOf(VmmException.class).hasMessage("plant a snapshot from " + seed + ": no complete seed");
        assertThat(Snapshot.exists(clone)).isFalse();
        assertThat(Files.exists(Snapshot.dir(clone))).isFalse();
    }
}
