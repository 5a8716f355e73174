package dev.bolero.runtime.boot;

import dev.bolero.core.FileTrees;
import dev.bolero.runtime.BootAssets;
import dev.bolero.runtime.KernelFlavour;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds (once) and returns the {@link BootAssets} for the guest kernel.
 *
 * <p>The kernel ({@link #choose()}) is the one given with {@link #kernel(Path)}; else Bolero's lean kernel when
 * {@code scripts/build-kernel.sh} has built it ({@code <lean cache>/current/vmlinux}, see {@link #leanKernelCache});
 * else the newest {@code /boot/vmlinuz-*} that has a {@code /lib/modules/<version>} directory.
 *
 * <p>The assets live in {@code DATA_DIR/boot/<name>-<hash>/}, where the hash covers the kernel image,
 * {@code bolero-init} and the module files; a directory there is complete or absent (it is built under a temporary
 * name and renamed). Concurrent callers, in this JVM or in others sharing the data directory, build it once.
 *
 * <ul>
 *   <li>{@link KernelFlavour#LEAN}: the {@code vmlinux} is copied as it is (it must have a PVH entry note), and the
 *       initramfs holds only {@code bolero-init} as {@code /init}: every driver is built in.
 *   <li>{@link KernelFlavour#DISTRO}: the XZ payload of the {@code vmlinuz} is decompressed to a {@code vmlinux} that
 *       QEMU boots through the PVH entry; when that is not possible the bzImage itself is used and the reason logged.
 *       The initramfs also holds the modules for virtio-mmio, virtio-blk, ext4, virtio-net and virtio-console with
 *       their dependencies, signatures stripped, listed in load order in {@code /etc/bolero/modules}.
 * </ul>
 */
public final class BootAssetsBuilder {
    private static final Logger log = LoggerFactory.getLogger(BootAssetsBuilder.class);
    private static final List<String> ROOT_MODULES =
            List.of("virtio_mmio", "virtio_blk", "ext4", "virtio_net", "virtio_console");
    private static final String INIT_RESOURCE = "/dev/bolero/guest/bolero-init";
    private static final List<String> BASE_ARGS = List.of(
            "console=ttyS0", "quiet", "reboot=t", "panic=-1", "mitigations=off", "8250.nr_uarts=1",
            "tsc=reliable", "init_on_alloc=0", "rdinit=/init");
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();
    /** Where {@code scripts/build-kernel.sh} caches the lean kernel unless {@code BOLERO_KERNEL_CACHE} says otherwise. */
    public static final Path DEFAULT_LEAN_KERNEL_CACHE = Path.of("/var/cache/bolero/kernel");

    private final Path dataDir;
    private Path kernel;
    private KernelFlavour flavour;
    private Path leanKernelCache = Optional.ofNullable(System.getenv("BOLERO_KERNEL_CACHE"))
            .filter(s -> !s.isBlank())
            .map(Path::of)
            .orElse(DEFAULT_LEAN_KERNEL_CACHE);
    private Path bootDir = Path.of("/boot");
    private Path modulesRoot = Path.of("/lib/modules");
    private Path cpuinfo = Path.of("/proc/cpuinfo");

    /** Assets go under {@code dataDir/boot/}. */
    public BootAssetsBuilder(Path dataDir) {
        this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
    }

    /**
     * Boot this kernel image: a distribution kernel when it is named {@code vmlinuz-<version>} (its modules are under
     * {@link #modulesRoot}), else a lean {@code vmlinux} with every driver built in.
     */
    public BootAssetsBuilder kernel(Path image) {
        this.kernel = Objects.requireNonNull(image, "image");
        return this;
    }

    /**
     * Boot the default kernel of this flavour: the built lean kernel (an error when it is not built), or the newest
     * distribution kernel in {@code /boot} even when the lean one is built. Ignored when {@link #kernel(Path)} is set.
     */
    public BootAssetsBuilder flavour(KernelFlavour flavour) {
        this.flavour = Objects.requireNonNull(flavour, "flavour");
        return this;
    }

    /** The directory {@code scripts/build-kernel.sh} caches the lean kernel in (default: {@code BOLERO_KERNEL_CACHE}, else
     * {@link #DEFAULT_LEAN_KERNEL_CACHE}). */
    public BootAssetsBuilder leanKernelCache(Path dir) {
        this.leanKernelCache = Objects.requireNonNull(dir, "dir");
        return this;
    }

    /** Where {@code <version>/modules.dep} and the modules are; default {@code /lib/modules}. */
    public BootAssetsBuilder modulesRoot(Path modulesRoot) {
        this.modulesRoot = Objects.requireNonNull(modulesRoot, "modulesRoot");
        return this;
    }

    /**
     * Returns the cached assets, building them first if needed.
     *
     * @throws IOException naming the failed step when no kernel is found, a module is missing, or writing fails
     */
    public BootAssets build() throws IOException {
        GuestKernel chosen = choose();
        Path image = chosen.image();
        byte[] init = readInit();
        List<Path> modules = switch (chosen.flavour()) {
            case LEAN -> {
                Optional<String> problem = KernelImage.checkPvh(image);
                if (problem.isPresent()) throw new IOException("boot assets: lean kernel " + image + ": " + problem.get());
                yield List.of();
            }
            case DISTRO -> ModuleClosure.load(modulesRoot.resolve(versionOf(image))).resolve(ROOT_MODULES);
        };
        String name = chosen.flavour() == KernelFlavour.LEAN ? "lean" : versionOf(image);
        Path boot = dataDir.resolve("boot");
        Path target = boot.resolve(name + "-" + hash(image, init, modules));
        List<String> args = kernelArgs();
        KernelFlavour kind = chosen.flavour();

        ReentrantLock lock = LOCKS.computeIfAbsent(target, t -> new ReentrantLock());
        lock.lock();
        try {
            Optional<BootAssets> cached = cached(target, args, kind);
            if (cached.isPresent()) return cached.get();
            Files.createDirectories(boot);
            try (FileChannel lockFile = FileChannel.open(boot.resolve(".lock"),
                            StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock ignored = lockFile.lock()) {
                cached = cached(target, args, kind);
                if (cached.isPresent()) return cached.get();
                buildInto(target, chosen, init, modules);
                return cached(target, args, kind).orElseThrow(() -> new IOException("boot assets: " + target + " incomplete"));
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The kernel {@link #build()} boots (see the class comment for the order of preference).
     *
     * @throws IOException when the lean kernel is asked for but not built, or no distribution kernel is found
     */
    public GuestKernel choose() throws IOException {
        if (kernel != null) {
            boolean distro = kernel.getFileName().toString().startsWith("vmlinuz-");
            return new GuestKernel(distro ? KernelFlavour.DISTRO : KernelFlavour.LEAN, kernel);
        }
        Path lean = leanKernelCache.resolve("current").resolve("vmlinux");
        if (flavour == KernelFlavour.LEAN && !Files.isRegularFile(lean)) {
            throw new IOException("boot assets: the lean kernel is not built (no " + lean
                    + "); run scripts/build-kernel.sh");
        }
        if (flavour != KernelFlavour.DISTRO && Files.isRegularFile(lean)) {
            return new GuestKernel(KernelFlavour.LEAN, lean.toRealPath());
        }
        return new GuestKernel(KernelFlavour.DISTRO, newestKernel());
    }

    private void buildInto(Path target, GuestKernel chosen, byte[] init, List<Path> modules) throws IOException {
        long t0 = System.nanoTime();
        Path tmp = Files.createTempDirectory(target.getParent(), ".build-");
        try {
            Optional<String> noPvh = switch (chosen.flavour()) {
                case LEAN -> {
                    Files.copy(chosen.image(), tmp.resolve("vmlinux"));
                    yield Optional.empty();
                }
                case DISTRO -> KernelImage.extractVmlinux(chosen.image(), tmp.resolve("vmlinux"));
            };
            if (noPvh.isPresent()) {
                log.warn("boot assets: booting the compressed bzImage (slower), because {}", noPvh.get());
                Files.copy(chosen.image(), tmp.resolve("bzImage"));
            }
            Initramfs.write(tmp.resolve("initramfs.cpio"), init, modules);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                throw new IOException("boot assets: cannot publish " + target, e);
            }
            log.info("boot assets built dir={} kernel={} flavour={} modules={} pvh={} ms={}", target, chosen.image(),
                    chosen.flavour(), modules.size(), noPvh.isEmpty(), (System.nanoTime() - t0) / 1_000_000);
        } finally {
            FileTrees.delete(tmp);
        }
    }

    private static Optional<BootAssets> cached(Path dir, List<String> args, KernelFlavour flavour) {
        Path initramfs = dir.resolve("initramfs.cpio");
        if (!Files.isRegularFile(initramfs)) return Optional.empty();
        for (String name : List.of("vmlinux", "bzImage")) {
            Path k = dir.resolve(name);
            if (Files.isRegularFile(k)) return Optional.of(new BootAssets(k, initramfs, args, flavour));
        }
        return Optional.empty();
    }

    private Path newestKernel() throws IOException {
        List<Path> candidates = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(bootDir, "vmlinuz-*")) {
            for (Path p : ds) {
                if (Files.isDirectory(modulesRoot.resolve(versionOf(p)))) candidates.add(p);
            }
        }
        return candidates.stream()
                .max(Comparator.comparing(p -> versionOf(p), BootAssetsBuilder::compareVersions))
                .orElseThrow(() -> new IOException(
                        "boot assets: no " + bootDir + "/vmlinuz-<version> with " + modulesRoot + "/<version>"));
    }

    private static String versionOf(Path vmlinuz) {
        String name = vmlinuz.getFileName().toString();
        if (!name.startsWith("vmlinuz-")) {
            throw new IllegalArgumentException("kernel image must be named vmlinuz-<version>: " + vmlinuz);
        }
        return name.substring("vmlinuz-".length());
    }

    /** Orders kernel versions by their numeric parts ({@code 6.10.0} after {@code 6.9.0}). */
    static int compareVersions(String a, String b) {
        String[] x = a.split("[.-]");
        String[] y = b.split("[.-]");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            boolean nx = x[i].matches("\\d{1,9}");
            boolean ny = y[i].matches("\\d{1,9}");
            int c = nx && ny ? Integer.compare(Integer.parseInt(x[i]), Integer.parseInt(y[i])) : x[i].compareTo(y[i]);
            if (c != 0) return c;
        }
        return Integer.compare(x.length, y.length);
    }

    private static byte[] readInit() throws IOException {
        try (InputStream in = BootAssetsBuilder.class.getResourceAsStream(INIT_RESOURCE)) {
            if (in == null) throw new IOException("boot assets: class-path resource " + INIT_RESOURCE + " missing");
            return in.readAllBytes();
        }
    }

    private static String hash(Path vmlinuz, byte[] init, List<Path> modules) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sha.update(Files.readAllBytes(vmlinuz));
        sha.update(init);
        for (Path m : modules) {
            sha.update(m.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update(Files.readAllBytes(m));
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 8);
    }

    /** The kernel arguments, with the host's TSC frequency when it is constant (see RUNTIME-NOTES). */
    List<String> kernelArgs() throws IOException {
        List<String> args = new ArrayList<>(BASE_ARGS);
        HostTsc.khz(Files.readString(cpuinfo)).ifPresentOrElse(
                khz -> args.add("tsc_early_khz=" + khz),
                () -> log.warn("boot assets: host TSC is not constant; guests may hang with ACPI on under TCG"));
        return args;
    }

}
