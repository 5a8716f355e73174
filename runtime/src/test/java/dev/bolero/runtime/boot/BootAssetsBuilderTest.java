package dev.bolero.runtime.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.KernelFlavour;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootAssetsBuilderTest {

    static boolean hostKernelPresent() {
        try (var s = Files.newDirectoryStream(Path.of("/boot"), "vmlinuz-*")) {
            return s.iterator().hasNext() && Files.isDirectory(Path.of("/lib/modules"));
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void buildsAPvhVmlinuxAndAnInitramfsOnceForConcurrentCallers(@TempDir Path data) throws Exception {
        assumeTrue(hostKernelPresent(), "needs a host kernel in /boot and its modules in /lib/modules");
        List<Future<BootAssets>> results = new ArrayList<>();
        try (var ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 3; i++) {
                results.add(ex.submit((Callable<BootAssets>) () -> distro(data).build()));
            }
        }
        BootAssets assets = results.getFirst().get();
        for (var r : results) assertThat(r.get()).isEqualTo(assets);
        try (var dirs = Files.list(data.resolve("boot"))) {
            assertThat(dirs.filter(Files::isDirectory).toList()).hasSize(1); // built once, no temp left
        }
        assertThat(assets.flavour()).isEqualTo(KernelFlavour.DISTRO);
        assertThat(assets.kernel().getFileName().toString()).isEqualTo("vmlinux");
        assertThat(KernelImage.checkPvh(assets.kernel())).isEmpty();
        assertThat(assets.kernelArgs()).contains("rdinit=/init", "console=ttyS0");

        Map<String, CpioArchiveEntry> entries = new HashMap<>();
        Map<String, byte[]> contents = new HashMap<>();
        readCpio(assets.initramfs(), entries, contents);
        assertThat(entries.get("init").getMode() & 07777).isEqualTo(0755);
        assertThat(entries.get("dev/console").isCharacterDevice()).isTrue();
        assertThat(entries).containsKeys("proc", "sys", "newroot");
        List<String> order = new String(contents.get("etc/bolero/modules"), StandardCharsets.UTF_8).lines().toList();
        assertThat(order).contains("/lib/modules/virtio_mmio.ko", "/lib/modules/ext4.ko", "/lib/modules/crc32c_generic.ko");
        assertThat(order.indexOf("/lib/modules/virtio.ko")).isLessThan(order.indexOf("/lib/modules/virtio_mmio.ko"));
        assertThat(order.indexOf("/lib/modules/virtio_ring.ko")).isLessThan(order.indexOf("/lib/modules/virtio.ko"));
        assertThat(order.indexOf("/lib/modules/crc32c_generic.ko")).isLessThan(order.indexOf("/lib/modules/jbd2.ko"));
        assertThat(order.indexOf("/lib/modules/jbd2.ko")).isLessThan(order.indexOf("/lib/modules/ext4.ko"));
        for (String m : order) {
            byte[] ko = contents.get(m.substring(1));
            assertThat(ko).as(m).isNotNull();
            String tail = new String(ko, Math.max(0, ko.length - 28), Math.min(28, ko.length), StandardCharsets.ISO_8859_1);
            assertThat(tail).as(m).doesNotContain("~Module signature appended~");
        }

        // a second builder finds the cache
        assertThat(distro(data).build()).isEqualTo(assets);

        // the same PVH vmlinux as a lean kernel: booted as it is, with an initramfs of bolero-init alone
        Path leanCache = data.resolve("lean-cache");
        Files.createDirectories(leanCache.resolve("k1"));
        Files.copy(assets.kernel(), leanCache.resolve("k1/vmlinux"));
        Files.createSymbolicLink(leanCache.resolve("current"), Path.of("k1"));
        BootAssets lean = new BootAssetsBuilder(data).leanKernelCache(leanCache).build();
        assertThat(lean.flavour()).isEqualTo(KernelFlavour.LEAN);
        assertThat(lean.kernel().getParent().getFileName().toString()).startsWith("lean-");
        assertThat(Files.mismatch(lean.kernel(), assets.kernel())).isEqualTo(-1);
        Map<String, CpioArchiveEntry> leanEntries = new HashMap<>();
        readCpio(lean.initramfs(), leanEntries, new HashMap<>());
        assertThat(leanEntries.keySet()).containsExactlyInAnyOrder("dev", "proc", "sys", "newroot", "dev/console", "init");
        assertThat(lean.kernelArgs()).isEqualTo(assets.kernelArgs());
    }

    @Test
    void prefersTheLeanKernelWhenBuiltAndNamesWhatIsMissing(@TempDir Path dir) throws IOException {
        Path cache = dir.resolve("cache");
        assertThatThrownBy(() -> new BootAssetsBuilder(dir).leanKernelCache(cache).flavour(KernelFlavour.LEAN).choose())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("lean kernel is not built")
                .hasMessageContaining("scripts/build-kernel.sh");
        Path vmlinux = Files.createDirectories(cache.resolve("abc")).resolve("vmlinux");
        Files.writeString(vmlinux, "not an ELF");
        Files.createSymbolicLink(cache.resolve("current"), Path.of("abc"));
        assertThat(new BootAssetsBuilder(dir).leanKernelCache(cache).choose())
                .isEqualTo(new GuestKernel(KernelFlavour.LEAN, vmlinux.toRealPath()));
        assertThatThrownBy(() -> new BootAssetsBuilder(dir).leanKernelCache(cache).build())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("lean kernel " + vmlinux.toRealPath())
                .hasMessageContaining("not an ELF64");

        // an explicit kernel decides by its name: Debian's vmlinuz-VERSION has modules, anything else is lean
        Path debian = Path.of("/boot/vmlinuz-6.1.0-9-amd64");
        assertThat(new BootAssetsBuilder(dir).leanKernelCache(cache).kernel(debian).choose())
                .isEqualTo(new GuestKernel(KernelFlavour.DISTRO, debian));
        assertThat(new BootAssetsBuilder(dir).kernel(Path.of("/k/vmlinux")).flavour(KernelFlavour.DISTRO).choose())
                .isEqualTo(new GuestKernel(KernelFlavour.LEAN, Path.of("/k/vmlinux")));
    }

    @Test
    void theDistributionFlavourIgnoresABuiltLeanKernel(@TempDir Path dir) throws IOException {
        assumeTrue(hostKernelPresent(), "needs a host kernel in /boot and its modules in /lib/modules");
        Path cache = dir.resolve("cache");
        Files.createDirectories(cache.resolve("abc"));
        Files.writeString(cache.resolve("abc/vmlinux"), "built");
        Files.createSymbolicLink(cache.resolve("current"), Path.of("abc"));
        GuestKernel k = new BootAssetsBuilder(dir).leanKernelCache(cache).flavour(KernelFlavour.DISTRO).choose();
        assertThat(k.flavour()).isEqualTo(KernelFlavour.DISTRO);
        assertThat(k.image().getFileName().toString()).startsWith("vmlinuz-");
    }

    /** A builder of Debian's kernel with modules, whether or not the lean kernel is built on this host. */
    private static BootAssetsBuilder distro(Path data) {
        return new BootAssetsBuilder(data).flavour(KernelFlavour.DISTRO);
    }

    private static void readCpio(Path archive, Map<String, CpioArchiveEntry> entries, Map<String, byte[]> contents)
            throws IOException {
        try (InputStream in = Files.newInputStream(archive);
                var cpio = new CpioArchiveInputStream(in)) {
            CpioArchiveEntry e;
            while ((e = cpio.getNextEntry()) != null) {
                entries.put(e.getName(), e);
                contents.put(e.getName(), cpio.readAllBytes());
            }
        }
    }

    @Test
    void stripsAnAppendedModuleSignature() {
        byte[] body = "\u007fELF-module-body".getBytes(StandardCharsets.ISO_8859_1);
        byte[] sig = new byte[7];
        byte[] info = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 7};
        byte[] marker = "~Module signature appended~\n".getBytes(StandardCharsets.US_ASCII);
        byte[] signed = new byte[body.length + sig.length + info.length + marker.length];
        System.arraycopy(body, 0, signed, 0, body.length);
        System.arraycopy(info, 0, signed, body.length + sig.length, info.length);
        System.arraycopy(marker, 0, signed, body.length + sig.length + info.length, marker.length);
        assertThat(Initramfs.stripSignature(signed)).isEqualTo(body);
        assertThat(Initramfs.stripSignature(body)).isEqualTo(body);
    }

    @Test
    void readsTheTscFrequencyOnlyWhenConstant() {
        String constant = "processor\t: 0\ncpu MHz\t\t: 2596.148\nflags\t\t: fpu tsc constant_tsc nonstop_tsc\n";
        assertThat(HostTsc.khz(constant)).hasValue(2596148);
        assertThat(HostTsc.khz(constant.replace("constant_tsc ", ""))).isEmpty();
    }

    @Test
    void ordersKernelVersionsNumerically() {
        assertThat(BootAssetsBuilder.compareVersions("6.10.0-1-amd64", "6.9.0-5-amd64")).isPositive();
        assertThat(BootAssetsBuilder.compareVersions("6.1.0-56-amd64", "6.1.0-9-amd64")).isPositive();
    }

    @Test
    void resolvesModulesFromModulesDepAndSoftdepAliases(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("modules.dep"), """
                kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/jbd2/jbd2.ko
                kernel/fs/jbd2/jbd2.ko:
                kernel/lib/crc16.ko:
                kernel/crypto/crc32c_generic.ko:
                kernel/arch/x86/crypto/crc32c-intel.ko:
                """);
        Files.writeString(dir.resolve("modules.softdep"), "softdep jbd2 pre: crypto-crc32c\n");
        Files.writeString(dir.resolve("modules.alias"),
                "alias crypto-crc32c crc32c_intel\nalias crypto-crc32c crc32c_generic\n");
        Files.writeString(dir.resolve("modules.builtin"), "kernel/drivers/virtio/virtio.ko\n");
        List<Path> files = ModuleClosure.load(dir).resolve(List.of("virtio", "ext4"));
        assertThat(files.stream().map(p -> dir.relativize(p).toString()).toList()).containsExactly(
                "kernel/crypto/crc32c_generic.ko", "kernel/fs/jbd2/jbd2.ko", "kernel/lib/crc16.ko",
                "kernel/fs/ext4/ext4.ko");
    }
}
