package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.core.Digest;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.SmallDisk;
import dev.bolero.oci.testing.StallingProxy;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The whole path against Debian's docker-registry: build with build-image.sh, push, prepare, read the ext4 back. */
class ImageStoreRegistryTest {
    private static final Path DEBUGFS = Path.of("/usr/sbin/debugfs");
    private static TestRegistry registry;
    private static String app;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void pushImage() throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(DEBUGFS), "debugfs is not installed (apt-get install e2fsprogs)");
        registry = TestRegistry.start();
        app = TestImages.push(registry, "bolero/app:1", ImageSpec.cmd("echo", "hello")
                .withEntrypoint("/bin/sh", "-c")
                .withEnv("GREETING=hi", "PATH=/bin:/usr/bin")
                .withWorkdir("/srv")
                .withUser("app")
                .withFile("/srv/hello.txt", "hello from layer two\n"));
    }

    @AfterAll
    static void stopRegistry() {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void preparesAnImageIntoAnExt4DriveWithItsFilesAndConfig() throws Exception {
        PreparedImage image = new ImageStore(dataDir, RegistryConfig.defaults()).prepare(app);

        assertThat(image.config()).isEqualTo(new ImageConfig(List.of("/bin/sh", "-c"), List.of("echo", "hello"),
                List.of("GREETING=hi", "PATH=/bin:/usr/bin"), "/srv", "app"));
        assertThat(image.rootDrive()).isEqualTo(dataDir.resolve("images").resolve(image.digest().hex()).resolve("rootfs.ext4"));
        assertThat(image.rootDriveBytes()).isEqualTo(Files.size(image.rootDrive())).isGreaterThan(ImageStore.DEFAULT_FREE_BYTES);
        assertThat(debugfs(image.rootDrive(), "cat /etc/passwd")).contains("root:x:0:0:", "app:x:1000:1000:", "nobody:x:65534:65534:");
        assertThat(debugfs(image.rootDrive(), "cat /srv/hello.txt")).isEqualTo("hello from layer two\n");
        assertThat(debugfs(image.rootDrive(), "stat /bin/sh")).contains("Type: symlink").contains("Fast link dest: \"/bin/busybox\"");
        assertThat(debugfs(image.rootDrive(), "stat /tmp")).contains("Mode:  01777");
        assertThat(debugfs(image.rootDrive(), "stat /home/app")).containsPattern("User:\\s+1000\\s+Group:\\s+1000");
        assertThat(debugfs(image.rootDrive(), "stat /")).containsPattern("User:\\s+0\\s+Group:\\s+0");
        try (Stream<Path> entries = Files.list(dataDir.resolve("images"))) {
            assertThat(entries).as("leftovers in images/").containsExactly(image.rootDrive().getParent());
        }
    }

    @Test
    void aSecondPrepareReusesTheDrive() throws Exception {
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults());
        PreparedImage first = store.prepare(app);
        Object inode = Files.getAttribute(first.rootDrive(), "unix:ino");
        var modified = Files.getLastModifiedTime(first.rootDrive());

        PreparedImage second = new ImageStore(dataDir, RegistryConfig.defaults()).prepare(app);

        assertThat(second).isEqualTo(first);
        assertThat(Files.getAttribute(second.rootDrive(), "unix:ino")).isEqualTo(inode);
        assertThat(Files.getLastModifiedTime(second.rootDrive())).isEqualTo(modified);
    }

    @Test
    void concurrentPreparesBuildOneDrive() throws Exception {
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults());
        List<PreparedImage> results = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<PreparedImage>> futures = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                futures.add(executor.submit(() -> store.prepare(app)));
            }
            for (Future<PreparedImage> future : futures) {
                results.add(future.get());
            }
        }
        assertThat(Set.copyOf(results)).hasSize(1);
        try (Stream<Path> images = Files.list(dataDir.resolve("images"))) {
            assertThat(images).containsExactly(results.getFirst().rootDrive().getParent());
        }
    }

    @Test
    void preparesByDigestAndThenWithoutTheRegistry() throws Exception {
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults());
        Digest digest = store.prepare(app).digest();
        String byDigest = registry.host() + "/bolero/app@" + digest;

        PreparedImage pinned = store.prepare(byDigest);

        assertThat(pinned.digest()).isEqualTo(digest);
        assertThat(pinned.reference().digest()).contains(digest);
    }

    @Test
    void aRegistryServingADamagedOrTruncatedLayerIsRefusedAndNothingIsCached() throws Exception {
        try (TestRegistry damaged = TestRegistry.start()) {
            String ref = TestImages.push(damaged, "bolero/damaged:1",
                    ImageSpec.cmd("true").withFile("/data", "x".repeat(4096)));
            Path probe = Files.createDirectories(dataDir.resolve("probe"));
            String manifest = new ImageStore(probe, RegistryConfig.defaults()).prepare(ref).digest().hex();
            String layerHex = largestLayer(damaged, manifest);
            Path layer = damaged.blobFile(layerHex);
            byte[] original = Files.readAllBytes(layer);

            byte[] flipped = original.clone();
            flipped[flipped.length / 2] ^= 0x01;
            Files.write(layer, flipped);
            Path first = Files.createDirectories(dataDir.resolve("flipped"));
            assertThatThrownBy(() -> new ImageStore(first, RegistryConfig.defaults()).prepare(ref))
                    .isInstanceOf(OciException.class)
                    .hasMessageStartingWith("pull " + ref + ": ");
            assertNotCached(first, layerHex);

            Files.write(layer, java.util.Arrays.copyOf(original, original.length / 2));
            Path second = Files.createDirectories(dataDir.resolve("truncated"));
            assertThatThrownBy(() -> new ImageStore(second, RegistryConfig.defaults()).prepare(ref))
                    .isInstanceOf(OciException.class)
                    .hasMessageStartingWith("pull " + ref + ": ");
            assertNotCached(second, layerHex);

            Files.write(layer, original);
            assertThat(new ImageStore(second, RegistryConfig.defaults()).prepare(ref).rootDrive()).exists();
        }
    }

    /** The hex digest of the biggest layer of manifest {@code manifestHex}, read from the registry's own storage. */
    private static String largestLayer(TestRegistry r, String manifestHex) throws IOException {
        var manifest = tools.jackson.databind.json.JsonMapper.builder().build()
                .readTree(Files.readString(r.blobFile(manifestHex)));
        String largest = null;
        long size = -1;
        for (var l : manifest.path("layers")) {
            if (l.path("size").asLong() > size) {
                size = l.path("size").asLong();
                largest = l.path("digest").asString().substring("sha256:".length());
            }
        }
        return largest;
    }

    /** A refused pull leaves neither the bad layer in the blob store nor a drive. */
    private static void assertNotCached(Path dataDir, String layerHex) throws IOException {
        try (Stream<Path> files = Files.walk(dataDir)) {
            assertThat(files.filter(Files::isRegularFile).map(Path::toString).toList())
                    .as("files left in %s by a refused pull", dataDir)
                    .noneMatch(f -> f.contains(layerHex))
                    .noneMatch(f -> f.endsWith("rootfs.ext4"));
        }
    }

    @Test
    @Timeout(120) // without a per-read timeout the pull would wait for the stalled blob forever
    void aRegistryThatStallsMidBlobFailsThePullAfterTheReadTimeoutAndLeavesNothing() throws Exception {
        String manifest = new ImageStore(Files.createDirectories(dataDir.resolve("probe")), RegistryConfig.defaults()).prepare(app).digest().hex();
        String layerHex = largestLayer(registry, manifest);
        try (StallingProxy proxy = StallingProxy.start(registry.host(), layerHex, 64 * 1024)) {
            String reference = proxy.host() + "/bolero/app:1";
            Path stalled = Files.createDirectories(dataDir.resolve("stalled"));
            RegistryConfig impatient = RegistryConfig.defaults().withReadTimeout(Duration.ofSeconds(2));

            assertThatThrownBy(() -> new ImageStore(stalled, impatient).prepare(reference))
                    .isInstanceOf(OciException.class)
                    .hasMessage("pull " + reference + ": registry " + proxy.host() + " sent no data for 2 s while blob sha256:" + layerHex
                            + " was fetched");
            assertThat(proxy.stalledAfter()).as("the blob's response stalled part way").hasValue(64 * 1024);
            assertThat(Files.size(registry.blobFile(layerHex))).as("the blob is larger than what passed").isGreaterThan(64 * 1024);
            assertNotCached(stalled, layerHex);
            assertNothingHalfBuilt(stalled);
        }
    }

    @Test
    void aDiskThatFillsDuringAPullFailsItSayingTheDiskIsFullAndLeavesNothingHalfWritten() throws Exception {
        try (SmallDisk disk = SmallDisk.mount(256 * 1024)) {
            assertThatThrownBy(() -> new ImageStore(disk.path(), RegistryConfig.defaults()).prepare(app))
                    .isInstanceOf(OciException.class)
                    .hasMessageStartingWith("pull " + app + ": the disk holding " + disk.path() + " is full (No space left on device): ");
            assertNothingHalfBuilt(disk.path());

            disk.resize(64L << 20); // space freed: the same store pulls the image
            assertThat(new ImageStore(disk.path(), RegistryConfig.defaults()).prepare(app).rootDrive()).exists();
        }
    }

    @Test
    void aDiskThatFillsDuringADriveBuildFailsItSayingTheDiskIsFullAndLeavesNoPartialDrive() throws Exception {
        Path probe = Files.createDirectories(dataDir.resolve("probe"));
        PreparedImage built = new ImageStore(probe, RegistryConfig.defaults()).prepare(app);
        long blobBytes = treeBytes(probe.resolve("blobs"));
        long driveBytes = allocatedBytes(built.rootDrive());
        // the blobs fit with room for half the drive: only the drive build runs out of space
        try (SmallDisk disk = SmallDisk.mount(blobBytes + driveBytes / 2)) {
            copyTree(probe.resolve("blobs"), disk.path().resolve("blobs"));
            List<Path> blobs = files(disk.path().resolve("blobs"));

            assertThatThrownBy(() -> new ImageStore(disk.path(), RegistryConfig.defaults()).prepare(app))
                    .isInstanceOf(OciException.class)
                    .hasMessageStartingWith("pull " + app + ": the disk holding " + disk.path() + " is full (No space left on device): ");
            assertNothingHalfBuilt(disk.path());
            assertThat(files(disk.path().resolve("blobs"))).as("the verified blobs are kept").containsExactlyInAnyOrderElementsOf(blobs);

            disk.resize(blobBytes + 2 * driveBytes + (4L << 20));
            assertThat(new ImageStore(disk.path(), RegistryConfig.defaults()).prepare(app).digest()).isEqualTo(built.digest());
        }
    }

    /** No temporaries (blob downloads, drive staging, metadata), no drive, no image directory, nothing on its way out. */
    private static void assertNothingHalfBuilt(Path dataDir) throws IOException {
        assertThat(files(dataDir)).as("files in %s after a failed pull", dataDir)
                .noneMatch(f -> f.toString().contains(".tmp"))
                .noneMatch(f -> f.getFileName().toString().equals("rootfs.ext4"));
        for (String dir : List.of("images", "tmp")) {
            if (Files.isDirectory(dataDir.resolve(dir))) {
                try (Stream<Path> entries = Files.list(dataDir.resolve(dir))) {
                    assertThat(entries).as("leftovers in %s/", dir).isEmpty();
                }
            }
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    /** The bytes a (sparse) file's blocks take on disk, as {@code stat} counts them. */
    private static long allocatedBytes(Path file) throws IOException, InterruptedException {
        Process stat = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).start();
        String[] out = new String(stat.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().split(" ");
        assertThat(stat.waitFor()).as("stat %s", file).isZero();
        return Long.parseLong(out[0]) * Long.parseLong(out[1]);
    }

    private static long treeBytes(Path dir) throws IOException {
        long bytes = 0;
        for (Path file : files(dir)) {
            bytes += Files.size(file);
        }
        return bytes;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path path : paths.toList()) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(path, target);
                }
            }
        }
    }

    @Test
    void aMissingTagIsReportedAsManifestUnknown() {
        String missing = registry.host() + "/bolero/app:missing";
        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).prepare(missing))
                .isInstanceOf(OciException.class)
                .hasMessage("pull " + missing + ": manifest unknown");
    }

    @Test
    void aMissingRepositoryIsReportedWithTheRegistrysMessage() {
        // distribution 2.8 answers MANIFEST_UNKNOWN for a repository it has never seen
        String missing = registry.host() + "/bolero/nothing-here:1";
        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).prepare(missing))
                .isInstanceOf(OciException.class)
                .hasMessage("pull " + missing + ": manifest unknown");
    }

    @Test
    void aRegistryThatIsDownIsReportedAsUnreachable() throws Exception {
        String host;
        try (TestRegistry stopped = TestRegistry.start()) {
            host = stopped.host();
        }
        String reference = host + "/x:1";
        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).prepare(reference))
                .isInstanceOf(OciException.class)
                .hasMessage("pull " + reference + ": registry " + host + " unreachable (Connection refused)");
    }

    @Test
    void basicAuthenticationIsUsedWhenTheRegistryAsksForIt() throws Exception {
        try (TestRegistry secured = TestRegistry.startWithBasicAuth("bolero", "s3cret")) {
            String reference = TestImages.push(secured, "private/app:1", ImageSpec.cmd("true"));

            assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).prepare(reference))
                    .hasMessage("pull " + reference + ": unauthorized: registry " + secured.host()
                            + " requires credentials and none are configured");
            RegistryConfig wrong = new RegistryConfig(Set.of(), Map.of(secured.host(), new Credentials("bolero", "wrong")));
            assertThatThrownBy(() -> new ImageStore(dataDir, wrong).prepare(reference))
                    .hasMessageStartingWith("pull " + reference + ": unauthorized");

            RegistryConfig right = new RegistryConfig(Set.of(), Map.of(secured.host(), new Credentials("bolero", "s3cret")));
            PreparedImage image = new ImageStore(dataDir, right).prepare(reference);
            assertThat(image.config().cmd()).containsExactly("true");
        }
    }

    @Test
    void bearerTokensFromTheRegistrysTokenServiceAreFetchedWithTheConfiguredCredentials() throws Exception {
        try (TestRegistry secured = TestRegistry.startWithTokenAuth("bolero", "s3cret")) {
            String reference = TestImages.push(secured, "private/app:1", ImageSpec.cmd("true"));
            assertThat(secured.issuedTokens()).isNotEmpty().allMatch(t -> t.startsWith("bolero repository:private/app:"));

            assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).prepare(reference))
                    .isInstanceOf(OciException.class)
                    .hasMessage("pull " + reference + ": unauthorized: authentication required for manifest 1");
            assertThat(secured.issuedTokens()).last().isEqualTo("repository:private/app:pull");

            RegistryConfig wrong = new RegistryConfig(Set.of(), Map.of(secured.host(), new Credentials("bolero", "wrong")));
            assertThatThrownBy(() -> new ImageStore(dataDir, wrong).prepare(reference))
                    .isInstanceOf(OciException.class)
                    .hasMessage("pull " + reference + ": unauthorized: token service " + URI.create(secured.tokenRealm()).getAuthority()
                            + " answered HTTP 401 (invalid username or password)");

            int before = secured.issuedTokens().size();
            RegistryConfig right = new RegistryConfig(Set.of(), Map.of(secured.host(), new Credentials("bolero", "s3cret")));
            PreparedImage image = new ImageStore(dataDir, right).prepare(reference);
            assertThat(image.config().cmd()).containsExactly("true");
            assertThat(secured.issuedTokens().subList(before, secured.issuedTokens().size()))
                    .containsExactly("bolero repository:private/app:pull");
        }
    }

    private static String debugfs(Path drive, String request) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(DEBUGFS.toString(), "-R", request, drive.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as("debugfs -R '%s'", request).isZero();
        return out;
    }
}
