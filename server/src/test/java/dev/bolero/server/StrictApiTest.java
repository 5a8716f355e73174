package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.testing.OversizedRequest;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The public API through a real server (SQLite): bodies are parsed strictly and every refusal, including routes that
 * do not exist, wrong methods, oversized bodies and bodies that are not JSON, is the API's JSON error.
 */
class StrictApiTest {
    private static final String ADMIN = ClusterSuite.ADMIN;
    private static final String FLEETS = "/v1/namespaces/alpha/fleets";
    private static final String MACHINES = FLEETS + "/web/machines";

    @TempDir
    static Path dataDir;
    static Server server;
    static Http http;

    @BeforeAll
    static void start() {
        server = Server.start(ClusterSuite.config(dataDir, Optional.empty()));
        http = new Http(server.port());
        assertThat(http.post("/v1/namespaces", ADMIN, Map.of("name", "alpha")).status()).isEqualTo(201);
        assertThat(http.post(FLEETS, ADMIN, Map.of("name", "web")).status()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static Stream<Arguments> refusedBodies() {
        return Stream.of(
                Arguments.of(FLEETS, "{\"name\": 123}", "create fleet: name must be a string"),
                Arguments.of(FLEETS, "{\"name\": true}", "create fleet: name must be a string"),
                Arguments.of(FLEETS, "{\"name\": \"a\", \"name\": \"b\"}", "create fleet: duplicate field 'name'"),
                Arguments.of(FLEETS, "{\"name\": \"a\", \"strategy\": 0}",
                        "create fleet: strategy must be one of spread, binpack"),
                Arguments.of(FLEETS, "{\"name\": \"a\", \"config\": {\"guest\": {\"memory_mb\": \"512\"}}}",
                        "create fleet: config.guest.memory_mb must be an integer"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"busybox\", \"guest\": {\"memory_mb\": \"512\"}}}",
                        "create machine: config.guest.memory_mb must be an integer"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"busybox\", \"guest\": {\"memory_mb\": 512.5}}}",
                        "create machine: config.guest.memory_mb must be an integer"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"busybox\", \"guest\": {\"cpus\": null, \"cpus\": 1}}}",
                        "create machine: duplicate field 'config.guest.cpus'"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"busybox\"}, \"start\": \"true\"}",
                        "create machine: start must be true or false"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"busybox\"}, \"start\": 1}",
                        "create machine: start must be true or false"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": 7}}", "create machine: config.image must be a string"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"busybox\", \"env\": {\"A\": 1}}}",
                        "create machine: config.env.A must be a string"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"busybox\", \"services\": [{\"port\": \"80\"}]}}",
                        "create machine: config.services[0].port must be an integer"),
                Arguments.of(MACHINES, "{\"config\": {\"image\": \"busybox\"}} trailing",
                        "create machine: malformed JSON"),
                Arguments.of(MACHINES, "[]", "create machine: the request body must be an object"));
    }

    @ParameterizedTest
    @MethodSource("refusedBodies")
    void aBodyOfTheWrongShapeIsA400NamingTheFieldAndNoJavaType(String path, String body, String message) {
        var refused = http.post(path, ADMIN, body);
        assertThat(refused.status()).as("%s", refused).isEqualTo(400);
        assertThat(refused.errorCode()).isEqualTo("invalid_argument");
        String said = refused.json().path("error").path("message").asString();
        assertThat(said).startsWith(message)
                .doesNotContainPattern("java|class |`|Feature|dev\\.bolero|Integer|Boolean|(?i)coerc");
        assertThat(http.get(FLEETS + "/123", ADMIN).status()).as("nothing made of a refused body").isEqualTo(404);
    }

    @Test
    void anUnknownRouteIsA404InTheErrorShape() {
        var unknown = http.get("/v1/nothing/here", ADMIN);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.errorCode()).isEqualTo("not_found");
        assertThat(unknown.json().path("error").path("message").asString()).isEqualTo("no route GET /v1/nothing/here");
    }

    @Test
    void aPathTheHttpServerRefusesBeforeRoutingIsA400InTheErrorShape() {
        // A NUL in a path segment: Jetty refuses it before any route (found by ServerApiFuzzTest: an HTML page).
        var refused = http.get("/v1/namespaces/%00/secrets", ADMIN);
        assertThat(refused.status()).as("%s", refused).isEqualTo(400);
        assertThat(refused.errorCode()).isEqualTo("invalid_argument");
        assertThat(refused.errorMessage()).startsWith("refused by the server: ");
    }

    @Test
    void aKnownRouteWithAnotherMethodIsA405ListingTheAllowedOnes() {
        var wrong = http.send("PATCH", FLEETS + "/web", ADMIN, "{}");
        assertThat(wrong.status()).as("%s", wrong).isEqualTo(405);
        assertThat(wrong.errorCode()).isEqualTo("method_not_allowed");
        assertThat(wrong.header("Allow")).hasValue("GET, PUT, DELETE");
        var post = http.post("/v1/namespaces/alpha", ADMIN, "{}");
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.header("Allow")).hasValue("GET");
    }

    @Test
    void aBodyOverTheLimitIsA413() throws Exception {
        var refused = OversizedRequest.post(server.port(), FLEETS, Optional.of(ADMIN), 2 << 20);
        assertThat(refused.status()).as("%s", refused).isEqualTo(413);
        assertThat(refused.errorCode()).isEqualTo("too_large");
    }

    @Test
    void aBodyThatIsNotJsonIsA415() {
        var text = Http.call("POST", "http://127.0.0.1:" + server.port() + FLEETS, ADMIN, "name=web", "text/plain");
        assertThat(text.status()).as("%s", text).isEqualTo(415);
        assertThat(text.errorCode()).isEqualTo("unsupported_media_type");
        assertThat(text.json().path("error").path("message").asString()).contains("text/plain");
        var form = Http.call("POST", "http://127.0.0.1:" + server.port() + FLEETS, ADMIN, "name=web",
                "application/x-www-form-urlencoded");
        assertThat(form.status()).isEqualTo(415);
        var json = Http.call("POST", "http://127.0.0.1:" + server.port() + FLEETS, ADMIN, "{\"name\": \"typed\"}",
                "application/json; charset=utf-8");
        assertThat(json.status()).as("%s", json).isEqualTo(201);
    }
}
