package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.core.Digest;
import com.github.luben.zstd.ZstdOutputStream;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol paths docker-registry cannot show: the exact token request of a bearer challenge, blob redirects to
 * another host, multi-platform indexes, and hostile or corrupt content served by a registry. The registry here is a
 * small HTTP server; the unpacking and mkfs.ext4 are real. (The bearer flow against the real docker-registry, with
 * signed tokens, is in {@link ImageStoreRegistryTest}.)
 */
class FakeRegistryTest {
    private static final String CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";

    @TempDir
    Path dataDir;

    private HttpServer registry;
    private HttpServer storage;
    private final Map<String, byte[]> content = new ConcurrentHashMap<>();
    private final Map<String, String> types = new ConcurrentHashMap<>();
    private final List<String> tokenRequests = new CopyOnWriteArrayList<>();
    private final List<String> storageAuthorization = new CopyOnWriteArrayList<>();
    /** Blobs whose download blocks until their latch is released, and what the server saw requested. */
    private final Map<String, CountDownLatch> held = new ConcurrentHashMap<>();
    private final List<String> requested = new CopyOnWriteArrayList<>();
    /** The token the registry accepts is {@code tok-GENERATION}; serving the manifest {@link #expireTokenAfter} expires it. */
    private final AtomicInteger tokenGeneration = new AtomicInteger(1);
    private volatile String expireTokenAfter = "";
    private final List<String> refused = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startServers() throws IOException {
        storage = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        storage.createContext("/", exchange -> {
            storageAuthorization.add(exchange.getRequestHeaders().getFirst("Authorization") + "");
            String key = exchange.getRequestURI().getPath().substring(1);
            requested.add(key);
            CountDownLatch latch = held.get(key);
            if (latch != null) {
                try {
                    latch.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] body = content.get(key);
            respond(exchange, body == null ? 404 : 200, body == null ? new byte[0] : body, "application/octet-stream");
        });
        storage.setExecutor(Executors.newCachedThreadPool());
        storage.start();
        registry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        registry.createContext("/token", exchange -> {
            tokenRequests.add(exchange.getRequestURI().getRawQuery());
            respond(exchange, 200, ("{\"token\": \"tok-" + tokenGeneration.get() + "\", \"expires_in\": 300}").getBytes(StandardCharsets.UTF_8),
                    "application/json");
        });
        registry.createContext("/v2/", this::serveRegistry);
        registry.start();
    }

    @AfterEach
    void stopServers() {
        held.values().forEach(CountDownLatch::countDown);
        registry.stop(0);
        storage.stop(0);
    }

    private String host() {
        return "127.0.0.1:" + registry.getAddress().getPort();
    }

    private void serveRegistry(HttpExchange exchange) throws IOException {
        if (!("Bearer tok-" + tokenGeneration.get()).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            refused.add(exchange.getRequestURI().getPath());
            exchange.getResponseHeaders().add("WWW-Authenticate",
                    "Bearer realm=\"http://" + host() + "/token\",service=\"fake\",scope=\"repository:team/app:pull\"");
            respond(exchange, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}"
                    .getBytes(StandardCharsets.UTF_8), "application/json");
            return;
        }
        String path = exchange.getRequestURI().getPath();
        String key = path.substring(path.lastIndexOf('/') + 1);
        if (path.contains("/blobs/") && content.containsKey(key)) {
            exchange.getResponseHeaders().add("Location", "http://127.0.0.1:" + storage.getAddress().getPort() + "/" + key);
            respond(exchange, 307, new byte[0], "text/plain");
        } else if (path.contains("/manifests/") && content.containsKey(key)) {
            respond(exchange, 200, content.get(key), types.get(key));
            if (key.equals(expireTokenAfter)) {
                tokenGeneration.incrementAndGet();
            }
        } else {
            respond(exchange, 404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}"
                    .getBytes(StandardCharsets.UTF_8), "application/json");
        }
    }

    private static void respond(HttpExchange exchange, int status, byte[] body, String type) throws IOException {
        exchange.getResponseHeaders().add("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (var out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** Stores a blob under its digest and returns its descriptor JSON. */
    private String blob(String mediaType, byte[] bytes) {
        Digest digest = Sha256.of(bytes);
        content.put(digest.toString(), bytes);
        return "{\"mediaType\": \"" + mediaType + "\", \"digest\": \"" + digest + "\", \"size\": " + bytes.length + "}";
    }

    /** Publishes an image with these uncompressed layer tars (stored compressed as given) under {@code tag}. */
    private Digest publish(String tag, List<byte[]> tars, List<byte[]> stored) {
        return publish(tag, tars, stored, "{\"Cmd\": [\"/hello\"]}");
    }

    private Digest publish(String tag, List<byte[]> tars, List<byte[]> stored, String runConfig) {
        StringBuilder diffIds = new StringBuilder();
        StringBuilder layers = new StringBuilder();
        for (int i = 0; i < tars.size(); i++) {
            diffIds.append(i == 0 ? "" : ",").append('"').append(Sha256.of(tars.get(i))).append('"');
            layers.append(i == 0 ? "" : ",").append(blob("application/vnd.oci.image.layer.v1.tar", stored.get(i)));
        }
        String config = blob(CONFIG_TYPE, ("{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": " + runConfig + ","
                + " \"rootfs\": {\"type\": \"layers\", \"diff_ids\": [" + diffIds + "]}}").getBytes(StandardCharsets.UTF_8));
        byte[] manifest = ("{\"schemaVersion\": 2, \"mediaType\": \"" + Manifests.OCI_MANIFEST + "\", \"config\": " + config
                + ", \"layers\": [" + layers + "]}").getBytes(StandardCharsets.UTF_8);
        Digest digest = Sha256.of(manifest);
        content.put(digest.toString(), manifest);
        types.put(digest.toString(), Manifests.OCI_MANIFEST);
        String arm = "sha256:" + "b".repeat(64);
        byte[] index = ManifestsTest.index(Manifests.OCI_INDEX, ManifestsTest.entry(arm, "linux", "arm64", "v8"),
                ManifestsTest.entry(digest.toString(), "linux", "amd64", "")).getBytes(StandardCharsets.UTF_8);
        content.put(tag, index);
        types.put(tag, Manifests.OCI_INDEX);
        return digest;
    }

    private static byte[] gzip(byte[] tar) throws IOException {
        return LayerUnpackerTest.compress(tar, GZIPOutputStream::new);
    }

    @Test
    void pullsAMultiPlatformImageWithABearerTokenFetchedOnceAndNeverSentToBlobStorage() throws Exception {
        byte[] base = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("hello", "from layer one"), LayerUnpackerTest.E.file("gone", "x"));
        byte[] top = LayerUnpackerTest.tar(LayerUnpackerTest.E.file(".wh.gone", ""), LayerUnpackerTest.E.file("etc/motd", "two"));
        Digest digest = publish("1", List.of(base, top), List.of(gzip(base), LayerUnpackerTest.compress(top, ZstdOutputStream::new)));

        PreparedImage image = new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20).prepare(host() + "/team/app:1");

        assertThat(image.digest()).isEqualTo(digest);
        assertThat(image.config().cmd()).containsExactly("/hello");
        assertThat(tokenRequests).containsExactly("service=fake&scope=repository%3Ateam%2Fapp%3Apull");
        assertThat(storageAuthorization).hasSize(3).allMatch("null"::equals);
        assertThat(image.rootDriveBytes()).isGreaterThan(8L << 20).isLessThan(64L << 20);
    }

    @Test
    void aTokenThatExpiresMidPullIsRenewedAndThePullContinues() throws Exception {
        byte[] base = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("hello", "from layer one"));
        byte[] top = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("etc/motd", "two"));
        Digest digest = publish("1", List.of(base, top), List.of(gzip(base), gzip(top)));
        expireTokenAfter = digest.toString(); // the token dies once the image manifest is served: config and layers get 401

        PreparedImage image = new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20).prepare(host() + "/team/app:1");

        assertThat(image.digest()).isEqualTo(digest);
        assertThat(refused).as("requests refused with the expired token").anyMatch(p -> p.contains("/blobs/"));
        assertThat(tokenGeneration).hasValue(2);
        assertThat(tokenRequests).hasSizeBetween(2, 1 + 3); // the first token, then one renewal per refused request at most
    }

    @Test
    void aTokenRefusedRightAfterItsRenewalFailsThePullInsteadOfLooping() throws Exception {
        byte[] tar = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("hello", "world"));
        publish("1", List.of(tar), List.of(gzip(tar)));
        String reference = host() + "/team/app:1";
        expireTokenAfter = "1"; // the index: every token is refused by the time it is used
        // a registry that never accepts the renewed token either: renewed once, then refused
        registry.removeContext("/token");
        registry.createContext("/token", exchange -> {
            tokenRequests.add(exchange.getRequestURI().getRawQuery());
            respond(exchange, 200, "{\"token\": \"stale\", \"expires_in\": 300}".getBytes(StandardCharsets.UTF_8), "application/json");
        });

        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).prepare(reference))
                .isInstanceOf(OciException.class)
                .hasMessage("pull " + reference + ": unauthorized: authentication required for manifest 1");
        assertThat(tokenRequests).hasSize(1);
    }

    @Test
    void aDecompressionBombIsStoppedAtThePerImageLimitNamingLayerAndLimitAndLeavesNothing() throws Exception {
        byte[] bomb = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("ok", "fine"), LayerUnpackerTest.E.file("zeros", "\0".repeat(32 << 20)));
        byte[] compressed = gzip(bomb);
        publish("1", List.of(bomb), List.of(compressed));
        Digest layer = Sha256.of(compressed);
        String reference = host() + "/team/app:1";
        ImageLimits limits = ImageLimits.defaults().withMaxImageBytes(8L << 20);

        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20, limits).prepare(reference))
                .isInstanceOf(OciException.class)
                .hasMessage("pull " + reference + ": layer " + layer + ": entry zeros (33554432 bytes): the image's files would take more"
                        + " than the limit of 8388608 bytes per image");
        assertThat(compressed.length).as("the bomb's compressed size").isLessThan(1 << 20);
        assertNoScratchLeft();
        assertThat(list(dataDir.resolve("blobs/sha256"))).noneMatch(p -> p.getFileName().toString().equals(layer.hex()));
    }

    @Test
    void aLayerOfTooManyEntriesIsStoppedAtThePerImageLimit() throws Exception {
        LayerUnpackerTest.E[] files = new LayerUnpackerTest.E[2000];
        for (int i = 0; i < files.length; i++) {
            files[i] = LayerUnpackerTest.E.file("f" + i, "");
        }
        byte[] many = LayerUnpackerTest.tar(files);
        publish("1", List.of(many), List.of(gzip(many)));
        String reference = host() + "/team/app:1";
        ImageLimits limits = ImageLimits.defaults().withMaxImageEntries(1000);

        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20, limits).prepare(reference))
                .isInstanceOf(OciException.class)
                .hasMessage("pull " + reference + ": layer " + Sha256.of(gzip(many)) + ": entry f1000: the image has more entries than"
                        + " the limit of 1000 per image");
        assertNoScratchLeft();
    }

    @Test
    void aPullThatWouldTakeTheStoreOverItsDiskBudgetFailsAndGivesItsBytesBack() throws Exception {
        byte[] big = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("noise", randomText(2 << 20)));
        publish("big", List.of(big), List.of(gzip(big)));
        Digest layer = Sha256.of(gzip(big));
        byte[] small = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("hello", "world"));
        publish("small", List.of(small), List.of(gzip(small)), "{\"Cmd\": [\"/small\"]}");
        ImageLimits limits = ImageLimits.defaults().withStoreBudgetBytes(1L << 20);
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults(), 0, limits);

        assertThatThrownBy(() -> store.prepare(host() + "/team/app:big"))
                .isInstanceOf(OciException.class)
                .hasMessageStartingWith("pull " + host() + "/team/app:big: ")
                .hasMessageContaining("the image store's disk budget of 1048576 bytes is used up");
        assertNoScratchLeft();
        assertThat(list(dataDir.resolve("blobs/sha256"))).noneMatch(p -> p.getFileName().toString().contains(layer.hex().substring(0, 12)));

        // what the failed pull claimed was given back: a small image fits
        assertThat(store.prepare(host() + "/team/app:small").config().cmd()).containsExactly("/small");
    }

    @Test
    void anImageConfigClaimingToBeHugeIsRefusedBeforeItIsDownloaded() throws Exception {
        byte[] tar = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("hello", "world"));
        Digest digest = publish("1", List.of(tar), List.of(gzip(tar)));
        String manifest = new String(content.get(digest.toString()), StandardCharsets.UTF_8);
        Digest config = Digest.parse(manifest.replaceAll("(?s).*\"config\": \\{[^}]*\"digest\": \"([^\"]+)\".*", "$1"));
        byte[] huge = manifest.replaceFirst("(\"config\": \\{[^}]*\"size\": )\\d+", "$1" + (64L << 20)).getBytes(StandardCharsets.UTF_8);
        content.put(Sha256.of(huge).toString(), huge);
        types.put(Sha256.of(huge).toString(), Manifests.OCI_MANIFEST);
        String reference = host() + "/team/app@" + Sha256.of(huge);

        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).prepare(reference))
                .isInstanceOf(OciException.class)
                .hasMessage("pull " + reference + ": the image config " + config + " is 67108864 bytes, more than the limit of 4194304 bytes");
        assertThat(requested).doesNotContain(config.toString());
        assertNoScratchLeft();
    }

    private static String randomText(int length) {
        java.util.Random random = new java.util.Random(18);
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append((char) ('!' + random.nextInt(94)));
        }
        return text.toString();
    }

    @Test
    void aLayerThatEscapesTheRootFailsThePullNamingLayerAndEntryAndLeavesNothing() throws Exception {
        byte[] evil = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("ok", "fine"), LayerUnpackerTest.E.file("../../etc/passwd", "root::0:0::/:/bin/sh"));
        publish("1", List.of(evil), List.of(gzip(evil)));
        Digest layer = Sha256.of(gzip(evil));
        String reference = host() + "/team/app:1";

        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).prepare(reference))
                .isInstanceOf(OciException.class)
                .hasMessage("pull " + reference + ": layer " + layer + ": entry ../../etc/passwd escapes the root");
        assertNoScratchLeft();
        assertThat(list(dataDir.resolve("images"))).isEmpty();
        assertThat(dataDir.getParent().resolve("etc")).doesNotExist();
    }

    @Test
    void aBlobWhoseContentDoesNotMatchItsDigestIsRejectedAndNotStored() throws Exception {
        byte[] tar = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("hello", "world"));
        publish("1", List.of(tar), List.of(gzip(tar)));
        Digest layer = Sha256.of(gzip(tar));
        byte[] tampered = gzip(LayerUnpackerTest.tar(LayerUnpackerTest.E.file("hello", "WORLD")));
        content.put(layer.toString(), tampered);
        String reference = host() + "/team/app:1";

        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).prepare(reference))
                .hasMessage("pull " + reference + ": blob " + layer + " failed verification: its content has digest " + Sha256.of(tampered));
        assertThat(dataDir.resolve("blobs/sha256/" + layer.hex())).doesNotExist();
        assertThat(list(dataDir.resolve("blobs/sha256"))).noneMatch(p -> p.getFileName().toString().startsWith(".tmp"));
        assertNoScratchLeft();
        assertThat(list(dataDir.resolve("images"))).isEmpty();
    }

    @Test
    void anImageIsNotRecordedWhenItsConfigCannotBePulledEvenThoughItsLayersWere() throws Exception {
        byte[] tar = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("hello", "world"));
        publish("1", List.of(tar), List.of(gzip(tar)), "{\"Cmd\": [\"/gone\"]}");
        Digest config = Sha256.of(content.entrySet().stream().filter(e -> new String(e.getValue(), StandardCharsets.UTF_8)
                .contains("/gone")).findFirst().orElseThrow().getValue());
        content.remove(config.toString());
        Digest layer = Sha256.of(gzip(tar));
        String reference = host() + "/team/app:1";
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20);

        assertThatThrownBy(() -> store.prepare(reference)).isInstanceOf(OciException.class)
                .hasMessage("pull " + reference + ": manifest unknown"); // what the fake registry says of any unknown blob
        assertThat(requested).contains(layer.toString());
        assertThat(store.list()).isEmpty();
        assertNoScratchLeft();
    }

    @Test
    void aPullInterruptedWhileItsConfigIsStillOnTheWayLeavesNoImageAndALaterPullSucceeds() throws Exception {
        byte[] tar = LayerUnpackerTest.tar(LayerUnpackerTest.E.file("hello", "world"));
        Digest digest = publish("1", List.of(tar), List.of(gzip(tar)), "{\"Cmd\": [\"/slow\"]}");
        Digest config = Sha256.of(content.values().stream().filter(b -> new String(b, StandardCharsets.UTF_8).contains("/slow"))
                .findFirst().orElseThrow());
        Digest layer = Sha256.of(gzip(tar));
        CountDownLatch release = new CountDownLatch(1);
        held.put(config.toString(), release);
        String reference = host() + "/team/app:1";
        ImageStore store = new ImageStore(dataDir, RegistryConfig.defaults(), 8L << 20);
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Thread puller = Thread.ofVirtual().start(() -> {
            try {
                store.prepare(reference);
                failure.complete(null);
            } catch (Throwable t) {
                failure.complete(t);
            }
        });
        // the layer is stored and the drive written while the config is held back; then the pull is interrupted
        while (!Files.isRegularFile(dataDir.resolve("blobs/sha256/" + layer.hex())) || !requested.contains(config.toString())) {
            assertThat(failure).as("the pull ended early").isNotDone();
            Thread.sleep(10);
        }
        puller.interrupt();

        assertThat(failure.get(60, TimeUnit.SECONDS)).isInstanceOf(OciException.class).hasMessageContaining("interrupted");
        assertThat(store.list()).isEmpty();
        assertThat(store.find(digest)).isEmpty();
        assertNoScratchLeft();
        release.countDown();
        assertThat(store.prepare(reference).config().cmd()).containsExactly("/slow");
        assertThat(store.list()).extracting(StoredImage::digest).containsExactly(digest);
    }

    /** The drive of a failed build is gone. */
    private void assertNoScratchLeft() throws IOException {
        assertThat(list(dataDir.resolve("images"))).as("leftovers in images/").isEmpty();
        assertThat(list(dataDir.resolve("tmp"))).as("leftovers in tmp/").isEmpty();
    }

    @Test
    void aSchema1ManifestIsRefusedClearly() {
        content.put("old", "{\"schemaVersion\": 1, \"name\": \"team/app\", \"fsLayers\": []}".getBytes(StandardCharsets.UTF_8));
        types.put("old", Manifests.DOCKER_SCHEMA1_SIGNED);
        String reference = host() + "/team/app:old";

        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).prepare(reference))
                .hasMessage("pull " + reference + ": manifest is Docker schema 1, which is not supported (push the image again with a current client)");
    }

    @Test
    void anInvalidReferenceIsAnOciException() {
        assertThatThrownBy(() -> new ImageStore(dataDir, RegistryConfig.defaults()).prepare("Not/Valid"))
                .isInstanceOf(OciException.class)
                .hasMessageStartingWith("pull Not/Valid: invalid image reference 'Not/Valid'");
    }

    private static List<Path> list(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }
}
