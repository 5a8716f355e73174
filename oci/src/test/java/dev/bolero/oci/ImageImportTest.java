package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Imports without a registry (hand-made OCI layouts and docker save archives, so every field is under the test's
 * control), then the drive, the local tag, delete and garbage collection. Needs mkfs.ext4 and debugfs.
 */
class ImageImportTest {
    private static final Path DEBUGFS = Path.of("/usr/sbin/debugfs");

    @TempDir
    Path temp;

    Path dataDir;
    byte[] layer;
    byte[] config;

    @BeforeEach
    void makeContent() throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(DEBUGFS), "debugfs is not installed (apt-get install e2fsprogs)");
        dataDir = temp.resolve("data");
        layer = LayerUnpackerTest.tar(LayerUnpackerTest.E.dir("etc/"), LayerUnpackerTest.E.file("etc/motd", "imported\n"));
        config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/true\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + Sha256.of(layer) + "\"," + "\"" + Sha256.of("foreign".getBytes()) + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** An OCI layout with one image: our layer and a foreign layer whose blob is (as the spec allows) absent. */
    private Path ociLayout(String refName) throws IOException {
        Path dir = Files.createDirectories(temp.resolve("layout"));
        Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
        Files.write(blobs.resolve(Sha256.of(layer).hex()), layer);
        Files.write(blobs.resolve(Sha256.of(config).hex()), config);
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"" + Manifests.OCI_MANIFEST + "\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":" + config.length
                + ",\"digest\":\"" + Sha256.of(config) + "\"},\"layers\":["
                + "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"size\":" + layer.length + ",\"digest\":\"" + Sha256.of(layer) + "\"},"
                + "{\"mediaType\":\"application/vnd.oci.image.layer.nondistributable.v1.tar\",\"size\":7,\"digest\":\""
                + Sha256.of("foreign".getBytes()) + "\",\"urls\":[\"https://example.invalid/layer\"]}]}";
        byte[] manifestBytes = manifest.getBytes(StandardCharsets.UTF_8);
        Files.write(blobs.resolve(Sha256.of(manifestBytes).hex()), manifestBytes);
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" + Manifests.OCI_MANIFEST
                + "\",\"size\":" + manifestBytes.length + ",\"digest\":\"" + Sha256.of(manifestBytes) + "\","
                + "\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + refName + "\"}}]}");
        return dir;
    }

    @Test
    void anOciLayoutDirectoryImportsSkippingTheForeignLayerAndItsTagResolvesLocally() throws Exception {
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20);

        PreparedImage image = store.importImage(ociLayout("example.invalid/team/tool:2"));

        assertThat(debugfs(image.rootDrive(), "cat /etc/motd")).isEqualTo("imported\n");
        assertThat(image.config().cmd()).containsExactly("/bin/true");
        assertThat(store.list()).singleElement().satisfies(stored -> {
            assertThat(stored.digest()).isEqualTo(image.digest());
            assertThat(stored.imported()).isTrue();
            assertThat(stored.references()).containsExactly("example.invalid/team/tool:2");
        });
        // the registry example.invalid does not exist: the tag and the digest both resolve locally
        assertThat(store.prepare("example.invalid/team/tool:2").digest()).isEqualTo(image.digest());
        assertThat(store.prepare("anything@" + image.digest()).rootDrive()).isEqualTo(image.rootDrive());
    }

    @Test
    void aDockerSaveArchiveImportsWithItsRepoTagsAndLayerSymlinks() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        String configName = Sha256.of(config).hex() + ".json";
        files.put(configName, config);
        files.put("aaaa/layer.tar", layer);
        files.put("manifest.json", ("[{\"Config\":\"" + configName + "\",\"RepoTags\":[\"tool:3\"],"
                + "\"Layers\":[\"bbbb/layer.tar\",\"aaaa/layer.tar\"]}]").getBytes(StandardCharsets.UTF_8));
        Path archive = temp.resolve("saved.tar");
        String twoLayerConfig = new String(config, StandardCharsets.UTF_8).replace(Sha256.of("foreign".getBytes()).toString(), Sha256.of(layer).toString());
        files.put(configName, twoLayerConfig.getBytes(StandardCharsets.UTF_8));
        writeTar(archive, files, Map.of("bbbb/layer.tar", "../aaaa/layer.tar"));
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20);

        PreparedImage image = store.importImage(archive);

        assertThat(debugfs(image.rootDrive(), "cat /etc/motd")).isEqualTo("imported\n");
        assertThat(store.list().getFirst().references()).containsExactly("docker.io/library/tool:3");
        assertThat(store.prepare("tool:3").digest()).isEqualTo(image.digest());
    }

    @Test
    void aLayoutWhoseBlobDoesNotMatchItsNameIsRejectedAndBuildsNothing() throws Exception {
        Path dir = ociLayout("x/y:1");
        Files.write(dir.resolve("blobs/sha256").resolve(Sha256.of(layer).hex()), "tampered".getBytes(StandardCharsets.UTF_8));
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20);

        assertThatThrownBy(() -> store.importImage(dir))
                .isInstanceOf(OciException.class)
                .hasMessageStartingWith("import " + dir + ": blob blobs/sha256/" + Sha256.of(layer).hex() + " failed verification");
        assertThat(store.list()).isEmpty();
    }

    @Test
    void anArchiveWithANameLeadingOutsideIsRejected() throws Exception {
        Path archive = temp.resolve("evil.tar");
        writeTar(archive, Map.of("manifest.json", "[]".getBytes(StandardCharsets.UTF_8), "../../escape", new byte[1]), Map.of());

        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).importImage(archive))
                .hasMessageContaining("'../../escape' leads out of the image archive");
        assertThat(temp.getParent().resolve("escape")).doesNotExist();
    }

    @Test
    void deletingAnImageRemovesItsDriveAndBlobsAndGcSweepsLeftovers() throws Exception {
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20);
        PreparedImage image = store.importImage(ociLayout("x/y:1"));
        Path stale = Files.writeString(dataDir.resolve("blobs/sha256/.tmp-0123456789ab-1"), "half a blob");
        Files.createDirectories(dataDir.resolve("tmp/unpack-stale"));

        GcReport gc = store.collectGarbage();

        assertThat(gc.temporaries()).isEqualTo(2);
        assertThat(stale).doesNotExist();
        assertThat(image.rootDrive()).exists();
        assertThat(store.delete(image.digest())).isTrue();
        assertThat(image.rootDrive()).doesNotExist();
        assertThat(store.list()).isEmpty();
        try (Stream<Path> blobs = Files.list(dataDir.resolve("blobs/sha256"))) {
            assertThat(blobs).isEmpty();
        }
        assertThat(store.delete(image.digest())).isFalse();
    }

    private static void writeTar(Path archive, Map<String, byte[]> files, Map<String, String> symlinks) throws IOException {
        try (OutputStream file = Files.newOutputStream(archive); TarArchiveOutputStream out = new TarArchiveOutputStream(file)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var f : files.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(f.getKey(), true);
                entry.setSize(f.getValue().length);
                out.putArchiveEntry(entry);
                out.write(f.getValue());
                out.closeArchiveEntry();
            }
            for (var link : symlinks.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(link.getKey(), org.apache.commons.compress.archivers.tar.TarConstants.LF_SYMLINK, true);
                entry.setLinkName(link.getValue());
                out.putArchiveEntry(entry);
                out.closeArchiveEntry();
            }
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
