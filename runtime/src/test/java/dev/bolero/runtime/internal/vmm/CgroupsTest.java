package dev.bolero.runtime.internal.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cgroup file layout on v1 and v2, on a directory tree shaped like each (the kernel's own files are checked by
 * the jail tests against the real hierarchy of this host).
 */
class CgroupsTest {
    @TempDir Path root;

    @Test
    void v1PutsEachLimitInItsControllersHierarchy() throws Exception {
        for (String c : List.of("memory", "cpu", "pids")) Files.createDirectories(root.resolve(c));
        Cgroups cgroups = Cgroups.at(root);
        assertThat(cgroups.unified()).isFalse();

        List<Path> dirs = cgroups.create("bolero", "m1-200001", new Cgroups.Limits(512L << 20, 2, 300));

        assertThat(dirs).containsExactly(root.resolve("memory/bolero/m1-200001"), root.resolve("cpu/bolero/m1-200001"),
                root.resolve("pids/bolero/m1-200001"));
        assertThat(Files.readString(dirs.get(0).resolve("memory.limit_in_bytes"))).isEqualTo("536870912");
        assertThat(Files.readString(dirs.get(1).resolve("cpu.cfs_period_us"))).isEqualTo("100000");
        assertThat(Files.readString(dirs.get(1).resolve("cpu.cfs_quota_us"))).isEqualTo("200000");
        assertThat(Files.readString(dirs.get(2).resolve("pids.max"))).isEqualTo("300");
    }

    @Test
    void v2EnablesTheControllersDownTheTreeAndWritesOneDirectory() throws Exception {
        Files.writeString(root.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
        Files.writeString(root.resolve("cgroup.subtree_control"), "memory\n");
        Path parent = Files.createDirectories(root.resolve("bolero"));
        Files.writeString(parent.resolve("cgroup.subtree_control"), "");
        Cgroups cgroups = Cgroups.at(root);
        assertThat(cgroups.unified()).isTrue();

        Path dir = cgroups.create("bolero", "m1-200002", new Cgroups.Limits(1L << 30, 3, 64)).getFirst();

        assertThat(dir).isEqualTo(parent.resolve("m1-200002"));
        assertThat(Files.readString(root.resolve("cgroup.subtree_control"))).isEqualTo("+cpu +pids");
        assertThat(Files.readString(parent.resolve("cgroup.subtree_control"))).isEqualTo("+memory +cpu +pids");
        assertThat(Files.readString(dir.resolve("memory.max"))).isEqualTo("1073741824");
        assertThat(Files.readString(dir.resolve("cpu.max"))).isEqualTo("300000 100000");
        assertThat(Files.readString(dir.resolve("pids.max"))).isEqualTo("64");
    }

    @Test
    void aHostWithoutCgroupsIsReportedByName() {
        assertThatThrownBy(() -> Cgroups.at(root)).isInstanceOf(VmmException.class)
                .hasMessageContaining("neither cgroup v2").hasMessageContaining(root.toString());
    }

    @Test
    void removingMissingCgroupsIsFine() throws IOException {
        assertThat(Cgroups.remove(List.of(root.resolve("absent")))).isEmpty();
    }
}
