package dev.bolero.agent.cluster;

import static dev.bolero.server.Http.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.bolero.api.ApiJson;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.server.Http.Response;
import dev.bolero.server.cluster.NodeRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Secrets delivered to a real guest: a server (SQLite, in this JVM) and one real agent in its own network namespace,
 * one machine of a real registry's image, run as an unprivileged user. A secret reaches the workload as a variable and
 * as files — one in {@code /run/secrets} (a tmpfs already), one in a directory of the image's disk, on which init mounts
 * a tmpfs — of mode 0400 owned by the workload's user; after the agent restarts, a new boot of the machine gets them
 * again from the server. The values are checked through digests only (an exec's output), and are then looked for, as
 * bytes, in every file of the server's and the node's data directories (databases with their WAL, the machine's drive,
 * logs), in both processes' logs and in the API's answers: they are nowhere. One VM, booted twice.
 */
class SecretsEndToEndTest {
    private static final String NS = "/v1/namespaces/alpha";

    @TempDir
    static Path dir;

    private static TestCluster cluster;
    private static String image;
    private static AgentNode node;
    private static final ListAppender<ILoggingEvent> serverLog = new ListAppender<>();
    private static final List<String> answers = new ArrayList<>();
    private static final String PASSWORD = "pw-" + UUID.randomUUID();
    private static final String TLS_KEY = "-----BEGIN KEY-----\n" + UUID.randomUUID() + "\n-----END KEY-----\n";

    @BeforeAll
    static void setUp() throws Exception {
        serverLog.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(serverLog);
        // Node loss is not under test: the agent's restart (a JVM start on a busy host) must not look like one.
        cluster = TestCluster.builder(dir, "secrets")
                .image("secrets/app:1", ImageSpec.cmd("sh", "-c", "echo up; exec sleep 3600"))
                .timing(new NodeRegistry.Timing(Duration.ofSeconds(1), Duration.ofSeconds(300),
                        Duration.ofSeconds(150)))
                .nodes("s1").start();
        image = cluster.image();
        node = cluster.node("s1");
        assertThat(api("POST", "/v1/namespaces", "{\"name\": \"alpha\"}").status()).isEqualTo(201);
        assertThat(api("POST", NS + "/fleets", "{\"name\": \"app\"}").status()).isEqualTo(201);
    }

    @AfterAll
    static void tearDown() throws Exception {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(serverLog);
        if (cluster != null) cluster.close();
    }

    @Test
    void a_secret_reaches_the_guest_as_a_variable_and_as_files_and_its_value_is_nowhere_else() throws Exception {
        assertThat(api("POST", NS + "/secrets", json("{'name': 'DB_PASSWORD', 'value': '" + PASSWORD + "'}")).status())
                .isEqualTo(201);
        var missing = api("POST", NS + "/fleets/app/machines", json("{'name': 'app-1', 'start': true, 'config': {"
                + "'image': '" + image + "', 'secrets': [{'name': 'tls_key', 'path': '/run/secrets/tls.key'}]}}"));
        assertThat(missing.status()).as("%s", missing).isEqualTo(400);
        assertThat(missing.body()).contains("config.secrets[0].name names no secret of namespace alpha: 'tls_key'");
        assertThat(api("POST", NS + "/secrets", ApiJson.mapper().writeValueAsString(java.util.Map.of("name", "tls_key",
                "value", TLS_KEY))).status()).isEqualTo(201);

        var created = api("POST", NS + "/fleets/app/machines", json("{'name': 'app-1', 'start': true, 'config': {"
                + "'image': '" + image + "', 'init': {'user': '1000:1000'}, 'secrets': ["
                + "{'name': 'DB_PASSWORD', 'env': 'DB_PASSWORD'}, {'name': 'tls_key', 'path': '/run/secrets/tls.key'},"
                + "{'name': 'DB_PASSWORD', 'path': '/etc/app/password'}]}}"));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        String id = created.json().path("id").asString();
        waitRunning(id);
        assertTheGuestHasTheSecrets(id);

        // An agent restart forgets the values (memory only); the next boot gets them from the server again.
        node.kill();
        node.start();
        assertThat(api("POST", NS + "/machines/" + id + "/stop", null).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(machine(id).path("state").asString()).isEqualTo("stopped"));
        assertThat(api("POST", NS + "/machines/" + id + "/start", null).status()).isEqualTo(200);
        waitRunning(id);
        assertTheGuestHasTheSecrets(id);

        // What the APIs show: names and targets, never values.
        JsonNode shown = machine(id);
        assertThat(shown.path("config").path("secrets").toString()).contains("\"name\":\"tls_key\"",
                "\"path\":\"/run/secrets/tls.key\"", "\"env\":\"DB_PASSWORD\"");
        record(api("GET", NS + "/machines", null));
        record(api("GET", NS + "/machines/" + id + "/events", null));
        record(api("GET", NS + "/machines/" + id + "/logs", null));
        record(api("GET", NS + "/secrets", null));
        record(call("GET", node.url() + "/api/v1/machines/" + id, null, null));
        record(call("GET", node.url() + "/api/v1/machines/" + id + "/events", null, null));
        record(call("GET", node.url() + "/api/v1/machines", null, null));
        var standalone = call("POST", node.url() + "/api/v1/machines", null, json("{'config': {'image': '" + image
                + "', 'secrets': [{'name': 'DB_PASSWORD', 'env': 'DB_PASSWORD'}]}}"));
        assertThat(standalone.status()).as("the node's own API takes no secrets: %s", standalone).isEqualTo(400);
        assertThat(standalone.body()).contains("config.secrets needs a control plane");
        var suspend = call("POST", node.url() + "/api/v1/machines/" + id + "/suspend", null, null);
        assertThat(suspend.status()).as("its memory would hold the secrets on disk: %s", suspend).isEqualTo(400);
        assertThat(suspend.body()).contains("it has secrets");

        for (String value : List.of(PASSWORD, TLS_KEY.strip().split("\n")[1])) {
            synchronized (answers) {
                assertThat(answers).as("API answers").noneMatch(a -> a.contains(value));
            }
            assertThat(filesContaining(dir.resolve("server"), value)).as("server data files holding the value").isEmpty();
            assertThat(filesContaining(node.dataDir, value)).as("node data files holding the value").isEmpty();
            synchronized (node.output) {
                assertThat(node.output).as("the agent's log").noneMatch(l -> l.contains(value));
            }
            assertThat(serverLog.list).as("the server's log").noneMatch(e -> e.getFormattedMessage().contains(value)
                    || e.getThrowableProxy() != null && ThrowableProxyUtil.asString(e.getThrowableProxy()).contains(value));
        }
        assertThat(filesContaining(dir.resolve("server"), "CREATE TABLE secrets")).as("sanity: the search works")
                .isNotEmpty();
        assertThat(filesContaining(node.dataDir, "/run/secrets/tls.key")).as("sanity: the node keeps the spec")
                .isNotEmpty();
    }

    /**
     * The workload's environment (inherited by exec) has the variable, and both files are there, 0400, owned by the
     * workload's user, on a tmpfs, with the values — compared by SHA-256, so no value travels back.
     */
    private static void assertTheGuestHasTheSecrets(String id) {
        String script = "printf %s \"$DB_PASSWORD\" | sha256sum; sha256sum < /run/secrets/tls.key;"
                + " sha256sum < /etc/app/password; stat -c '%a %u:%g' /run/secrets/tls.key /etc/app/password;"
                + " stat -f -c %T /run/secrets /etc/app; id -u";
        var exec = api("POST", NS + "/machines/" + id + "/exec",
                ApiJson.mapper().writeValueAsString(java.util.Map.of("cmd", List.of("sh", "-c", script))));
        assertThat(exec.status()).as("%s", exec).isEqualTo(200);
        record(exec);
        String out = exec.json().path("stdout").asString();
        assertThat(exec.json().path("exit_code").asInt()).as("%s", exec.body()).isZero();
        assertThat(out.lines().map(l -> l.split(" ")[0]).toList()).as(out).containsExactly(sha256(PASSWORD),
                sha256(TLS_KEY), sha256(PASSWORD), "400", "400", "tmpfs", "tmpfs", "1000");
        assertThat(out.lines().skip(3).limit(2).toList()).as(out).allMatch(l -> l.endsWith(" 1000:1000"));
    }

    private static void waitRunning(String id) {
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            JsonNode m = machine(id);
            assertThat(m.path("state").asString()).as("%s", m).isEqualTo("running");
            assertThat(node.localState(id)).isEqualTo("running");
        });
    }

    /** The regular files under {@code root} whose bytes contain {@code value}'s UTF-8 bytes. */
    private static List<Path> filesContaining(Path root, String value) throws IOException {
        byte[] needle = value.getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).filter(f -> contains(f, needle)).toList();
        }
    }

    private static boolean contains(Path file, byte[] needle) {
        byte[] buffer = new byte[1 << 20];
        int kept = 0;
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buffer, kept, buffer.length - kept)) > 0) {
                int end = kept + n;
                if (indexOf(buffer, end, needle) >= 0) return true;
                kept = Math.min(needle.length - 1, end);
                System.arraycopy(buffer, end - kept, buffer, 0, kept);
            }
            return false;
        } catch (IOException e) {
            return false; // a socket or a file removed meanwhile
        }
    }

    private static int indexOf(byte[] haystack, int length, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    private static String sha256(String value) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String json(String singleQuoted) {
        return singleQuoted.replace('\'', '"');
    }

    private static JsonNode machine(String id) {
        var r = api("GET", NS + "/machines/" + id, null);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return record(r).json();
    }

    private static Response record(Response r) {
        synchronized (answers) {
            answers.add(r.body());
        }
        return r;
    }

    private static Response api(String method, String path, String body) {
        return record(cluster.api(method, path, body));
    }
}
