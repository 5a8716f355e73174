package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.core.Digest;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Formats as a real registry ({@code docker-registry}) serves them: zstd layers written by skopeo, a multi-platform
 * index pushed through the registry API, and images exported by skopeo then imported.
 */
class RegistryFormatsTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static TestRegistry registry;
    private static String app;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void pushImage() throws IOException {
        registry = TestRegistry.start();
        app = TestImages.push(registry, "formats/app:1", ImageSpec.cmd("true").withFile("/srv/marker", "formats\n"));
    }

    @AfterAll
    static void stopRegistry() {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void zstdCompressedLayersArePulledAndUnpacked() throws Exception {
        // skopeo 1.9 reuses blobs the destination already has instead of recompressing: recompress into a fresh
        // OCI layout first, then push that to a new repository
        String zstd = registry.host() + "/formats/zstd:1";
        Path layout = dataDir.resolve("zstd-layout");
        skopeo("copy", "--format", "oci", "--dest-compress-format", "zstd", "docker://" + app, "oci:" + layout + ":zstd");
        skopeo("copy", "oci:" + layout + ":zstd", "docker://" + zstd);
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20);

        PreparedImage image = store.prepare(zstd);

        String manifest = Files.readString(dataDir.resolve("blobs/sha256").resolve(image.digest().hex()));
        assertThat(manifest).contains("application/vnd.oci.image.layer.v1.tar+zstd");
        assertThat(debugfs(image.rootDrive(), "cat /srv/marker")).isEqualTo("formats\n");
    }

    @Test
    void anIndexResolvesToItsLinuxAmd64ImageAndOneWithoutItNamesThePlatformsItHas() throws Exception {
        String manifest = get("/v2/formats/app/manifests/1", Manifests.OCI_MANIFEST);
        Digest amd64 = Sha256.of(manifest.getBytes(StandardCharsets.UTF_8));
        int size = manifest.getBytes(StandardCharsets.UTF_8).length;
        putIndex("multi", List.of(entry(amd64, size, "arm64", "v8"), entry(amd64, size, "amd64", ""), entry(amd64, size, "s390x", "")));
        putIndex("elsewhere", List.of(entry(amd64, size, "arm64", "v8"), entry(amd64, size, "s390x", "")));
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20);

        assertThat(store.prepare(registry.host() + "/formats/app:multi").digest()).isEqualTo(amd64);
        assertThatThrownBy(() -> store.prepare(registry.host() + "/formats/app:elsewhere"))
                .isInstanceOf(OciException.class)
                .hasMessageEndingWith("no linux/amd64 image in the index (it has [linux/arm64/v8, linux/s390x])");
    }

    @Test
    void imagesExportedBySkopeoAsAnOciLayoutAndADockerArchiveImport() throws Exception {
        Path layout = dataDir.resolve("export-oci");
        Path archive = dataDir.resolve("export.tar");
        skopeo("copy", "docker://" + app, "oci:" + layout + ":formats/app:1");
        skopeo("copy", "docker://" + app, "docker-archive:" + archive + ":formats/app:1");
        ImageStore store = new ImageStore(dataDir.resolve("node"), RegistryConfig.defaults(), 8L << 20);

        PreparedImage fromLayout = store.importImage(layout);
        PreparedImage fromArchive = store.importImage(archive);

        assertThat(debugfs(fromLayout.rootDrive(), "cat /srv/marker")).isEqualTo("formats\n");
        assertThat(debugfs(fromArchive.rootDrive(), "cat /srv/marker")).isEqualTo("formats\n");
        assertThat(fromArchive.config().cmd()).containsExactly("true");
        assertThat(store.prepare("formats/app:1").digest()).isEqualTo(fromArchive.digest());
    }

    private static String entry(Digest digest, int size, String architecture, String variant) {
        return "{\"mediaType\":\"" + Manifests.OCI_MANIFEST + "\",\"digest\":\"" + digest + "\",\"size\":" + size
                + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"" + architecture + "\""
                + (variant.isEmpty() ? "" : ",\"variant\":\"" + variant + "\"") + "}}";
    }

    private static void putIndex(String tag, List<String> entries) throws Exception {
        String index = "{\"schemaVersion\":2,\"mediaType\":\"" + Manifests.OCI_INDEX + "\",\"manifests\":[" + String.join(",", entries) + "]}";
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + registry.host() + "/v2/formats/app/manifests/" + tag))
                .header("Content-Type", Manifests.OCI_INDEX).PUT(HttpRequest.BodyPublishers.ofString(index)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    }

    private static String get(String path, String accept) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + registry.host() + path))
                .header("Accept", accept).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return response.body();
    }

    private static void skopeo(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("skopeo", "--insecure-policy"));
        command.add(args[0]);
        command.addAll(List.of("--src-tls-verify=false", "--dest-tls-verify=false"));
        command.addAll(List.of(args).subList(1, args.length));
        TestRegistry.run(command, Map.of());
    }

    private static String debugfs(Path drive, String request) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("/usr/sbin/debugfs", "-R", request, drive.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as("debugfs -R '%s'", request).isZero();
        return out;
    }
}
